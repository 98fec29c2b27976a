package org.xfstage.api.device;

/**
 * A record of the refcount btree (xfs_refcount_irec).
 *
 * @param start    first AG block, without the CoW domain bit (rc_startblock)
 * @param length   blocks (rc_blockcount)
 * @param refcount how many owners share them (rc_refcount; 1 for CoW staging)
 * @param cow      a copy-on-write staging extent rather than shared data
 */
public record RefcountExtent(long start, long length, long refcount, boolean cow) {
}
