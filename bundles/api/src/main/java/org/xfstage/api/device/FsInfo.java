package org.xfstage.api.device;

import java.util.List;

/**
 * Geometry and counters of a filesystem, as {@code xfs_info} shows them, plus per-AG free space and inodes.
 *
 * @param uuid           filesystem UUID
 * @param label          filesystem label (may be empty)
 * @param blockSize      bytes per filesystem block
 * @param sectorSize     bytes per sector
 * @param inodeSize      bytes per inode
 * @param agCount        allocation groups
 * @param agBlocks       blocks per allocation group (the last may be shorter)
 * @param dataBlocks     blocks in the data section
 * @param dirBlockSize   bytes per directory block
 * @param logBlocks      blocks in the internal log (0 for an external log)
 * @param logStart       filesystem block where the internal log starts
 * @param sunit          stripe unit in blocks
 * @param swidth         stripe width in blocks
 * @param imaxPct        most percent of space for inodes
 * @param features       enabled features by their mkfs names (crc, finobt, rmapbt, reflink, ftype, sparse, bigtime, inobtcount, nrext64 ...)
 * @param icount         allocated inodes (superblock)
 * @param ifree          free inodes (superblock)
 * @param fdblocks       free data blocks (superblock)
 * @param ags            per allocation group figures
 */
public record FsInfo(String uuid, String label, int blockSize, int sectorSize, int inodeSize, int agCount, long agBlocks,
        long dataBlocks, int dirBlockSize, long logBlocks, long logStart, long sunit, long swidth, int imaxPct,
        List<String> features, long icount, long ifree, long fdblocks, List<AgInfo> ags) {

    /** Whether the filesystem has a feature (xfs_has_*). */
    public boolean has(Feature feature) {
        return features.contains(feature.mkfsName());
    }

    /** Whether the filesystem has a per-AG btree of this type (finobt, rmapbt and refcountbt are optional). */
    public boolean hasTree(BtreeType type) {
        return type.feature() == null || has(type.feature());
    }

    /**
     * One allocation group. For an AG whose AGF or AGI does not decode (bad magic or checksum, another AG's seqno,
     * another filesystem's uuid) the figures are what that header's sector holds, unchecked, and the length is the
     * geometry's; {@link XfsDevice#header} says what is wrong with it.
     *
     * @param agno       its number
     * @param length     blocks in it
     * @param freeBlocks free blocks (AGF)
     * @param longest    longest free extent (AGF)
     * @param inodes     allocated inodes (AGI)
     * @param freeInodes free inodes (AGI)
     * @param flCount    blocks on the AGFL (AGF)
     * @param btreeBlocks blocks of the free-space and rmap btrees past their roots (AGF agf_btreeblks)
     * @param rmapBlocks  blocks of the rmapbt, root included (AGF agf_rmap_blocks; 0 without rmapbt)
     * @param refcountBlocks blocks of the refcountbt, root included (AGF agf_refcount_blocks; 0 without reflink)
     */
    public record AgInfo(int agno, long length, long freeBlocks, long longest, long inodes, long freeInodes, long flCount,
            long btreeBlocks, long rmapBlocks, long refcountBlocks) {
    }
}
