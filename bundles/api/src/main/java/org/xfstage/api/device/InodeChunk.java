package org.xfstage.api.device;

/**
 * A record of the inode btrees (xfs_inobt_rec_incore): a chunk of {@link #INODES} inodes from AG inode
 * {@code startino}, some of which may be holes (sparse chunks).
 *
 * @param startino  the chunk's first AG inode number (ir_startino)
 * @param holemask  one bit per {@link #INODES_PER_HOLEMASK_BIT} inodes that are not allocated (ir_holemask)
 * @param count     inodes allocated in the chunk (ir_count)
 * @param freecount free inodes (ir_freecount)
 * @param free      one bit per inode that is free (ir_free)
 */
public record InodeChunk(long startino, int holemask, int count, int freecount, long free) {
    /** Inodes in a chunk (XFS_INODES_PER_CHUNK). */
    public static final int INODES = 64;
    /** Inodes one holemask bit covers (XFS_INODES_PER_HOLEMASK_BIT). */
    public static final int INODES_PER_HOLEMASK_BIT = 4;

    /** Whether inode {@code i} (0..63) of the chunk is a hole. */
    public boolean isHole(int i) {
        return (holemask & (1 << (i / INODES_PER_HOLEMASK_BIT))) != 0;
    }

    /** Whether inode {@code i} of the chunk is free (a hole counts as free, as on disk). */
    public boolean isFree(int i) {
        return (free & (1L << i)) != 0;
    }

    /** One bit per inode of the chunk that is a hole. */
    public long holes() {
        return holes(holemask);
    }

    /** One bit per inode that a holemask makes a hole. */
    public static long holes(int holemask) {
        long m = 0;
        for (int bit = 0; bit < INODES / INODES_PER_HOLEMASK_BIT; bit++) {
            if ((holemask & (1 << bit)) != 0) {
                m |= ((1L << INODES_PER_HOLEMASK_BIT) - 1) << (INODES_PER_HOLEMASK_BIT * bit);
            }
        }
        return m;
    }

    /** Inodes of the chunk that are not holes: what its count must be. */
    public int allocated() {
        return INODES - Long.bitCount(holes());
    }

    /** Inodes that are not holes and marked free: what its freecount must be. */
    public int freeInodes() {
        return Long.bitCount(free & ~holes());
    }

    /**
     * The same chunk (place and holes) with inode {@code i} free where {@code free.test(i)}, holes free as on disk,
     * and count and freecount that agree.
     */
    public InodeChunk withFreeInodes(java.util.function.IntPredicate free) {
        long mask = holes();
        for (int i = 0; i < INODES; i++) {
            if (free.test(i)) {
                mask |= 1L << i;
            }
        }
        InodeChunk c = new InodeChunk(startino, holemask, 0, 0, mask);
        return new InodeChunk(startino, holemask, c.allocated(), c.freeInodes(), mask);
    }

    /** The same chunk with other counts and free mask (the place and holes kept). */
    public InodeChunk withFree(int count, int freecount, long free) {
        return new InodeChunk(startino, holemask, count, freecount, free);
    }
}
