package org.xfstage.repair.internal;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
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
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.UncheckedStagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;

/**
 * The one walk of a scrub: for every AG, the static space (headers, AGFL, log), every block of every btree, every
 * inode chunk (runs of their blocks as one extent) and every inode's blocks go into the space map; every inode of every chunk goes into the inode map,
 * and what the device finds wrong in it, in the same read, into the inode problems (for the inode, bmap, symlink and
 * xattr strategies). Whatever cannot be read becomes a finding, and the walk goes on with the next structure.
 * <p>
 * Without an inode map, only the metadata: the inodes are not read (a repair's re-check reuses what the first walk
 * found in them when no plan wrote inode space); the chunks the inobt lists are summed up in {@link #chunks()} so
 * that the re-check can tell whether they are the same.
 * <p>
 * With {@link #threads} above one, the AGs are walked by that many threads ({@link AgWorkers}): an AG walked before
 * its turn stages into arrays of its own, appended to the walk's in AG order, so that the walk stages the same records
 * in the same order, and reports the same findings, whatever the number of threads.
 */
final class SpaceWalk {
    /** The staged kinds, as indexes of {@link AgWalk}'s outputs: the space map, inode map, inode problems, mappings. */
    private static final int SPACE = 0;
    private static final int INODES = 1;
    private static final int PROBLEMS = 2;
    private static final int MAPPINGS = 3;
    private static final String[] KINDS = {"space map", "inode map", "inode problems", "file mappings"};

