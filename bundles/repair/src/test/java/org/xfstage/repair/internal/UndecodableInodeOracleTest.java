package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.device.internal.XfsDeviceServiceImpl;

/**
 * Inodes that do not decode and directories whose format does not go with their size or extent map (issue 18), each
 * a recipe of NamespaceRecipes that the repair refused before, answered as xfs_repair 6.1 answers it on a damaged copy:
 * a bad magic is reset and the file kept ("bad magic number 0x0 on inode N, resetting magic number"); a wrong inode
 * number or uuid, a negative size, a type against its format cleared ("inode identifier 5 mismatch", "UUID mismatch",
 * "bad (negative) size", "bad inode format in inode N"), as is a directory of bad size or format ("mismatch between
 * format (2) and size (300) in directory ino N", "bad size/format for directory N"), whose files go to lost+found
 * ("disconnected inode N, moving to lost+found"), unless its blocks prove its size (better than xfs_repair: the
 * directory keeps its files). After repair --apply the image is clean for us and for xfs_repair
 * -n; the manifest is the original's without exactly the files the plans list as lost, with a cleared directory's
 * files under /lost+found/INO (INO: the number of the file the directory named), and nothing else changed; undo
 * restores the damaged image bit for bit. The recipes take the default, rmapbt, noreflink-nofinobt and b1024
 * geometries in turn; NamespaceRepairMatrixTest runs them on all seven.
 */
class UndecodableInodeOracleTest extends OracleEngine {

    /** Geometry, recipe name, the damage, the paths the repair must list as lost, the directories among them. */
    static Stream<Arguments> recipes() {
        return Stream.of(
                Arguments.of("default", "inode-magic", List.of("path /size-4096", "write -d core.magic 0"), Set.of()),
                Arguments.of("rmapbt", "inode-uuid", List.of("path /size-4096", "write -d v3.uuid 01234567-89ab-cdef-0123-456789abcdef"),
                        Set.of("/size-4096")),
                Arguments.of("noreflink-nofinobt", "file-format-local", List.of("path /size-100", "write -d core.format 1"),
                        Set.of("/size-100")),
                // once RepairOracleTest's out of scope: a fork offset past the inode ("bad attr fork offset"), and a
                // file in local format on 1 KiB blocks
                Arguments.of("default", "forkoff-past-inode", List.of("path /size-1", "write -d core.forkoff 100"), Set.of("/size-1")),
                Arguments.of("b1024", "file-format-local", List.of("path /size-100", "write -d core.format 1"), Set.of("/size-100")),
                Arguments.of("default", "symlink-format-btree", List.of("path /link-long", "write -d core.format 3"), Set.of("/link-long")),
                // a directory whose size fits the inode but which is not short form: xfs_repair clears it, here its
                // blocks prove its size (a single-block and a leaf directory, on b1024 the leaf's blocks 4 KiB of 1 KiB)
                Arguments.of("rmapbt", "dir-size-format", List.of("path /block", "write -d core.size 100"), Set.of()),
                Arguments.of("b1024", "dir-size-local", List.of("path /leaf", "write -d core.size 300"), Set.of()),
                // a directory cleared: its extent map cut short by its count; its format DEV; its mode a regular
                // file's (then its short-form format is no file's)
                Arguments.of("noreflink-nofinobt", "dir-nextents", List.of("path /leaf", "write -d core.nextents 2"), Set.of("/leaf")),
                Arguments.of("default", "dir-format-dev", List.of("path /deep", "write -d core.format 0"), Set.of("/deep")),
                Arguments.of("rmapbt", "dir-mode-file", List.of("path /sf", "write -d core.mode 0100644"), Set.of("/sf")));
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("recipes")
    void repairedAsXfsRepairRepairsIt(String geometry, String recipe, List<String> commands, Set<String> lost) throws Exception {
        Path base = RepairOracleTest.base(geometry);
        Map<String, Long> inodes = new HashMap<>();
        try (XfsDevice d = new XfsDeviceServiceImpl().open(base, OpenOptions.readOnly())) {
            List<ManifestEntry> all = new ArrayList<>();
            d.manifest(false, Progress.NONE, all::add);
            all.forEach(e -> inodes.put(e.path(), e.inode()));
        }
        Path img = dir.resolve(geometry + "-" + recipe + ".img");
        SparseFiles.copy(base, img);
        List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db"), "-x"));
        commands.forEach(c -> {
            cmd.add("-c");
            cmd.add(c);
        });
        cmd.add(img.toString());
        CorpusImages.run(cmd);
        String damaged = RepairOracleTest.sha256(img);
        assertTrue(CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString())).getKey() != 0,
                recipe + " is damage to xfs_repair -n");

        Path journal = dir.resolve(geometry + "-" + recipe + ".undo");
        RepairReport done = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        List<String> changes = done.plans().stream().flatMap(p -> p.changes().stream()).toList();
        assertFalse(done.before().clean(), recipe + " is damage");
        assertTrue(done.applied() && done.after().clean(), recipe + ": clean after repair: " + done.unrepaired() + " "
                + (done.after() == null ? "" : done.after().findings()) + " " + changes);
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), recipe + ": xfs_repair -n after our repair:\n" + check.getValue());

        Set<String> listed = new TreeSet<>();
        changes.stream().filter(c -> c.startsWith("lost: ")).forEach(c -> listed.add(c.substring("lost: ".length(), c.indexOf(" (inode "))));
        assertEquals(new TreeSet<>(lost), listed, recipe + ": the files listed as lost: " + changes);
        if (lost.isEmpty()) {
            assertTrue(changes.stream().anyMatch(c -> c.contains("-> set right") || c.contains("size set to what its blocks make it")),
                    recipe + ": the header or the size set right: " + changes);
        }
        // a directory's size changes with the entries dropped from it or added: directories are compared without it
        java.util.function.UnaryOperator<String> sizeless = line -> line.replaceFirst("^(\\S+ DIRECTORY \\d+) \\d+ ", "$1 _ ");
        List<String> expected = new ArrayList<>();
        for (String line : RepairOracleTest.manifest(base)) {
            String path = line.substring(0, line.indexOf(' '));
            String gone = lost.stream().filter(p -> path.equals(p) || path.startsWith(p + "/")).findFirst().orElse(null);
            if (gone == null) {
                expected.add(sizeless.apply(line));
            } else if (!path.equals(gone)) {
                // under a cleared directory: moved with its subtree, named by the number of what the directory named
                String rest = path.substring(gone.length() + 1);
                String child = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
                String to = "/lost+found/" + inodes.get(gone + "/" + child) + rest.substring(child.length());
                expected.add(sizeless.apply(to + line.substring(path.length())));
            }
        }
        List<String> after = RepairOracleTest.manifest(img).stream().map(sizeless).toList();
        after.stream().filter(l -> l.startsWith("/lost+found ")).forEach(expected::add); // made by the repair
        assertEquals(expected.stream().sorted().toList(), after.stream().sorted().toList(), recipe + ": every other file as it was");
        System.out.printf("UNDECODABLE %-20s %-22s repaired: %s%n", geometry, recipe, changes.size() > 8 ? changes.subList(0, 8) : changes);
        assertEquals(done.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, RepairOracleTest.sha256(img), recipe + ": undo restores the damaged image bit for bit");
    }
}
