package org.xfstage.repair.internal;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

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
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The one walk of a scrub: for every AG, the static space (headers, AGFL, log), every block of every btree, every
 * inode chunk (runs of their blocks as one extent) and every inode's blocks go into the space map; every inode of every chunk goes into the inode map,
 * and what the device finds wrong in it, in the same read, into the inode problems (for the inode, bmap, symlink and
 * xattr strategies). Whatever cannot be read becomes a finding, and the walk goes on with the next structure.
 * <p>
 * Without an inode map, only the metadata: the inodes are not read (a repair's re-check reuses what the first walk
 * found in them when no plan wrote inode space); the chunks the inobt lists are summed up in {@link #chunks()} so
 * that the re-check can tell whether they are the same.
 */
final class SpaceWalk {
    private final XfsDevice device;
    private final FsInfo info;
    private final XfArray space;
    private final XfArray inodes;
    /** What the device finds wrong in the inodes it reads for the walk (null for a metadata-only walk). */
    private final XfArray problems;
    private final Consumer<Finding> findings;
    private final Progress progress;
    private final SpaceMapRecord spaceRec = new SpaceMapRecord();
    private final InodeMapRecord inodeRec = new InodeMapRecord();
    private final InodeProblemRecord problemRec = new InodeProblemRecord();
    /** Every inode's extents as reverse mappings (null: not staged). */
    private final XfArray mappings;
    private final MappingRecord mappingRec = new MappingRecord();
    /** The extents of the inode being read: into the space map, and as mappings when they are staged. */
    private final InodeExtents inodeExtents = new InodeExtents();
    private StagingException stagingFailure;
    private final LongList treeBlocks = new LongList(); // staged only once the tree is known
    private final java.security.MessageDigest chunkDigest;
    long extents;
    long inodesSeen;
    /** Whether the inode map was appended in increasing inode order (inobt order, AG by AG): then it needs no sort. */
    boolean inodesInOrder = true;
    private long lastIno = -1;
    /** The run of inode-chunk blocks not yet in the space map. */
    private int runAg;
    private long runStart;
    private long runLength;

    SpaceWalk(XfsDevice device, FsInfo info, XfArray space, XfArray inodes, Consumer<Finding> findings, Progress progress) {
        this(device, info, space, inodes, null, findings, progress);
    }

    /** A walk that also stages, in {@code problems}, what the device finds wrong in each inode as it reads it. */
    SpaceWalk(XfsDevice device, FsInfo info, XfArray space, XfArray inodes, XfArray problems, Consumer<Finding> findings,
            Progress progress) {
        this(device, info, space, inodes, problems, null, findings, progress);
    }

    /**
     * A walk that also stages, in {@code mappings} (null: not), every extent of every inode as the reverse mapping it
     * should have (Observation.FILE_MAPPINGS), from the same read.
     */
    SpaceWalk(XfsDevice device, FsInfo info, XfArray space, XfArray inodes, XfArray problems, XfArray mappings,
            Consumer<Finding> findings, Progress progress) {
        this.mappings = mappings;
        this.device = device;
        this.info = info;
        this.space = space;
        this.inodes = inodes;
        this.problems = problems;
        this.findings = findings;
        this.progress = progress;
        try {
            this.chunkDigest = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java platform has SHA-256
        }
    }

    void walk() throws StagingException {
        progress.total("scrub: walk", info.agCount());
        for (FsInfo.AgInfo ag : info.ags()) {
            int agno = ag.agno();
            if (progress.isCancelled()) {
                throw new CancelledException("scrub cancelled during the walk of AG " + agno);
            }
            try {
                device.staticSpace(agno, (agbno, len, use) -> add(agno, agbno, len, use, 0));
            } catch (XfsException e) {
                findings.accept(new Finding("agfl", agno, "AG headers", e.getMessage(), null));
            }
            for (BtreeType t : BtreeType.values()) {
                if (info.hasTree(t)) {
                    tree(agno, t);
                }
            }
            progress.increment(1);
        }
        failIfStagingFailed();
    }

    /** Every block of one tree of an AG into the space map, with what the walk takes from its records. */
    private void tree(int agno, BtreeType t) throws StagingException {
        treeBlocks.clear();
        try {
            switch (t) {
                case INO -> device.walkBtree(agno, Btree.INO, c -> chunk(agno, c), treeBlocks::add);
                case REFCOUNT -> device.walkBtree(agno, Btree.REFCOUNT, r -> {
                    if (r.cow()) {
                        add(agno, r.start(), r.length(), SpaceUse.COW, 0);
                    }
                }, treeBlocks::add);
                default -> device.walkBtree(agno, Btree.of(t), r -> { }, treeBlocks::add);
            }
        } catch (XfsException e) {
            findings.accept(new Finding(t.treeName(), agno, "btree walk", e.getMessage(), null));
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
        failIfStagingFailed();
    }

    /** A digest of the inode chunks the inobts list (AG, first inode, holes), in walk order. */
    byte[] chunks() {
        return chunkDigest.digest();
    }

    /** One inobt record: the chunk's blocks, and each of its inodes with the blocks it uses. */
    private void chunk(int agno, InodeChunk c) {
        long startino = c.startino();
        chunkDigest.update(ByteBuffer.allocate(Integer.BYTES + 2 * Long.BYTES).putInt(agno).putLong(startino)
                .putLong(c.holemask()).array());
        int perBlock = device.inodesPerBlock();
        int inodesPerStep = Math.max(1, Math.min(perBlock, InodeChunk.INODES));
        for (int first = 0; first < InodeChunk.INODES; first += inodesPerStep) {
            boolean allocated = false;
            for (int i = first; i < first + inodesPerStep; i++) {
                allocated |= !c.isHole(i);
            }
            if (allocated && perBlock <= InodeChunk.INODES) {
                inodeBlock(agno, (startino + first) / perBlock);
            }
        }
        if (perBlock > InodeChunk.INODES && (startino % perBlock) == 0) {
            inodeBlock(agno, startino / perBlock);
        }
        if (inodes == null) {
            return; // metadata only
        }
        for (int i = 0; i < InodeChunk.INODES; i++) {
            if (c.isHole(i)) {
                continue;
            }
            long ino = device.inodeNumber(agno, startino + i);
            if (ino < 0 || ino > InodeMapRecord.MAX_INO) { // geometry no XFS has: no record can hold it
                findings.accept(new Finding("inode", agno, "inode " + Long.toUnsignedString(ino), "beyond XFS's inode numbers", null));
                return;
            }
            InodeMapRecord.State state;
            try {
                inodeExtents.ino = ino;
                state = device.inodeSpace(ino, inodeExtents, p -> problem(agno, p))
                        ? InodeMapRecord.State.IN_USE : InodeMapRecord.State.FREE;
            } catch (XfsException e) {
                findings.accept(new Finding("inode", agno, "inode " + ino, e.getMessage(), null));
                state = InodeMapRecord.State.UNREADABLE; // neither in use nor free for the inobt check
            }
            inodesInOrder &= ino > lastIno;
            lastIno = ino;
            try {
                inodeRec.set(ino, state).appendTo(inodes);
            } catch (StagingException e) {
                stagingFailure = e;
            }
            inodesSeen++;
        }
    }

    /**
     * One block of inode chunks: runs of them (a chunk, and chunks the inobt lists one after the other) go into the space
     * map as one extent, not a record per block.
     */
    private void inodeBlock(int agno, long agbno) {
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
            if (mappings == null || stagingFailure != null) {
                return;
            }
            try {
                mappingRec.set(agno, agbno, length, ino, offset, attrFork, bmbt, unwritten).appendTo(mappings);
            } catch (StagingException e) {
                stagingFailure = e;
            }
        }
    }

    /** One problem the device found in an inode it read for the walk: staged for the strategies of its structure. */
    private void problem(int agno, InodeProblem p) {
        if (problems == null || stagingFailure != null) {
            return;
        }
        try {
            problemRec.set(p, agno).appendTo(problems);
        } catch (StagingException e) {
            stagingFailure = e;
        }
    }

    private void add(int agno, long agbno, long length, SpaceUse use, long ino) {
        if (stagingFailure != null) {
            return;
        }
        try {
            spaceRec.set(agno, agbno, length, use, ino).appendTo(space);
            extents++;
        } catch (StagingException e) {
            stagingFailure = e;
        }
    }

    private void failIfStagingFailed() throws StagingException {
        if (stagingFailure != null) {
            throw stagingFailure;
        }
    }
}
