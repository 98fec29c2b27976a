package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FileExtent;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.SalvagedFork;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;

/**
 * The device's salvage and rewrite of a fork ({@link XfsImage#salvageFork}, {@link XfsImage#rewriteFork}) on real
 * images damaged with xfs_db -x: what breaks a rule is dropped with the reason, the rest is written back in extents
 * format or as a bulk-loaded bmbt, and the inode then reads without a problem of that fork or its counts. The oracle
 * runs (repair, xfs_repair -n, manifest, undo) are BmapRepairOracleTest's.
 */
class ForkRewriteTest {
    @TempDir
    Path dir;

    private Path damaged(String geometry, String name, List<String> commands) throws Exception {
        Path img = dir.resolve(name + ".img");
        Corpus.damagedCopy(DeviceCorpusTest.image(geometry), img, commands);
        return img;
    }

    private static List<InodeProblem> problems(XfsDevice fs, long ino) throws Exception {
        List<InodeProblem> out = new ArrayList<>();
        fs.checkInode(ino, out::add);
        return out;
    }

    /** The salvaged fork written back into its own bmbt blocks (as many as it needs); the inode as planned. */
    private static List<BlockImage> rewrite(XfsImage fs, long ino, SalvagedFork s) throws Exception {
        int need = fs.forkBlocksNeeded(ino, false, s.extents().size());
        List<BlockImage> out = fs.rewriteFork(ino, false, s.extents(), s.bmbtBlocks().subList(0, need));
        for (BlockImage b : out) {
            fs.verify(b);
        }
        return out;
    }

    @Test
    void anExtentOutsideTheFilesystemIsDroppedAndTheRestStayInTheInode() throws Exception {
        Path img = damaged("default", "beyond", List.of("path /holey", "write -d u3.bmx[1].startblock 9999999"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/holey");
            long nblocks = Inode.read(fs.image, fs.geometry, ino).core.get("nblocks");
            SalvagedFork s = fs.salvageFork(ino, false);
            assertEquals(1, s.dropped().size(), s.toString());
            assertEquals(1, s.dropped().get(0).record());
            assertEquals("outside the filesystem", s.dropped().get(0).reason());
            assertFalse(s.lostRecords());
            List<BlockImage> out = rewrite(fs, ino, s);
            assertEquals(1, out.size(), "the inode only: the extents fit it");
            try (XfsDevice view = fs.withPlanned(out)) {
                assertEquals(List.of(), problems(view, ino), "the fork as rewritten reads clean");
            }
            Struct core = Inode.decode(out.get(0).bytes(), fs.geometry, ino).core;
            assertEquals(s.extents().size(), core.get("nextents"));
            assertEquals(nblocks - s.dropped().get(0).length(), core.get("nblocks"), "the dropped extent's blocks are no longer counted");
        }
    }

    @Test
    void aBmbtRecordMovedOntoAnotherOffsetIsDroppedAndTheTreeIsRebuiltInItsOwnLeaf() throws Exception {
        Path img = damaged("default", "leaf", List.of("path /fragmented", "addr u3.bmbt.ptrs[1]", "write -d recs[3].startoff 0"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/fragmented");
            assertFalse(problems(fs, ino).isEmpty());
            SalvagedFork s = fs.salvageFork(ino, false);
            assertEquals(1, s.dropped().size(), s.toString());
            // xfs_db numbers a leaf's records from 1: recs[3] is the third, record 2 counted from 0
            assertEquals(2, s.dropped().get(0).record(), "of the two records at offset 0, the one that came later in the leaf");
            assertEquals(Corpus.Node.FRAGMENTS - 1, s.extents().size());
            assertEquals(1, s.bmbtBlocks().size());
            List<BlockImage> out = rewrite(fs, ino, s);
            assertEquals(2, out.size(), "one leaf and the inode");
            assertEquals(fs.geometry.agBlockOffset(s.bmbtBlocks().get(0).agno(), s.bmbtBlocks().get(0).agbno()), out.get(0).offset());
            try (XfsDevice view = fs.withPlanned(out)) {
                assertEquals(List.of(), problems(view, ino));
            }
        }
    }

    @Test
    void anUnwrittenFlagOnADirectoryIsClearedNotDropped() throws Exception {
        Path img = damaged("default", "dirunwritten", List.of("path /leaf", "write -d u3.bmx[0].extentflag 1"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/leaf");
            SalvagedFork s = fs.salvageFork(ino, false);
            assertEquals(List.of(), s.dropped());
            assertTrue(s.extents().stream().noneMatch(FileExtent::unwritten));
            try (XfsDevice view = fs.withPlanned(rewrite(fs, ino, s))) {
                assertEquals(List.of(), problems(view, ino));
            }
        }
    }

    /**
     * More extents than a root in the inode can point leaves at: a two-level bmbt (one node under the root), leaves
     * half full at least, siblings linked, keys their children's first offsets; the verifying reader walks it clean.
     * The extents are made up (every other block of AG 1): the rewrite checks no ownership, the caller does.
     */
    @Test
    void manyExtentsAreBulkLoadedIntoATwoLevelBmbt() throws Exception {
        Path img = damaged("default", "tall", List.of());
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/fragmented");
            int perLeaf = (fs.geometry.blockSize - 72) / 16;
            int rootMax = (Inode.read(fs.image, fs.geometry, ino).dataForkSize() - 4) / 16;
            int n = perLeaf * (rootMax + 3);
            List<FileExtent> extents = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                extents.add(new FileExtent(2L * i, 1, 1000 + 2L * i, 1, false));
            }
            int need = fs.forkBlocksNeeded(ino, false, n);
            int leaves = rootMax + 3;
            assertEquals(leaves + 1, need, "the leaves and one node above them");
            List<SalvagedFork.AgBlock> blocks = new ArrayList<>();
            for (int i = 0; i < need; i++) {
                blocks.add(new SalvagedFork.AgBlock(1, 1001 + 2L * i)); // between the made-up extents
            }
            assertThrows(XfsFormatException.class, () -> fs.rewriteFork(ino, false, extents, blocks.subList(1, need)),
                    "one block short");
            List<BlockImage> out = fs.rewriteFork(ino, false, extents, blocks);
            assertEquals(need + 1, out.size());
            for (BlockImage b : out) {
                fs.verify(b);
            }
            try (XfsDevice view = fs.withPlanned(out)) {
                List<InodeProblem> left = problems(view, ino);
                assertEquals(List.of(), left);
                SalvagedFork back = view.salvageFork(ino, false);
                assertEquals(extents, back.extents());
                assertEquals(need, back.bmbtBlocks().size());
            }
            Struct core = Inode.decode(out.get(out.size() - 1).bytes(), fs.geometry, ino).core;
            assertEquals(Inode.FMT_BTREE, core.get("format"));
            assertEquals(n + need, core.get("nblocks"));
        }
    }

    @Test
    void extentsThatFitTheInodeLeaveTheBmbtForTheExtentsFormat() throws Exception {
        Path img = damaged("default", "fewer", List.of());
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/fragmented");
            List<FileExtent> three = fs.salvageFork(ino, false).extents().subList(0, 3);
            assertEquals(0, fs.forkBlocksNeeded(ino, false, 3));
            List<BlockImage> out = fs.rewriteFork(ino, false, three, List.of());
            assertEquals(1, out.size());
            assertEquals(Inode.FMT_EXTENTS, Inode.decode(out.get(0).bytes(), fs.geometry, ino).core.get("format"));
            try (XfsDevice view = fs.withPlanned(out)) {
                assertEquals(List.of(), problems(view, ino));
            }
        }
    }
}