    private final XfsDevice device;
    private final FsInfo info;
    /** The walk's arrays by kind; the inode map, problems and mappings are null when not staged. */
    private final XfArray[] out;
    private final Consumer<Finding> findings;
    private final Progress progress;
    private final MessageDigest chunkDigest = sha256();
    private int threads = 1;
    /** Where an AG walked ahead of its turn stages (null: one thread, no AG is ahead). */
    private XfArrayFactory buffers;
    private AgWorkers workers;
    long extents;
    long inodesSeen;
    /** Whether the inode map was appended in increasing inode order (inobt order, AG by AG): then it needs no sort. */
    boolean inodesInOrder = true;
    private long lastIno = -1;

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
        this.device = device;
        this.info = info;
        this.out = new XfArray[] {space, inodes, problems, mappings};
        this.findings = findings;
        this.progress = progress;
    }

    /**
     * Walks with {@code n} threads (the engine's walkThreads; at most one per AG), an AG walked ahead of its turn staging
     * into arrays made by {@code buffers} until it is appended; one thread walks the AGs in turn on the calling thread.
     */
    SpaceWalk threads(int n, XfArrayFactory buffers) {
        this.threads = Math.max(1, n);
        this.buffers = buffers;
        return this;
    }

    void walk() throws StagingException {
        progress.total("scrub: walk", info.agCount());
        List<FsInfo.AgInfo> ags = info.ags();
        if (threads <= 1 || ags.size() <= 1 || buffers == null) {
            for (FsInfo.AgInfo ag : ags) {
                if (progress.isCancelled()) {
                    throw new CancelledException("scrub cancelled during the walk of AG " + ag.agno());
                }
                AgWalk a = new AgWalk(ag.agno());
                a.goDirect();
                a.walk();
                a.merge();
                progress.increment(1);
            }
            return;
        }
        workers = new AgWorkers(threads, progress);
        workers.run(ags.size(), i -> new AgWalk(ags.get(i).agno()));
    }

    /** A digest of the inode chunks the inobts list (AG, first inode, holes): of each AG's digest, in AG order. */
    byte[] chunks() {
        return chunkDigest.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java platform has SHA-256
        }
    }

    /**
     * The walk of one AG, on one thread: its records go into the walk's arrays when it is the AG whose turn it is
     * ({@link #goDirect}), else into arrays of its own, appended to the walk's by {@link #merge}; its findings and
     * counts are the walk's at its merge.
     */
    private final class AgWalk implements AgWorkers.Stage {
        private final int agno;
        private final SpaceMapRecord spaceRec = new SpaceMapRecord();
        private final InodeMapRecord inodeRec = new InodeMapRecord();
        private final InodeProblemRecord problemRec = new InodeProblemRecord();
        private final MappingRecord mappingRec = new MappingRecord();
        /** The extents of the inode being read: into the space map, and as mappings when they are staged. */
        private final InodeExtents inodeExtents = new InodeExtents();
        private final LongList treeBlocks = new LongList(); // staged only once the tree is known
        private final MessageDigest digest = sha256();
        private final List<Finding> found = new ArrayList<>();
        /** This AG's own arrays by kind, made when it first stages one ahead of its turn. */
        private final XfArray[] buffered = new XfArray[KINDS.length];
        /** Set by the merging thread, read by this AG's: from the next record on, straight into the walk's arrays. */
        private volatile boolean direct;
        /** Whether this AG's thread has appended what it buffered and writes into the walk's arrays (its thread only). */
        private boolean writingDirect;
        private StagingException stagingFailure;
        private long extents;
        private long inodesSeen;
        private boolean inOrder = true;
        private long firstIno = -1;
        private long lastIno = -1;
        /** The run of inode-chunk blocks not yet in the space map. */
        private int runAg;
        private long runStart;
        private long runLength;

        AgWalk(int agno) {
            this.agno = agno;
        }

        @Override
        public void goDirect() {
            direct = true;
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
            failIfStagingFailed();
        }

        @Override
        public void merge() throws StagingException {
            if (!writingDirect) { // it ended before its turn: what it buffered, in the order it was staged
                appendBuffered();
            }
            found.forEach(findings);
            SpaceWalk.this.extents += extents;
            SpaceWalk.this.inodesSeen += inodesSeen;
            if (firstIno >= 0) {
                inodesInOrder &= inOrder && firstIno > SpaceWalk.this.lastIno;
                SpaceWalk.this.lastIno = lastIno;
            }
            chunkDigest.update(digest.digest());
        }

        @Override
        public void discard() {
            for (int k = 0; k < buffered.length; k++) {
                if (buffered[k] != null) {
                    buffered[k].close();
                    buffered[k] = null;
                }
            }
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
                    default -> device.walkBtree(agno, Btree.of(t), r -> { }, treeBlocks::add);
                }
            } catch (XfsException e) {
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
            failIfStagingFailed();
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
            if (out[INODES] == null) {
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
                stage(INODES, inodeRec);
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
                if (out[MAPPINGS] != null) {
                    mappingRec.set(agno, agbno, length, ino, offset, attrFork, bmbt, unwritten);
                    stage(MAPPINGS, mappingRec);
                }
            }
        }

        /** One problem the device found in an inode it read for the walk: staged for the strategies of its structure. */
        private void problem(InodeProblem p) {
            if (out[PROBLEMS] != null) {
                problemRec.set(p, agno);
                stage(PROBLEMS, problemRec);
            }
        }

        private void add(int agno, long agbno, long length, SpaceUse use, long ino) {
            spaceRec.set(agno, agbno, length, use, ino);
            if (stage(SPACE, spaceRec)) {
                extents++;
            }
        }

        /** Appends {@code r} to the walk's array of kind {@code k}, or to this AG's own before its turn; false if not. */
        private boolean stage(int k, StagedRecord<?> r) {
            if (stagingFailure != null) {
                return false;
            }
            try {
                if (!writingDirect && direct) { // its turn came: what it buffered first, then straight on
                    appendBuffered();
                    writingDirect = true;
                }
                XfArray to = writingDirect ? out[k] : buffered[k];
                if (to == null) {
                    to = buffered[k] = buffers.create("walk of AG " + agno + " " + KINDS[k], out[k].recordSize());
                }
                r.appendTo(to);
                return true;
            } catch (StagingException e) {
                stagingFailure = e;
                return false;
            }
        }

        /** This AG's own arrays appended to the walk's, record by record in their order, and given back. */
        private void appendBuffered() throws StagingException {
            for (int k = 0; k < buffered.length; k++) {
                XfArray from = buffered[k];
                if (from == null) {
                    continue;
                }
                ByteBuffer rec = ByteBuffer.allocate(from.recordSize());
                // records are never null (the walk stores none), so loadNext visits every index once, in order
                for (long i = from.loadNext(0, rec); i >= 0; i = from.loadNext(i + 1, rec)) {
                    out[k].append(rec);
                }
                from.close();
                buffered[k] = null;
            }
        }

        private void failIfStagingFailed() throws StagingException {
            if (stagingFailure != null) {
                throw stagingFailure;
            }
        }
    }
}
