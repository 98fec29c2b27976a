package org.xfstage.repair.internal;

import static org.xfstage.repair.internal.AgStaging.INODES;
import static org.xfstage.repair.internal.AgStaging.MAPPINGS;
import static org.xfstage.repair.internal.AgStaging.PROBLEMS;
import static org.xfstage.repair.internal.AgStaging.RMAPBT;
import static org.xfstage.repair.internal.AgStaging.SPACE;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.UncheckedStagingException;

/**
 * The walk of one AG, on one thread: its static space, every block of its btrees, its inode chunks and every inode in
 * them (see {@link SpaceWalk}). Its records go where its {@link AgStaging} puts them; its findings and counts are the
 * walk's at its merge ({@link SpaceWalk#merged}), which the merging thread makes in AG order.
 */
final class AgWalk implements AgWorkers.Stage {
    private final int agno;
    private final XfsDevice device;
    private final FsInfo info;
    private final AgStaging staging;
    /** The workers walking the AGs, asked whether the walk was stopped; null: one thread. */
    private final AgWorkers workers;
    private final SpaceWalk walk;
    private final SpaceMapRecord spaceRec = new SpaceMapRecord();
    private final InodeMapRecord inodeRec = new InodeMapRecord();
    private final InodeProblemRecord problemRec = new InodeProblemRecord();
    private final MappingRecord mappingRec = new MappingRecord();
    private final MappingRecord rmapRec = new MappingRecord();
    /** The extents of the inode being read: into the space map, and as mappings when they are staged. */
    private final InodeExtents inodeExtents = new InodeExtents();
    private final LongList treeBlocks = new LongList(); // staged only once the tree is known
    // what the merge hands to the walk
    final MessageDigest digest = SpaceWalk.sha256();
    final List<Finding> found = new ArrayList<>();
    long extents;
    long inodesSeen;
    boolean inOrder = true;
    long firstIno = -1;
    long lastIno = -1;
    /** The run of inode-chunk blocks not yet in the space map. */
    private int runAg;
    private long runStart;
    private long runLength;

    AgWalk(SpaceWalk walk, int agno, XfsDevice device, FsInfo info, AgStaging staging, AgWorkers workers) {
        this.walk = walk;
        this.agno = agno;
        this.device = device;
        this.info = info;
        this.staging = staging;
        this.workers = workers;
    }

    @Override
    public void goDirect() {
        staging.goDirect();
    }

    @Override
    public void walk() throws StagingException {
        try {
            device.staticSpace(agno, (agbno, len, use) -> add(agno, agbno, len, use, 0));
        } catch (XfsException e) {
            found.add(new Finding("agfl", agno, "AG headers", e.getMessage(), null));
        }
        try {
            for (BtreeType t : BtreeType.values()) {
                if (info.hasTree(t)) {
                    tree(t);
                }
            }
        } catch (UncheckedStagingException e) {
            throw e.getCause(); // stopped (AgWorkers#stopped) inside a btree walk
        }
        staging.failIfFailed();
    }

    @Override
    public void merge() throws StagingException {
        staging.merge();
        walk.merged(this);
    }

    @Override
    public void discard() {
        staging.discard();
    }

    /** Every block of one tree of the AG into the space map, with what the walk takes from its records. */
    private void tree(BtreeType t) throws StagingException {
        treeBlocks.clear();
        try {
            switch (t) {
                case INO -> device.walkBtree(agno, Btree.INO, this::chunk, treeBlocks::add);
                case REFCOUNT -> device.walkBtree(agno, Btree.REFCOUNT, r -> {
                    if (r.cow()) {
                        add(agno, r.start(), r.length(), SpaceUse.COW, 0);
                    }
                }, treeBlocks::add);
                case RMAP -> device.walkBtree(agno, Btree.RMAP, staging.stages(RMAPBT)
                        ? r -> staging.stage(RMAPBT, rmapRec.set(agno, r)) : r -> { }, treeBlocks::add);
                default -> device.walkBtree(agno, Btree.of(t), r -> { }, treeBlocks::add);
            }
        } catch (XfsException e) {
            if (t == BtreeType.RMAP) {
                staging.drop(RMAPBT); // the records of a tree read in part are not staged: a check reads it itself
            }
            found.add(new Finding(t.treeName(), agno, "btree walk", e.getMessage(), null));
            try {
                // a tree whose records or checksums are damaged still holds its blocks: found by its pointers
                treeBlocks.clear();
                for (long agbno : device.btreeBlocks(agno, t)) {
                    treeBlocks.add(agbno);
                }
            } catch (XfsException pointersToo) {
                // then only the blocks the walk reached
            }
        }
        flushInodeRun(); // the last run of the inobt's chunks (before a damaged tree's blocks, which need no order)
        SpaceUse use = SpaceUse.of(t);
        treeBlocks.forEach(agbno -> add(agno, agbno, 1, use, 0));
        staging.failIfFailed();
    }

