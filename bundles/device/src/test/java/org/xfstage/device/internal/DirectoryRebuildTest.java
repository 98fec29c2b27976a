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
            if (!g.equals("n8192")) { // 3000 entries fit one 8 KiB-block leaf directory: no node form there
                out.add(Arguments.of(g, "/node", 1));
                out.add(Arguments.of(g, "/node", 3));
            }
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
            XfsFormatException nodeForm = assertThrows(XfsFormatException.class,
                    () -> fs.rebuildDirectory(node, root, many.subList(0, 10).iterator()));
            assertTrue(nodeForm.getMessage().contains("empty"), nodeForm.getMessage());
            XfsFormatException nothingGiven = assertThrows(XfsFormatException.class,
                    () -> fs.rebuildDirectory(sf, root, many.iterator(), (agno, count) -> null));
            assertTrue(nothingGiven.getMessage().contains("no AG gave"), nothingGiven.getMessage());
            XfsFormatException twice = assertThrows(XfsFormatException.class,
                    () -> fs.rebuildDirectory(sf, root, List.of(many.get(0), many.get(0)).iterator()));
            assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
            XfsFormatException slash = assertThrows(XfsFormatException.class,
                    () -> fs.rebuildDirectory(sf, root, List.of(new SalvagedEntry("a/b".getBytes(), root, null)).iterator()));
            assertTrue(slash.getMessage().contains("'/'"), slash.getMessage());
        }
    }

    /**
     * Directories that grow: the form, the entries given (names made up, naming a file of /block). The corpus's /node
     * has a bmbt on 4 KiB blocks, which is not extended (refused).
     */
    static Stream<Arguments> growths() {
        List<Arguments> out = new ArrayList<>();
        for (String g : List.of("default", "b1024", "n8192")) {
            out.add(Arguments.of(g, "/sf", 40)); // short form to one block
            out.add(Arguments.of(g, "/sf", 400)); // short form to data blocks and a leaf
            out.add(Arguments.of(g, "/block", 400)); // one block to data blocks and a leaf
            out.add(Arguments.of(g, "/leaf", 2000)); // a leaf to the node form
        }
        out.add(Arguments.of("b1024", "/leaf", 6000)); // the node form with many leaves (and extents of 4-block runs)
        return out.stream();
    }

    /**
     * A directory given more entries than its blocks hold grows into blocks from the allocator (here: the highest free
     * blocks the bnobt lists in the asked AG), keeps its own blocks in their places, and reads back clean with exactly
     * the entries given; the inode maps every block once, in extents format, with the new block count.
     */
    @ParameterizedTest(name = "{0} {1} with {2} entries")
    @MethodSource("growths")
    void aDirectoryThatNeedsMoreBlocksGrowsIntoAllocatedOnes(String geometry, String path, int entries) throws Exception {
        Path img = dir.resolve(geometry + ".img");
        SparseFiles.copy(DeviceCorpusTest.image(geometry), img);
        List<BlockImage> blocks;
        long ino;
        long[] given = {0};
        List<String> names = new ArrayList<>();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            ino = Corpus.lookup(fs, path);
            long child = Corpus.lookup(fs, "/block/" + fs.contents.directory(Inode.read(fs.image, fs.geometry,
                    Corpus.lookup(fs, "/block"))).stream().map(Contents.DirEntry::name).filter(n -> !n.startsWith(".")).findFirst().orElseThrow());
            List<SalvagedEntry> list = new ArrayList<>();
            for (int i = 0; i < entries; i++) {
                String name = "grown-entry-number-" + i;
                names.add(name);
                list.add(new SalvagedEntry(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII), child,
                        org.xfstage.api.device.FileType.FILE));
            }
            java.util.Map<Integer, java.util.TreeSet<Long>> free = new java.util.HashMap<>();
            blocks = fs.rebuildDirectory(ino, fs.geometry.rootIno, list.iterator(), (agno, count) -> {
                java.util.TreeSet<Long> f = free.computeIfAbsent(agno, a -> {
                    java.util.TreeSet<Long> t = new java.util.TreeSet<>();
                    try {
                        fs.walkBtree(a, org.xfstage.api.device.Btree.BNO, e -> {
                            for (long b = e.start(); b < e.end(); b++) {
                                t.add(b);
                            }
                        });
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    return t;
                });
                // the lowest run of count free blocks in the upper half of the AG's free blocks (as the engine gives
                // ascending blocks, so that a directory's new blocks make few extents)
                java.util.NavigableSet<Long> upper = f.isEmpty() ? f : f.tailSet(f.first() + (f.last() - f.first()) / 2, true);
                for (long start : upper) {
                    long b = start + count - 1;
                    if (f.subSet(start, true, b, true).size() == count) {
                        f.removeAll(new java.util.TreeSet<>(f.subSet(start, true, b, true)));
                        given[0] += count;
                        return List.of(new org.xfstage.api.device.FreeExtent(start, count));
                    }
                }
                return null;
            });
            for (BlockImage b : blocks) {
                fs.verify(b);
            }
        }
        assertTrue(given[0] > 0, "blocks were allocated");
        try (XfsImage fs = XfsImage.open(img, OpenOptions.forWriting())) {
            fs.commit(blocks, dir.resolve("undo"));
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Inode d = Inode.read(fs.image, fs.geometry, ino);
            assertEquals(Inode.FMT_EXTENTS, d.format);
            long mapped = 0;
            for (Inode.Extent e : d.extents(fs.image, fs.geometry)) {
                mapped += e.count();
            }
            assertEquals(mapped, d.core.get("nblocks"), "di_nblocks counts every block mapped");
            List<String> listed = new ArrayList<>();
            for (Contents.DirEntry e : fs.contents.directory(d)) {
                listed.add(e.name());
            }
            listed.removeIf(s -> s.equals(".") || s.equals(".."));
            assertEquals(names, listed, "the directory lists exactly the entries given, in that order");
            DirectoriesTest.Collected c = new DirectoriesTest.Collected();
            fs.directory(ino, c);
            assertEquals(List.of(), c.problems, "the verifying reader finds no problem in the grown directory");
        }
    }
}
