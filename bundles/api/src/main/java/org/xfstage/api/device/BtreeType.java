package org.xfstage.api.device;

/**
 * The per-AG btrees, and the fields of their records as {@link XfsDevice#walkBtree} hands them out (in this order,
 * unsigned values in longs).
 */
public enum BtreeType {
    /** Free space by block number: startblock, blockcount. */
    BNO,
    /** Free space by size: startblock, blockcount (ordered by blockcount, then startblock). */
    CNT,
    /** Inode chunks: startino (AG inode number), holemask, count, freecount, free mask (bit i: inode startino+i free). */
    INO,
    /** Inode chunks with free inodes; same fields as {@link #INO}. */
    FINO,
    /** Reverse mappings: startblock, blockcount, owner, offset (file offset, flag bits removed), flags (bit 2 attr fork, bit 1 bmbt block, bit 0 unwritten). */
    RMAP,
    /** Reference counts: startblock (without the CoW flag), blockcount, refcount, cow (1 for CoW staging). */
    REFCOUNT
}
