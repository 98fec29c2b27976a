package org.xfstage.repair.internal;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The one walk of a scrub: for every AG, the static space (headers, AGFL, log), every block of every btree, every
 * inode chunk and every inode's blocks go into the space map; every inode of every chunk goes into the inode map.
 * Whatever cannot be read becomes a finding, and the walk goes on with the next structure.
 * <p>
 * Without an inode map, only the metadata: the inodes are not read (a repair's re-check reuses what the first walk
 * found in them when no plan wrote inode space); the chunks the inobt lists are summed up in {@link #chunks()} so
 * that the re-check can tell whether they are the same.
 */
final class SpaceWalk {
    static final int SPACE_RECORD = 24;
    static final int INODE_RECORD = 16;
    private static final int INODES_PER_CHUNK = 64;

    private final XfsDevice device;
    private final FsInfo info;
    private final XfArray space;
    private final XfArray inodes;
    private final Consumer<Finding> findings;
    private final Progress progress;
    private final ByteBuffer spaceRec = ByteBuffer.allocate(SPACE_RECORD);
    private final ByteBuffer inodeRec = ByteBuffer.allocate(INODE_RECORD);
    private StagingException stagingFailure;
    private final LongList treeBlocks = new LongList(); // staged only once the tree is known
    private final java.security.MessageDigest chunkDigest;
    long extents;
    long inodesSeen;
    /** Whether the inode map was appended in increasing inode order (inobt order, AG by AG): then it needs no sort. */
    boolean inodesInOrder = true;
    private long lastIno = -1;

    SpaceWalk(XfsDevice device, FsInfo info, XfArray space, XfArray inodes, Consumer<Finding> findings, Progress progress) {
        this.device = device;
        this.info = info;
        this.space = space;
        this.inodes = inodes;
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
                device.staticSpace(agno, (agbno, len, owner) -> add(agno, agbno, len, owner));
            } catch (XfsException e) {
                findings.accept(new Finding("agfl", agno, "AG headers", e.getMessage(), null));
            }
            for (BtreeType t : BtreeType.values()) {
                if (!present(t)) {
                    continue;
                }
                long owner = ScrubContext.OWNER_BTREE_BASE - t.ordinal();
                treeBlocks.clear();
                try {
                    device.walkBtree(agno, t, records(agno, t), treeBlocks::add);
                } catch (XfsException e) {
                    findings.accept(new Finding(t.name().toLowerCase() + "bt", agno, "btree walk", e.getMessage(), null));
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
                treeBlocks.forEach(agbno -> add(agno, agbno, 1, owner));
                failIfStagingFailed();
            }
            progress.increment(1);
        }
        failIfStagingFailed();
    }

    /** What the walk takes from a tree's records: inode chunks from the inobt, CoW staging extents from the refcountbt. */
    private java.util.function.Consumer<long[]> records(int agno, BtreeType t) {
        return switch (t) {
            case INO -> rec -> chunk(agno, rec);
            case REFCOUNT -> rec -> {
                if (rec[3] != 0) {
                    add(agno, rec[0], rec[1], ScrubContext.OWNER_COW);
                }
            };
            default -> rec -> { };
        };
    }

    private boolean present(BtreeType t) {
        return switch (t) {
            case FINO -> info.features().contains("finobt");
            case RMAP -> info.features().contains("rmapbt");
            case REFCOUNT -> info.features().contains("reflink");
            default -> true;
        };
    }

    /** A digest of the inode chunks the inobts list (AG, first inode, holes), in walk order. */
    byte[] chunks() {
        return chunkDigest.digest();
    }

    /** One inobt record: the chunk's blocks, and each of its inodes with the blocks it uses. */
    private void chunk(int agno, long[] rec) {
        long startino = rec[0];
        long holemask = rec[1];
        chunkDigest.update(java.nio.ByteBuffer.allocate(20).putInt(agno).putLong(startino).putLong(holemask).array());
        int perBlock = device.inodesPerBlock();
        int inodesPerStep = Math.max(1, Math.min(perBlock, INODES_PER_CHUNK));
        for (int first = 0; first < INODES_PER_CHUNK; first += inodesPerStep) {
            boolean allocated = false;
            for (int i = first; i < first + inodesPerStep; i++) {
                allocated |= !hole(holemask, i);
            }
            if (allocated && perBlock <= INODES_PER_CHUNK) {
                add(agno, (startino + first) / perBlock, 1, ScrubContext.OWNER_INODES);
            }
        }
        if (perBlock > INODES_PER_CHUNK && (startino % perBlock) == 0) {
            add(agno, startino / perBlock, 1, ScrubContext.OWNER_INODES);
        }
        if (inodes == null) {
            return; // metadata only
        }
        for (int i = 0; i < INODES_PER_CHUNK; i++) {
            if (hole(holemask, i)) {
                continue;
            }
            long ino = device.inodeNumber(agno, startino + i);
            long state;
            try {
                state = device.inodeSpace(ino, (a, agbno, len, bmbt) -> add(a, agbno, len, ino)) ? 1 : 0;
            } catch (XfsException e) {
                findings.accept(new Finding("inode", agno, "inode " + ino, e.getMessage(), null));
                state = 2; // unreadable: neither in use nor free for the inobt check
            }
            inodeRecord(inodeRec, ino, state);
            inodesInOrder &= ino > lastIno;
            lastIno = ino;
            try {
                inodes.append(inodeRec);
            } catch (StagingException e) {
                stagingFailure = e;
            }
            inodesSeen++;
        }
    }

    private static boolean hole(long holemask, int inode) {
        return (holemask & (1L << (inode / 4))) != 0;
    }

    private void add(int agno, long agbno, long length, long owner) {
        if (stagingFailure != null) {
            return;
        }
        spaceRecord(spaceRec, agno, agbno, length, owner);
        try {
            space.append(spaceRec);
            extents++;
        } catch (StagingException e) {
            stagingFailure = e;
        }
    }

    /*
     * The staged records, laid out as Observation documents them. This bundle writes them only here and reads them
     * only through the accessors below, so that typed accessors can replace both. A space map record (24 bytes): AG
     * and AG block as one big-endian key (the sort orders by it), length, 4 bytes zero, owner (an inode number, or one
     * of ScrubContext's OWNER_ codes). An inode map record (16 bytes): inode number + 1, state (1 in use, 0 free, 2
     * unreadable).
     */

    private static void spaceRecord(ByteBuffer r, int agno, long agbno, long length, long owner) {
        r.clear();
        r.putInt(agno).putInt((int) agbno).putInt((int) length).putInt(0).putLong(owner).flip();
    }

    private static void inodeRecord(ByteBuffer r, long ino, long state) {
        r.clear();
        r.putLong(ino + 1).putLong(state).flip(); // ino + 1: inode 0 would make an all-zero (null) record
    }

    /** The sort key of a space map record starting at (agno, agbno). */
    static long spaceKey(long agno, long agbno) {
        return agno << 32 | agbno;
    }

    static long spaceKey(ByteBuffer r) {
        return r.getLong(0);
    }

    static int spaceAg(ByteBuffer r) {
        return r.getInt(0);
    }

    static long spaceStart(ByteBuffer r) {
        return r.getInt(4) & 0xffffffffL;
    }

    static long spaceLength(ByteBuffer r) {
        return r.getInt(8) & 0xffffffffL;
    }

    static long spaceOwner(ByteBuffer r) {
        return r.getLong(16);
    }

    private void failIfStagingFailed() throws StagingException {
        if (stagingFailure != null) {
            throw stagingFailure;
        }
    }
}
