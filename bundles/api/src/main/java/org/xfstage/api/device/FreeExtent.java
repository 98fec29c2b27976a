package org.xfstage.api.device;

/**
 * A record of the free-space btrees (xfs_alloc_rec_incore): {@code length} free blocks from AG block {@code start}.
 *
 * @param start  first AG block (ar_startblock)
 * @param length blocks (ar_blockcount)
 */
public record FreeExtent(long start, long length) {
    /** The AG block after the last of the extent. */
    public long end() {
        return start + length;
    }
}
