package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
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
 * The directory repairs of issue 18 that need the node form or more blocks than a directory maps, against xfs_repair
 * -n: node directories rebuilt into their own blocks (the namespace recipes that damage /node, and a data block's
 * file type), a lost+found that outgrows short form (a data block of /leaf lost, its 80-odd files named in
 * lost+found: made as a directory of blocks, or grown from the short form xfs_repair made), and a directory named by
 * two directories (the name its ".." names kept). Each: every finding planned, applied, our scrub and xfs_repair -n
 * clean after, every file kept (those no directory names any more as lost+found/INO, with their content), undo exact.
 * The free-space btrees, counters and rmapbt that the new directory blocks make wrong are planned in the engine's
 * later rounds; the plans show them.
 * <p>
 * By default each node recipe runs on one geometry (default and b1024 in turn, the two corpus geometries whose /node
 * is a node directory with 4 KiB directory blocks), lost+found grows on two and the named-twice cases run on two;
 * {@code -Dxfstage.matrix=full} runs each on every geometry listed.
 */
class DirectoryGrowthOracleTest extends OracleEngine {

    @TempDir
    static Path fixtures;



    /**
     * The namespace recipes that damage /node (keys, pointers, counts, levels, the free index), and a data block's file
     * type, which RepairOracleTest had as out of scope while node directories were refused.
     */
    static Stream<Arguments> nodeRecipes() {
        List<String[]> recipes = new ArrayList<>();
        for (NamespaceRecipes.Recipe r : NamespaceRecipes.all()) {
            if (r.name().startsWith("dir-") && String.join(" ", r.commands()).contains("path /node") && !r.name().startsWith("dir8k-")
                    && r.structures().equals(java.util.Set.of("directory"))) {
                recipes.add(new String[] {r.name(), String.join("\n", r.commands())});
            }
        }
        recipes.add(new String[] {"dir-node-data-filetype", "path /node\ndblock 0\nwrite -d du[3].filetype 5"});
        List<Arguments> out = new ArrayList<>();
        for (int i = 0; i < recipes.size(); i++) {
            for (String g : full() ? List.of("default", "b1024") : List.of(i % 2 == 0 ? "default" : "b1024")) {
                out.add(Arguments.of(g, recipes.get(i)[0], List.of(recipes.get(i)[1].split("\n"))));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nodeRecipes")
    void aDamagedNodeDirectoryIsRebuiltInItsOwnBlocks(String geometry, String recipe, List<String> commands) throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of(geometry);
        NamespaceRecipes.Recipe known = NamespaceRecipes.all().stream().filter(r -> r.name().equals(recipe)).findFirst().orElse(null);
        if (known != null && known.notApplicable().apply(g) != null) {
            org.junit.jupiter.api.Assumptions.abort(known.notApplicable().apply(g));
        }
        List<String> changes = repairAndCheck(geometry, recipe, g.resolve(commands), CorpusImages.image(geometry));
        String node = g.resolve("${ino:/node}");
        assertTrue(changes.stream().anyMatch(c -> c.startsWith("directory inode " + node + " rebuilt")), "/node rebuilt: " + changes);
    }

    /**
     * A data block of /leaf whose magic is damaged: its entries are lost, /leaf is rebuilt from the others, and the
     * 80-odd files they named go to lost+found, more than a short-form inode holds: on the corpus images (no
     * lost+found) it is made a directory of blocks in a free inode; on "lf-G" (a short-form lost+found xfs_repair
     * made, holding one file) it grows into a block. The blocks come from free space; the free-space btrees, the AGF,
     * the superblock counters and (rmapbt) the rmapbt follow in the next rounds.
     */
    static Stream<Arguments> lostFoundGrowths() {
        return (full() ? Stream.of("default", "b1024", "lf-rmapbt", "lf-default", "lf-b1024") : Stream.of("default", "lf-rmapbt"))
                .map(Arguments::of);
    }

    static boolean full() {
        return "full".equals(System.getProperty("xfstage.matrix"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lostFoundGrowths")
    void aLostFoundThatOutgrowsShortFormTakesBlocksAndFreeSpaceFollows(String geometry) throws Exception {
        long blockSize;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(base(geometry), OpenOptions.readOnly())) {
            blockSize = d.info().blockSize();
        }
        long d1 = 4096 / blockSize; // the corpus's directory blocks are 4 KiB: the second data block
        List<String> changes = repairAndCheck(geometry, "leaf-data-block-lost", List.of("path /leaf", "dblock " + d1,
                "write -d dhdr.hdr.magic 0"), base(geometry));
        long named = changes.stream().filter(c -> c.contains("(disconnected) named lost+found/")).count();
        assertTrue(changes.stream().anyMatch(c -> c.contains("disconnected file(s) named in it") || c.contains("made /lost+found")),
                changes.toString());
        assertTrue(changes.stream().anyMatch(c -> c.contains("block(s) added to")) || changes.stream().anyMatch(c -> c.contains("allocated")),
                "lost+found took blocks: " + changes);
        assertTrue(named >= 40 || changes.stream().anyMatch(c -> c.startsWith("(and more")), "more files than short form holds: " + changes);
    }

    /**
     * /leaf's third entry pointed at /block as a directory: /block is named by the root and by /leaf, and its ".."
     * names the root, so /leaf's entry is dropped (xfs_repair: "entry ... inconsistent with .. value"); the file that
     * entry named before goes to lost+found. With /block's ".." set to a third directory (/deep), neither name is the
     * one it names: the first in inode order (the root's, the first xfs_repair's phase 6 reaches) is kept and ".." set.
     */
    static Stream<Arguments> namedTwice() {
        return full() ? Stream.of("default", "rmapbt", "b1024").flatMap(g -> Stream.of(Arguments.of(g, false), Arguments.of(g, true)))
                : Stream.of(Arguments.of("default", false), Arguments.of("b1024", true));
    }

    @ParameterizedTest(name = "{0} dotdot elsewhere: {1}")
    @MethodSource("namedTwice")
    void aDirectoryNamedByTwoKeepsTheNameItsDotDotNames(String geometry, boolean dotdotElsewhere) throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of(geometry);
        List<String> commands = new ArrayList<>(List.of("path /leaf", "dblock 0", "write -d du[2].inumber ${ino:/block}",
                "write -d du[2].filetype 2"));
        if (dotdotElsewhere) {
            commands.addAll(List.of("path /block", "dblock 0", "write -d bu[1].inumber ${ino:/deep}"));
        }
        List<String> changes = repairAndCheck(geometry, "named-twice", g.resolve(commands), CorpusImages.image(geometry));
        String block = g.resolve("${ino:/block}");
        String root = g.resolve("${ino:/}");
        assertTrue(changes.stream().anyMatch(c -> c.contains("the entry naming directory inode " + block + " dropped: that directory"
                + " is named by inode " + root + " too")), changes.toString());
    }

    /**
     * "." and ".." of a block directory recorded as a file and a character device (fuzz cases the plan left unplanned:
     * nothing else in the directory is damaged): the rebuild makes both anew as directories.
     */
    @org.junit.jupiter.api.Test
    void dotEntriesWithAnotherFileTypeAreRebuilt() throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of("default");
        List<String> changes = repairAndCheck("default", "dot-filetypes", List.of("path /block", "dblock 0", "write -d bu[0].filetype 1",
                "write -d bu[1].filetype 3"), CorpusImages.image("default"));
        String block = g.resolve("${ino:/block}");
        assertTrue(changes.contains("directory inode " + block + " rebuilt: \".\": file type set to directory"), changes.toString());
    }

    /**
     * Damages a copy of {@code base}, repairs it (dry run, then applied), and checks: clean for us and for xfs_repair -n,
     * every file of the manifest kept (those moved to lost+found/INO with their content, a directory with what it
     * holds), undo exact. Returns the plans' changes.
     */
    private List<String> repairAndCheck(String geometry, String recipe, List<String> commands, Path base) throws Exception {
        return repairAndCheck(dir, geometry, recipe, commands, base);
    }

    /** As {@link #repairAndCheck(String, String, List, Path)}, the images in {@code dir}: for the other directory oracle tests. */
    static List<String> repairAndCheck(Path dir, String geometry, String recipe, List<String> commands, Path base) throws Exception {
        Path img = dir.resolve(geometry + "-" + recipe + ".img");
        SparseFiles.copy(base, img);
        CorpusImages.xfsDb(img, commands);
        String damaged = RepairOracleTest.sha256(img);
        Map<String, ManifestEntry> before = manifest(base);

        RepairReport dry = engine.repair(img, new RepairOptions(false, null), Progress.NONE);
        assertFalse(dry.before().clean(), recipe + " is damage");
        assertTrue(dry.unrepaired().isEmpty(), recipe + ": every finding has a plan: " + dry);
        assertEquals(damaged, RepairOracleTest.sha256(img), "a dry run writes nothing");
        Path journal = dir.resolve(geometry + "-" + recipe + ".undo");
        RepairReport done = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), recipe + ": clean after repair: " + done.after().findings());
        assertEquals(RepairOracleTest.planLines(done), RepairOracleTest.planLines(dry),
                recipe + ": the dry run showed every round's plans, as --apply wrote them");
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), recipe + ": xfs_repair -n after our repair:\n" + check.getValue());

        Map<String, ManifestEntry> after = manifest(img);
        List<String> expected = new ArrayList<>();
        for (ManifestEntry e : before.values()) {
            String moved = movedPath(e.path(), before, after);
            expected.add(line(moved, e));
        }
        if (!before.containsKey("/lost+found") && after.containsKey("/lost+found")) {
            expected.add(line("/lost+found", after.get("/lost+found")));
        }
        List<String> got = after.values().stream().map(e -> line(e.path(), e)).sorted().toList();
        assertEquals(expected.stream().sorted().toList(), got, recipe + ": every file kept (unnamed ones as lost+found/INO)");

        List<String> changes = done.plans().stream().flatMap(p -> p.changes().stream()).toList();
        System.out.printf("REPAIR %-10s %-24s %d plan(s) %s: %s%n", geometry, recipe, done.plans().size(),
                done.plans().stream().map(p -> p.structure()).toList(), changes.size() > 12 ? changes.subList(0, 12) + " ..." : changes);
        assertEquals(done.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, RepairOracleTest.sha256(img), recipe + ": undo restores the damaged image bit for bit");
        return changes;
    }

    /**
     * Where a path of the manifest before the damage is after the repair: itself, or (the path or a directory above it
     * gone) lost+found/INO of the highest directory above it that is gone, as xfs_repair moves a disconnected subtree.
     */
    private static String movedPath(String path, Map<String, ManifestEntry> before, Map<String, ManifestEntry> after) {
        if (after.containsKey(path)) {
            return path;
        }
        String top = path;
        for (String up = parentOf(path); !up.equals("/") && !after.containsKey(up); up = parentOf(up)) {
            top = up;
        }
        return "/lost+found/" + before.get(top).inode() + path.substring(top.length());
    }

    private static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    /** A manifest line: directories without size and link count, which their entries change; files whole. */
    private static String line(String path, ManifestEntry e) {
        boolean directory = e.type() == org.xfstage.api.device.FileType.DIRECTORY;
        return path + " " + e.type() + " " + e.mode() + " " + (directory ? "_" : e.size()) + " " + e.linkTarget() + " " + e.sha256();
    }

    private static Map<String, ManifestEntry> manifest(Path img) throws Exception {
        Map<String, ManifestEntry> out = new TreeMap<>();
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly())) {
            d.manifest(true, Progress.NONE, e -> out.put(e.path(), e));
        }
        return out;
    }

    /**
     * The corpus image, or for "lf-G" corpus image G with a /lost+found xfs_repair made (short form, one file): /sf's
     * last entry pointed at no inode, then xfs_repair.
     */
    private static Path base(String geometry) throws Exception {
        if (!geometry.startsWith("lf-")) {
            return CorpusImages.image(geometry);
        }
        synchronized (DirectoryGrowthOracleTest.class) {
            Path img = fixtures.resolve(geometry + ".img");
            if (img.toFile().exists()) {
                return img;
            }
            SparseFiles.copy(CorpusImages.image(geometry.substring("lf-".length())), img);
            CorpusImages.run(List.of(CorpusImages.tool("xfs_db"), "-x", "-c", "path /sf", "-c",
                    "write -d u3.sfdir3.list[2].inumber.i4 4000000000", img.toString()));
            var repaired = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), img.toString()));
            assertEquals(0, repaired.getKey(), "xfs_repair makes the lost+found fixture:\n" + repaired.getValue());
            return img;
        }
    }
}
