package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;

/**
 * Inodes too broken to trust, cleared as xfs_repair clears them, and attribute forks it cannot read, dropped (issue
 * 18): each recipe is one of NamespaceRecipes' that xfs_repair 6.1 answers by clearing the inode ("cleared inode N")
 * or its attributes ("clearing inode N attributes"), checked by running it on a damaged copy. After repair --apply the
 * image is clean for us and for xfs_repair -n; the manifest is the original's without exactly the files the plans
 * list as lost ("lost: PATH (inode N, cleared: ...)"), and a file whose attributes were dropped keeps its data; the
 * later rounds of plans gave back what the cleared inode held (its blocks, its inode in the inode btrees and
 * counters, the entry naming it); undo restores the damaged image bit for bit. On the default geometry, rmapbt (the
 * rmapbt loses the inode's records) and noreflink-nofinobt (no finobt, and the reflink flag is damage there), the
 * recipes taking them in turn; {@code -Dxfstage.matrix=full} runs every recipe on all three.
 */
class InodeClearOracleTest extends OracleEngine {




    /** Recipe name, the damage, the paths the repair must list as lost (none: the attributes dropped, or a link's headers set). */
    static Stream<Arguments> cleared() {
        List<Arguments> recipes = List.of(
                // inode cores xfs_repair clears: "size of character device inode N != 0", a fifo's alike, "bad attr
                // fork offset" (the file's blocks come back to free space), a symlink whose size says local while its
                // fork maps a block ("mismatch between format (2) and size")
                Arguments.of("chardev-size", List.of("path /null-dev", "write -d core.size 100"), Set.of("/null-dev")),
                Arguments.of("fifo-size", List.of("path /pipe", "write -d core.size 100"), Set.of("/pipe")),
                Arguments.of("forkoff", List.of("path /size-65553", "write -d core.forkoff 42"), Set.of("/size-65553")),
                Arguments.of("symlink-local", List.of("path /link-long", "write -d core.size 7"), Set.of("/link-long")),
                // the same with the inode's checksum left wrong (NamespaceRecipes' symlink-local): xfs_repair rewrites the
                // checksum ("bad CRC for inode N, will rewrite"), then clears it; here the first round writes the
                // checksum and the second, reading the inode, clears it. A checksum alone is written again, the file kept
                Arguments.of("symlink-local-badcrc", List.of("path /link-long", "write -c core.size 7"), Set.of("/link-long")),
                Arguments.of("inode-crc", List.of("path /size-4096", "write -c core.gid 7"), Set.of()),
                // symlinks whose target does not read: "problem with symbolic link in inode N"
                Arguments.of("symlink-size", List.of("path /link-long", "write -d core.size 100"), Set.of("/link-long")),
                Arguments.of("symlink-size-too-long", List.of("path /link-long", "write -d core.size 2000"), Set.of("/link-long")),
                Arguments.of("symlink-short-size", List.of("path /link-short", "write -d core.size 50"), Set.of("/link-short")),
                // remote blocks whose target still reads and agrees with the size: their headers written again, the
                // link kept (xfs_repair rewrites the checksum; a wrong owner it clears, where the target proves it)
                Arguments.of("symlink-remote-owner", List.of("path /link-long", "dblock 0", "type symlink", "write -d owner 5"), Set.of()),
                Arguments.of("symlink-remote-crc", List.of("path /link-long", "dblock 0", "type symlink", "write -c lsn 7"), Set.of()),
                Arguments.of("symlink-remote-offset", List.of("path /link-long", "dblock 0", "type symlink", "write -d offset 7"),
                        Set.of("/link-long")),
                // attribute forks xfs_repair clears ("clearing inode N attributes"): a leaf's hash, a remote value's
                // checksum (both salvaged here since api device 2.7: XattrLeafSalvageOracleTest), a leaf's owner
                // (dropped here too; the leaf and the value blocks come back to free space). Not here: short-form
                // damage, where xfs_repair keeps the entries before the bad one
                Arguments.of("xattr-leaf-hash", NamespaceRecipes.withAttributes("leaf", "ablock 0", "write -d entries[0].hashval 5"), Set.of()),
                Arguments.of("xattr-remote-crc", NamespaceRecipes.withAttributes("leaf", "ablock 1", "write -c hdr.lsn 7"), Set.of()),
                Arguments.of("xattr-leaf-owner", NamespaceRecipes.withAttributes("leaf", "ablock 0", "write -d hdr.info.owner 5"), Set.of()));
        List<String> geometries = List.of("default", "rmapbt", "noreflink-nofinobt");
        if ("full".equals(System.getProperty("xfstage.matrix"))) {
            return geometries.stream().flatMap(g -> recipes.stream().map(a -> Arguments.of(g, a.get()[0], a.get()[1], a.get()[2])));
        }
        // the default build: the recipes take the geometries in turn (each about 3 s), every geometry met by a file
        // whose blocks come back, a symlink and an attribute fork
        return java.util.stream.IntStream.range(0, recipes.size()).mapToObj(n -> {
            Object[] a = recipes.get(n).get();
            return Arguments.of(geometries.get(n % geometries.size()), a[0], a[1], a[2]);
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cleared")
    void anInodeXfsRepairClearsIsClearedAndWhatItHeldGivenBack(String geometry, String recipe, List<String> commands, Set<String> lost)
            throws Exception {
        clearAndUndo(geometry, recipe, commands, lost);
    }

    /** Where reflink is off, the reflink flag on a file is damage xfs_repair answers by clearing the file. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("noReflink")
    void aReflinkFlagWithoutTheFeatureClearsTheFile(String geometry) throws Exception {
        clearAndUndo(geometry, "reflink-flag-file", List.of("path /size-100", "write -d v3.reflink 1"), Set.of("/size-100"));
    }

    /**
     * A directory xfs_repair clears (the reflink flag on /deep: "reflink flag set on non-file inode"): /deep is lost, its
     * subdirectory /deep/a, which no directory names then, goes to lost+found with what it holds ("disconnected dir
     * inode N, moving to lost+found"), the root's link count drops by one.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("noReflink")
    void aClearedDirectorysSubdirectoryGoesToLostFound(String ignored) throws Exception {
        long a;
        try (org.xfstage.api.device.XfsDevice d = new org.xfstage.device.internal.XfsDeviceServiceImpl().open(RepairOracleTest.base("default"),
                org.xfstage.api.device.OpenOptions.readOnly())) {
            List<org.xfstage.api.device.ManifestEntry> all = new ArrayList<>();
            d.manifest(false, Progress.NONE, all::add);
            a = all.stream().filter(e -> e.path().equals("/deep/a")).findFirst().orElseThrow().inode();
        }
        clearAndUndo("default", "reflink-on-directory", List.of("path /deep", "write -d v3.reflink 1"), Set.of("/deep"),
                java.util.Map.of("/deep/a", "/lost+found/" + a));
    }

    static Stream<String> noReflink() {
        return Stream.of("noreflink-nofinobt");
    }

    /**
     * An AGI unlinked bucket naming an inode in use, on a clean log: xfs_repair 6.1 empties the bucket ("agi unlinked
     * bucket N is I in ag A") and frees nothing; an orphan (link count 0, named by no directory) is moved to lost+found
     * ("disconnected inode I, moving to lost+found"), its data kept, where the kernel's log recovery would have freed
     * it. So here: the bucket emptied, the orphan made /lost+found/INO (lost+found made, as the corpus has none), its
     * link count 1, every other file as it was. The orphan is /sf's last entry, cut off by the count and size of /sf
     * (an entry is 38 bytes), its link count set to 0 and put in its AG's bucket.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("orphans")
    void anInodeInUseOnAnUnlinkedListIsKeptAsXfsRepairKeepsIt(String geometry, boolean orphan) throws Exception {
        String path = orphan ? "/sf/entry-00002-with-a-longer-name" : "/size-1";
        long ino;
        try (org.xfstage.api.device.XfsDevice d = new org.xfstage.device.internal.XfsDeviceServiceImpl().open(RepairOracleTest.base(geometry),
                org.xfstage.api.device.OpenOptions.readOnly())) {
            List<org.xfstage.api.device.ManifestEntry> all = new ArrayList<>();
            d.manifest(false, Progress.NONE, all::add);
            ino = all.stream().filter(e -> e.path().equals(path)).findFirst().orElseThrow().inode();
        }
        Path img = dir.resolve(geometry + "-unlinked.img");
        SparseFiles.copy(RepairOracleTest.base(geometry), img);
        String at = CorpusImages.run(List.of(CorpusImages.tool("xfs_db"), "-r", "-c", "convert inode " + ino + " agno", "-c",
                "convert inode " + ino + " agino", img.toString()));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\((\\d+)\\)").matcher(at);
        assertTrue(m.find(), at);
        String agno = m.group(1);
        assertTrue(m.find(), at);
        long agino = Long.parseLong(m.group(1));
        List<String> commands = new ArrayList<>();
        if (orphan) {
            commands.addAll(List.of("path /sf", "write -d u3.sfdir3.hdr.count 2", "write -d core.size 82", "inode " + ino,
                    "write -d core.nlinkv2 0"));
        }
        commands.addAll(List.of("agi " + agno, "write -d unlinked[" + (agino % 64) + "] " + agino));
        List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db"), "-x"));
        commands.forEach(c -> {
            cmd.add("-c");
            cmd.add(c);
        });
        cmd.add(img.toString());
        CorpusImages.run(cmd);
        String damaged = RepairOracleTest.sha256(img);
        java.util.function.UnaryOperator<String> sizeless = line -> line.replaceFirst("^(\\S+ DIRECTORY \\d+) \\d+ ", "$1 _ ");
        List<String> expected = new ArrayList<>(RepairOracleTest.manifest(RepairOracleTest.base(geometry)).stream()
                .map(l -> orphan && l.startsWith(path + " ") ? "/lost+found/" + ino + l.substring(path.length()) : l).map(sizeless).toList());

        Path journal = dir.resolve(geometry + "-unlinked.undo");
        RepairReport done = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        List<String> changes = done.plans().stream().flatMap(p -> p.changes().stream()).toList();
        assertTrue(done.applied() && done.after().clean(), "clean after repair: " + done.after().findings() + " " + changes);
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), "xfs_repair -n after our repair:\n" + check.getValue());
        assertTrue(changes.stream().anyMatch(c -> c.contains("inode " + ino + " (in use) -> empty")), changes.toString());
        List<String> after = RepairOracleTest.manifest(img).stream().map(sizeless).toList();
        if (orphan) {
            expected.addAll(after.stream().filter(l -> l.startsWith("/lost+found ")).toList());
        }
        assertEquals(expected.stream().sorted().toList(), after.stream().sorted().toList(), "every file kept, the orphan in lost+found");
        System.out.printf("CLEAR %-20s %-22s repaired: %s%n", geometry, orphan ? "orphan" : "unlinked-named", changes);
        assertEquals(done.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, RepairOracleTest.sha256(img), "undo restores the damaged image bit for bit");
    }

    static Stream<Arguments> orphans() {
        return Stream.of(Arguments.of("default", true), Arguments.of("rmapbt", false));
    }

    private void clearAndUndo(String geometry, String recipe, List<String> commands, Set<String> lost) throws Exception {
        clearAndUndo(geometry, recipe, commands, lost, java.util.Map.of());
    }

    /** {@code moved}: a path under a cleared directory to where it must be after the repair (in lost+found). */
    private void clearAndUndo(String geometry, String recipe, List<String> commands, Set<String> lost, java.util.Map<String, String> moved)
            throws Exception {
        Path img = dir.resolve(geometry + "-" + recipe + ".img");
        SparseFiles.copy(RepairOracleTest.base(geometry), img);
        CorpusImages.xfsDb(img, commands);
        List<String> before = RepairOracleTest.manifest(RepairOracleTest.base(geometry));
        String damaged = RepairOracleTest.sha256(img);

        RepairReport dry = engine.repair(img, new RepairOptions(false, null), Progress.NONE);
        assertFalse(dry.before().clean(), recipe + " is damage");
        assertTrue(dry.unrepaired().isEmpty(), recipe + ": every finding has a plan: " + dry);
        assertEquals(damaged, RepairOracleTest.sha256(img), "a dry run writes nothing");

        Path journal = dir.resolve(geometry + "-" + recipe + ".undo");
        RepairReport done = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        List<String> changes = done.plans().stream().flatMap(p -> p.changes().stream()).toList();
        assertTrue(done.applied() && done.after().clean(), recipe + ": clean after repair: " + done.after().findings() + " " + changes);
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), recipe + ": xfs_repair -n after our repair:\n" + check.getValue());

        // the lost files are exactly those the plans list, and exactly the ones expected
        Set<String> listed = new TreeSet<>();
        for (String c : changes) {
            if (c.startsWith("lost: ")) {
                listed.add(c.substring("lost: ".length(), c.indexOf(" (inode ")));
            }
        }
        assertEquals(new TreeSet<>(lost), listed, recipe + ": the files listed as lost: " + changes);
        if (lost.isEmpty()) {
            assertTrue(changes.stream().anyMatch(c -> c.startsWith("attributes dropped: /size-100 ") || c.startsWith("attributes salvaged: /size-100 ")
                    || c.contains("remote block header(s) written again") || c.contains("checksum written again")), changes.toString());
        }
        // a directory's size changes with the entry dropped from it: directories are compared without their size
        java.util.function.UnaryOperator<String> sizeless = line -> line.replaceFirst("^(\\S+ DIRECTORY \\d+) \\d+ ", "$1 _ ");
        List<String> expected = new ArrayList<>(before.stream().filter(l -> lost.stream().noneMatch(p -> l.startsWith(p + " ")))
                .map(l -> {
                    for (java.util.Map.Entry<String, String> e : moved.entrySet()) {
                        if (l.startsWith(e.getKey() + " ") || l.startsWith(e.getKey() + "/")) {
                            return e.getValue() + l.substring(e.getKey().length());
                        }
                    }
                    return l;
                }).map(sizeless).toList());
        List<String> after = RepairOracleTest.manifest(img).stream().map(sizeless).toList();
        if (!moved.isEmpty()) {
            expected.addAll(after.stream().filter(l -> l.startsWith("/lost+found ")).toList()); // made by the repair
        }
        assertEquals(expected.stream().sorted().toList(), after.stream().sorted().toList(), recipe + ": every other file intact");
        System.out.printf("CLEAR %-20s %-22s repaired: %s%n", geometry, recipe, changes);

        assertEquals(done.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, RepairOracleTest.sha256(img), recipe + ": undo restores the damaged image bit for bit");
    }
}