    /** One inobt record: the chunk's blocks, and each of its inodes with the blocks it uses. */
    private void chunk(InodeChunk c) {
        if (workers != null && workers.stopped()) { // the walk failed or was cancelled: this AG's work is dropped
            throw new UncheckedStagingException(new CancelledException("walk of AG " + agno + " stopped"));
        }
        long startino = c.startino();
        digest.update(ByteBuffer.allocate(Integer.BYTES + 2 * Long.BYTES).putInt(agno).putLong(startino)
                .putLong(c.holemask()).array());
        int perBlock = device.inodesPerBlock();
        int inodesPerStep = Math.max(1, Math.min(perBlock, InodeChunk.INODES));
        for (int first = 0; first < InodeChunk.INODES; first += inodesPerStep) {
            boolean allocated = false;
            for (int i = first; i < first + inodesPerStep; i++) {
                allocated |= !c.isHole(i);
            }
            if (allocated && perBlock <= InodeChunk.INODES) {
                inodeBlock((startino + first) / perBlock);
            }
        }
        if (perBlock > InodeChunk.INODES && (startino % perBlock) == 0) {
            inodeBlock(startino / perBlock);
        }
        if (!staging.stages(INODES)) {
            return; // metadata only
        }
        for (int i = 0; i < InodeChunk.INODES; i++) {
            if (c.isHole(i)) {
                continue;
            }
            long ino = device.inodeNumber(agno, startino + i);
            if (ino < 0 || ino > InodeMapRecord.MAX_INO) { // geometry no XFS has: no record can hold it
                found.add(new Finding("inode", agno, "inode " + Long.toUnsignedString(ino), "beyond XFS's inode numbers", null));
                return;
            }
            InodeMapRecord.State state;
            try {
                inodeExtents.ino = ino;
                state = device.inodeSpace(ino, inodeExtents, this::problem)
                        ? InodeMapRecord.State.IN_USE : InodeMapRecord.State.FREE;
            } catch (XfsException e) {
                found.add(new Finding("inode", agno, "inode " + ino, e.getMessage(), null));
                state = InodeMapRecord.State.UNREADABLE; // neither in use nor free for the inobt check
            }
            inOrder &= ino > lastIno;
            if (firstIno < 0) {
                firstIno = ino;
            }
            lastIno = ino;
            inodeRec.set(ino, state);
            staging.stage(INODES, inodeRec);
            inodesSeen++;
        }
    }

    /**
     * One block of inode chunks: runs of them (a chunk, and chunks the inobt lists one after the other) go into the
     * space map as one extent, not a record per block.
     */
    private void inodeBlock(long agbno) {
        if (runLength > 0 && runAg == agno && runStart + runLength == agbno) {
            runLength++;
            return;
        }
        flushInodeRun();
        runAg = agno;
        runStart = agbno;
        runLength = 1;
    }

    private void flushInodeRun() {
        if (runLength > 0) {
            add(runAg, runStart, runLength, SpaceUse.INODES, 0);
            runLength = 0;
        }
    }

    /** Receives one inode's extents (one sink for every inode: the walk allocates nothing per inode for them). */
    private final class InodeExtents implements XfsDevice.InodeSpaceSink {
        long ino;

        @Override
        public void extent(int agno, long agbno, long length, boolean bmbt) {
            add(agno, agbno, length, bmbt ? SpaceUse.FILE_BMBT : SpaceUse.FILE_DATA, ino);
        }

        @Override
        public void mapping(int agno, long agbno, long length, long offset, boolean attrFork, boolean bmbt, boolean unwritten) {
            extent(agno, agbno, length, bmbt);
            if (staging.stages(MAPPINGS)) {
                staging.stage(MAPPINGS, mappingRec.set(agno, agbno, length, ino, offset, attrFork, bmbt, unwritten));
            }
        }
    }

    /** One problem the device found in an inode it read for the walk: staged for the strategies of its structure. */
    private void problem(InodeProblem p) {
        staging.stage(PROBLEMS, problemRec.set(p, agno)); // not when problems are not staged
    }

    private void add(int agno, long agbno, long length, SpaceUse use, long ino) {
        spaceRec.set(agno, agbno, length, use, ino);
        if (staging.stage(SPACE, spaceRec)) {
            extents++;
        }
    }
}
