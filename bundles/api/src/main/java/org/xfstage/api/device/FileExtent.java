package org.xfstage.api.device;

/**
 * One mapping of an inode's fork, as a bmbt record holds it (xfs_bmbt_irec): file blocks
 * {@code [offset, offset + length)} at AG block {@code agbno} of AG {@code agno}.
 *
 * @param offset    the first file block (br_startoff)
 * @param agno      the AG of its blocks
 * @param agbno     the first AG block (br_startblock, within its AG)
 * @param length    blocks (br_blockcount)
 * @param unwritten whether the extent is preallocated and unwritten (br_state)
 * @since api device 2.5
 */
public record FileExtent(long offset, int agno, long agbno, long length, boolean unwritten) {
    /** The file block after the last of the extent. */
    public long end() {
        return offset + length;
    }

    /** Whether the extent's blocks meet AG blocks {@code [start, start + count)} of AG {@code ag}. */
    public boolean meets(int ag, long start, long count) {
        return agno == ag && agbno < start + count && start < agbno + length;
    }
}
