package org.xfstage.api.device;

/**
 * A record of the reverse-mapping btree (xfs_rmap_irec): who owns {@code length} blocks from AG block
 * {@code start}, and where they are in the owner's file.
 *
 * @param start     first AG block (rm_startblock)
 * @param length    blocks (rm_blockcount)
 * @param owner     an inode number, or a {@link MetadataOwner#code()} (rm_owner)
 * @param offset    file offset in blocks, 0 for metadata and bmbt blocks (rm_offset without its flags)
 * @param attrFork  the blocks map the attribute fork (XFS_RMAP_ATTR_FORK)
 * @param bmbt      the blocks are a block-mapping btree's (XFS_RMAP_BMBT_BLOCK)
 * @param unwritten the extent is unwritten (XFS_RMAP_UNWRITTEN)
 */
public record ReverseMapping(long start, long length, long owner, long offset, boolean attrFork, boolean bmbt,
        boolean unwritten) {
    /** Whether a file's data, where adjacent mappings merge only when their offsets are adjacent too. */
    public boolean isFileData() {
        return owner >= 0 && !bmbt;
    }

    /** The same mapping with another length. */
    public ReverseMapping withLength(long newLength) {
        return new ReverseMapping(start, newLength, owner, offset, attrFork, bmbt, unwritten);
    }

    /** Owner, fork, offset and flags in words, for a finding. */
    public String describe() {
        if (owner < 0) {
            return MetadataOwner.describe(owner);
        }
        return "inode " + owner + (attrFork ? " (attribute fork)" : "") + (bmbt ? " as bmbt block" : " at offset " + offset)
                + (unwritten ? ", unwritten" : "");
    }
}
