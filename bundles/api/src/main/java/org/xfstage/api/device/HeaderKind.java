package org.xfstage.api.device;

/** The header structures whose counters {@link XfsDevice#updateHeader} can set. */
public enum HeaderKind {
    /** The primary superblock: icount, ifree, fdblocks. */
    SUPERBLOCK,
    /** An AGF: freeblks, longest, btreeblks, flcount, flfirst, fllast, rmap_blocks, refcount_blocks, and the roots and levels of the free-space, reverse-mapping and refcount btrees. */
    AGF,
    /** An AGI: count, freecount; unlinked0..unlinked63 (the unlinked buckets); root, level, free_root, free_level, iblocks, fblocks (inode btree roots and sizes). */
    AGI
}
