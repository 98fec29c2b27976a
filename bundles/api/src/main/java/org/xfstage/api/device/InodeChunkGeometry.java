package org.xfstage.api.device;

/**
 * Where inode chunks can lie in an AG and which of their parts are allocated together, from the superblock's inode
 * alignment and sparse-inode fields (sb_inoalignmt, sb_spino_align, sb_inopblock). All counts are in inodes; AG
 * inode numbers count from the AG's first block, {@link #inodesPerBlock()} to a block.
 *
 * @param inodesPerBlock inodes in one filesystem block
 * @param chunkAlignment a chunk's first AG inode number (an inobt record's startino) is a multiple of this
 * @param allocationUnit inodes allocated, or left as a hole, together: a whole chunk ({@link InodeChunk#INODES})
 *                       without sparse inodes, else the sparse allocation (sb_spino_align blocks' worth); a multiple
 *                       of {@link InodeChunk#INODES_PER_HOLEMASK_BIT} that divides {@link InodeChunk#INODES}
 */
public record InodeChunkGeometry(int inodesPerBlock, int chunkAlignment, int allocationUnit) {

    /**
     * The first AG inode of the only chunk that can hold AG inode {@code agino}, or -1 when none can (the chunk it
     * would be in cannot start there) or several could (chunks aligned to fewer inodes than a chunk holds).
     */
    public long chunkHolding(long agino) {
        if (agino < 0 || chunkAlignment < InodeChunk.INODES) {
            return -1; // with a finer alignment a chunk may start at any of several places below agino
        }
        long start = agino - agino % chunkAlignment; // the only place within a chunk's length below agino
        return agino - start < InodeChunk.INODES ? start : -1;
    }

    /** Whether a chunk may start at AG inode {@code startino}. */
    public boolean canStartAt(long startino) {
        return startino >= 0 && chunkAlignment > 0 && startino % chunkAlignment == 0;
    }

    /** The AG block that holds AG inode {@code agino}. */
    public long blockOf(long agino) {
        return agino / inodesPerBlock;
    }
}
