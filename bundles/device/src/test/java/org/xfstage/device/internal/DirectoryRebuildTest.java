package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.SalvagedEntry;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.staging.Progress;

/**
 * The directory rebuild (XfsDevice.rebuildDirectory): each form of the corpus written anew from its own entries, or
 * from some of them, in its own blocks; xfs_repair -n must find the image clean and the manifest must list exactly the
 * entries given. What needs blocks the directory does not have is refused.
 */
class DirectoryRebuildTest {
    @TempDir
    Path dir;

    /** Geometries (4 KiB, 1 KiB blocks with 4 KiB directory blocks, 8 KiB directory blocks, ascii-ci) and directories. */
    static Stream<Arguments> rebuilds() {
        List<Arguments> out = new ArrayList<>();
        for (String g : List.of("default", "b1024", "n8192", "i1024")) {
            for (String d : List.of("/sf", "/block", "/leaf", "/")) {
                out.add(Arguments.of(g, d, 1));
                out.add(Arguments.of(g, d, 3)); // every third entry dropped
            }
            // few entries in many blocks: a block directory whose entries would fit the inode, a leaf directory whose
            // entries would fit one block, each data block holding one or two (the kernel would have shrunk them)
            out.add(Arguments.of(g, "/block", -1));
            out.add(Arguments.of(g, "/leaf", -4));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} keep all but every {2} (negative: keep that many)")
    @MethodSource("rebuilds")
    void aDirectoryRebuiltFromItsEntriesIsCleanForXfsRepair(String geometry, String path, int dropEvery) throws Exception {
        Path img = dir.resolve(geometry + ".img");
        SparseFiles.copy(DeviceCorpusTest.image(geometry), img);
        List<String> kept = new ArrayList<>();
        List<BlockImage> blocks;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = path.equals("/") ? fs.geometry.rootIno : Corpus.lookup(fs, path);
            List<SalvagedEntry> entries = new ArrayList<>();
            long[] parent = {-1};
            int[] n = {0};
            fs.directory(ino, new DirectorySink() {
                @Override
                public void entry(DirectoryEntry e) {
                    if (e.isDotDot()) {
                        parent[0] = e.child();
                    } else if (!e.isDot() && (dropEvery < 0 ? n[0]++ < -dropEvery
                            : dropEvery == 1 || n[0]++ % dropEvery != 1 || path.equals("/"))) {
                        entries.add(new SalvagedEntry(e.name(), e.child(), e.type()));
                        kept.add(e.nameString());
                    }
                }

                @Override
                public void problem(DirectoryProblem p) {
                    throw new AssertionError(p.toString());
                }
            });
            blocks = fs.rebuildDirectory(ino, parent[0], entries.iterator());
            for (BlockImage b : blocks) {
                fs.verify(b);
            }
        }
        if (dropEvery > 1 && !path.equals("/")) {
            assertTrue(kept.size() > 0);
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.forWriting())) {
            fs.commit(blocks, dir.resolve("undo"));
        }
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        if (dropEvery == 1) {
            assertEquals(0, check.getKey(), geometry + " " + path + ":\n" + check.getValue());
        } else {
            // the files dropped are disconnected now, and their link counts off: nothing else may be wrong
            List<String> other = check.getValue().lines().filter(l -> l.startsWith("would") || l.contains("bad") || l.contains("corrupt"))
                    .filter(l -> !l.contains("lost+found") && !l.contains("nlinks from") && !l.startsWith("would move")).toList();
            System.out.println("DROP " + geometry + " " + path + "\n" + check.getValue());
            assertEquals(List.of(), other, geometry + " " + path + ":\n" + check.getValue());
        }
        List<String> listed = new ArrayList<>();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = path.equals("/") ? fs.geometry.rootIno : Corpus.lookup(fs, path);
            for (Contents.DirEntry e : fs.contents.directory(Inode.read(fs.image, fs.geometry, ino))) {
                listed.add(e.name());
            }
            DirectoriesTest.Collected c = new DirectoriesTest.Collected();
            fs.directoryTree(Progress.NONE, c);
            assertEquals(List.of(), c.problems, "the verifying reader finds no problem after the rebuild");
        }
        listed.removeIf(s -> s.equals(".") || s.equals(".."));
        assertEquals(kept, listed, "the directory lists exactly the entries given, in that order");
    }

    /**
     * ASCII-CI names of the three forms: mixed-case ASCII names (the corpus's, less their Latin-1 capitals) rebuilt
     * with the case-folded hash are clean for xfs_repair -n; a name with a Latin-1 capital is refused in a block or
     * leaf (the kernel folds it, xfsprogs 6.1 does not: either hash is corrupt for one of them), kept in short form,
     * which has no hashes.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"/Dir-3", "/Dir-30", "/Dir-300"})
    void caseInsensitiveNamesAreRebuiltWithTheFoldedHash(String path) throws Exception {
        Path img = dir.resolve("ci.img");
        SparseFiles.copy(Corpus.image("ascii-ci-v1", Corpus.mixedCaseTree(), List.of("-n", "version=ci")), img);
        List<BlockImage> blocks;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, path);
            List<SalvagedEntry> entries = new ArrayList<>();
            fs.directory(ino, new DirectorySink() {
                @Override
                public void entry(DirectoryEntry e) {
                    if (!e.isDot() && !e.isDotDot()) {
                        entries.add(new SalvagedEntry(e.name(), e.child(), e.type()));
                    }
                }

                @Override
                public void problem(DirectoryProblem p) {
                    throw new AssertionError(p.toString());
                }
            });
            if (!path.equals("/Dir-3")) {
                XfsFormatException latin1 = assertThrows(XfsFormatException.class,
                        () -> fs.rebuildDirectory(ino, fs.geometry.rootIno, entries.iterator()));
                assertTrue(latin1.getMessage().contains("Latin-1 capital"), latin1.getMessage());
            }
            List<SalvagedEntry> ascii = new ArrayList<>();
            for (SalvagedEntry e : entries) {
                String name = new String(e.name(), java.nio.charset.StandardCharsets.UTF_8).replaceAll("[^\\x20-\\x7e]", "");
                ascii.add(new SalvagedEntry(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII), e.child(), e.type()));
            }
            blocks = fs.rebuildDirectory(ino, fs.geometry.rootIno, (path.equals("/Dir-3") ? entries : ascii).iterator());
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.forWriting())) {
            fs.commit(blocks, dir.resolve("undo"));
        }
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), path + ":\n" + check.getValue());
    }

    @Test
    void whatNeedsBlocksTheDirectoryDoesNotHaveIsRefused() throws Exception {
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
            long sf = Corpus.lookup(fs, "/sf");
            long leaf = Corpus.lookup(fs, "/leaf");
            long node = Corpus.lookup(fs, "/node");
            long root = fs.geometry.rootIno;
            List<SalvagedEntry> many = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                many.add(new SalvagedEntry(("a-rather-long-name-" + i).getBytes(), root, null));
            }
            XfsFormatException grow = assertThrows(XfsFormatException.class, () -> fs.rebuildDirectory(sf, root, many.iterator()));
            assertTrue(grow.getMessage().contains("would need a directory block"), grow.getMessage());
            XfsFormatException empty = assertThrows(XfsFormatException.class,
                    () -> fs.rebuildDirectory(leaf, root, many.subList(0, 1).iterator()));
            assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
            XfsFormatException nodeForm = assertThrows(XfsFormatException.class, () -> fs.rebuildDirectory(node, root, many.iterator()));
            assertTrue(nodeForm.getMessage().contains("node directory"), nodeForm.getMessage());
            XfsFormatException twice = assertThrows(XfsFormatException.class,
                    () -> fs.rebuildDirectory(sf, root, List.of(many.get(0), many.get(0)).iterator()));
            assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
            XfsFormatException slash = assertThrows(XfsFormatException.class,
                    () -> fs.rebuildDirectory(sf, root, List.of(new SalvagedEntry("a/b".getBytes(), root, null)).iterator()));
            assertTrue(slash.getMessage().contains("'/'"), slash.getMessage());
        }
    }
}
