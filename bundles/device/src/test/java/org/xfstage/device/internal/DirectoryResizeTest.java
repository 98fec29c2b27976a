package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.SalvagedEntry;

/**
 * resizeDirectory with fewer entries than the directory's blocks hold: the directory takes the form and the number of
 * blocks they need (short form, one block, a leaf directory, the node form with fewer leaves), reusing its own blocks
 * in their places and unmapping the rest: its extent map (from a bmbt to extents where they fit), size and di_nblocks
 * say so, the verifying reader and the inode check find nothing wrong, and it lists exactly the entries given. The
 * unmapped blocks are leaked until free space is rebuilt (the engine's later rounds; DirectoryShrinkOracleTest), which
 * xfs_repair -n (6.1) does not report: it must find nothing wrong but the files whose entries were not given. By default
 * 1 KiB blocks (4 KiB directory blocks, a bmbt /node) and 8 KiB directory blocks; {@code -Dxfstage.matrix=full} adds the
 * default geometry.
 */
class DirectoryResizeTest {
    /** {@code -Dxfstage.matrix=full}: every geometry listed, else the ones named in each source. */
    private static final boolean FULL = "full".equals(System.getProperty("xfstage.matrix"));

    @TempDir
    Path dir;

    /** Geometry, directory, entries kept, and the form expected: sf, block, leaf or node. */
    static Stream<Arguments> shrinks() {
        List<Arguments> out = new ArrayList<>();
        // 4 KiB blocks add little to 1 KiB blocks with 4 KiB directory blocks: with the full matrix only
        for (String g : FULL ? List.of("default", "b1024", "n8192") : List.of("b1024", "n8192")) {
            out.add(Arguments.of(g, "/block", 5, "sf"));
            out.add(Arguments.of(g, "/leaf", 5, "sf"));
            out.add(Arguments.of(g, "/leaf", 60, "block"));
            if (!g.equals("n8192")) { // two 8 KiB data blocks: 200 entries still need both
                out.add(Arguments.of(g, "/leaf", 200, "leaf"));
            }
            out.add(Arguments.of(g, "/node", 60, "block"));
            out.add(Arguments.of(g, "/node", 400, "leaf"));
            if (!g.equals("n8192")) { // 3000 entries fit one 8 KiB-block leaf directory: no node form there
                out.add(Arguments.of(g, "/node", 1500, "node"));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} keeping {2}: {3}")
    @MethodSource("shrinks")
    void aDirectoryGivenFewerEntriesTakesTheFormTheyNeedAndUnmapsTheRest(String geometry, String path, int keep, String form)
            throws Exception {
        Path img = dir.resolve(geometry + ".img");
        SparseFiles.copy(DeviceCorpusTest.image(geometry), img);
        List<String> kept = new ArrayList<>();
        List<BlockImage> blocks;
        long ino;
        long nblocksBefore;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            ino = Corpus.lookup(fs, path);
            nblocksBefore = Inode.read(fs.image, fs.geometry, ino).core.get("nblocks");
            List<SalvagedEntry> entries = new ArrayList<>();
            fs.directory(ino, new DirectorySink() {
                @Override
                public void entry(DirectoryEntry e) {
                    if (!e.isDot() && !e.isDotDot() && entries.size() < keep) {
                        entries.add(new SalvagedEntry(e.name(), e.child(), e.type()));
                        kept.add(e.nameString());
                    }
                }

                @Override
                public void problem(DirectoryProblem p) {
                    throw new AssertionError(p.toString());
                }
            });
            blocks = fs.resizeDirectory(ino, fs.geometry.rootIno, entries.iterator(), null);
            for (BlockImage b : blocks) {
                fs.verify(b);
            }
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.forWriting())) {
            fs.commit(blocks, dir.resolve("undo"));
        }
        // the dropped entries' files are disconnected now and the unmapped blocks leaked: nothing else may be wrong
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        List<String> other = check.getValue().lines().filter(l -> l.startsWith("would") || l.contains("bad") || l.contains("corrupt"))
                .filter(l -> !l.contains("lost+found") && !l.contains("nlinks from") && !l.startsWith("would move")).toList();
        assertEquals(List.of(), other, geometry + " " + path + ":\n" + check.getValue());
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Inode d = Inode.read(fs.image, fs.geometry, ino);
            long dirBlock = fs.geometry.dirBlockSize / fs.geometry.blockSize;
            long leafBlk = Directories.LEAF_OFFSET >> fs.geometry.blockLog;
            long mapped = 0;
            long end = 0;
            if (d.format != Inode.FMT_LOCAL) {
                for (Inode.Extent e : d.extents(fs.image, fs.geometry)) {
                    mapped += e.count();
                    end = e.startOff() + e.count();
                }
            }
            String got = d.format == Inode.FMT_LOCAL ? "sf" : end == dirBlock ? "block" : end == leafBlk + dirBlock ? "leaf" : "node";
            assertEquals(form, got, "the form the entries need");
            long nblocks = d.core.get("nblocks");
            assertTrue(nblocks < nblocksBefore, "blocks unmapped: " + nblocksBefore + " -> " + nblocks);
            assertTrue(nblocks >= mapped, "di_nblocks counts what the fork maps (and its bmbt blocks)");
            List<InodeProblem> problems = new ArrayList<>();
            fs.checkInode(ino, problems::add);
            assertEquals(List.of(), problems, "the inode breaks no rule (format, size, counts)");
            DirectoriesTest.Collected c = new DirectoriesTest.Collected();
            fs.directory(ino, c);
            assertEquals(List.of(), c.problems, "the verifying reader finds no problem in the smaller directory");
            List<String> listed = new ArrayList<>();
            for (Contents.DirEntry e : fs.contents.directory(d)) {
                listed.add(e.name());
            }
            listed.removeIf(s -> s.equals(".") || s.equals(".."));
            assertEquals(kept, listed, "the directory lists exactly the entries given, in that order");
        }
    }

    /**
     * A node directory whose data fork is a bmbt (the corpus's /node on 4 KiB and 1 KiB blocks) given more entries
     * than it holds grows: the new blocks join its extents, the bmbt is rewritten in its own blocks (and, on 1 KiB
     * blocks, a block more from the allocator when it needs one), and it reads back clean with exactly the entries
     * given, the inode breaking no rule (the free-space btrees, which still list the new blocks free, are the engine's).
     */
    static Stream<String> bmbtGrowths() {
        return FULL ? Stream.of("default", "b1024") : Stream.of("b1024");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bmbtGrowths")
    void aDirectoryWithABmbtGrowsAndTheBmbtIsRewritten(String geometry) throws Exception {
        Path img = dir.resolve(geometry + "-grow.img");
        SparseFiles.copy(DeviceCorpusTest.image(geometry), img);
        List<BlockImage> blocks;
        long ino;
        List<String> names = new ArrayList<>();
        long[] given = {0};
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            ino = Corpus.lookup(fs, "/node");
            assertEquals(Inode.FMT_BTREE, Inode.read(fs.image, fs.geometry, ino).format, "the corpus's /node has a bmbt here");
            List<SalvagedEntry> entries = new ArrayList<>();
            fs.directory(ino, new DirectorySink() {
                @Override
                public void entry(DirectoryEntry e) {
                    if (!e.isDot() && !e.isDotDot()) {
                        entries.add(new SalvagedEntry(e.name(), e.child(), e.type()));
                        names.add(e.nameString());
                    }
                }

                @Override
                public void problem(DirectoryProblem p) {
                    throw new AssertionError(p.toString());
                }
            });
            long child = entries.get(0).child();
            for (int i = 0; i < 3000; i++) {
                String name = "grown-entry-number-" + i;
                names.add(name);
                entries.add(new SalvagedEntry(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII), child,
                        org.xfstage.api.device.FileType.FILE));
            }
            // blocks from the top of each AG's largest free extent, one asked run at a time: scattered enough that the
            // new directory blocks make extents of their own
            java.util.Map<Integer, long[]> top = new java.util.HashMap<>();
            blocks = fs.resizeDirectory(ino, fs.geometry.rootIno, entries.iterator(), (agno, count) -> {
                long[] t = top.computeIfAbsent(agno, a -> {
                    long[] best = {0, 0};
                    try {
                        fs.walkBtree(a, org.xfstage.api.device.Btree.BNO, e -> {
                            if (e.length() > best[1]) {
                                best[0] = e.start();
                                best[1] = e.length();
                            }
                        });
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    return new long[] {best[0] + best[1]};
                });
                t[0] -= count + 1; // a gap between runs: no two merge into one extent
                given[0] += count;
                return List.of(new org.xfstage.api.device.FreeExtent(t[0], count));
            });
            for (BlockImage b : blocks) {
                fs.verify(b);
            }
        }
        assertTrue(given[0] > 0, "blocks were allocated");
        try (XfsImage fs = XfsImage.open(img, OpenOptions.forWriting())) {
            fs.commit(blocks, dir.resolve("undo-grow"));
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Inode d = Inode.read(fs.image, fs.geometry, ino);
            assertEquals(Inode.FMT_BTREE, d.format, "still a bmbt: the extents do not fit the inode");
            List<InodeProblem> problems = new ArrayList<>();
            fs.checkInode(ino, problems::add);
            assertEquals(List.of(), problems, "the inode breaks no rule (bmbt, counts, size)");
            DirectoriesTest.Collected c = new DirectoriesTest.Collected();
            fs.directory(ino, c);
            assertEquals(List.of(), c.problems, "the verifying reader finds no problem in the grown directory");
            List<String> listed = new ArrayList<>();
            for (Contents.DirEntry e : fs.contents.directory(d)) {
                listed.add(e.name());
            }
            listed.removeIf(s -> s.equals(".") || s.equals(".."));
            assertEquals(names, listed, "the directory lists exactly the entries given, in that order");
        }
    }
}
