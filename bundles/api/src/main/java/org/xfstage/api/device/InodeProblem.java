package org.xfstage.api.device;

/**
 * One rule an inode breaks, found by the device's verifying read of it ({@link XfsDevice#checkInode},
 * {@link XfsDevice#inodeSpace(long, XfsDevice.InodeSpaceSink, XfsDevice.ProblemSink)}): its core, the extent maps
 * of its forks and their bmbt blocks, its symlink target, its extended attributes. Typed so that it can be staged
 * as a fixed-size record and said in words by whoever reports it; the numbers mean what the {@link Kind}'s text
 * says they mean.
 *
 * @param ino      the inode
 * @param kind     the rule broken (and so the structure it is reported under)
 * @param attrFork whether it concerns the attribute fork rather than the data fork (for rules of a fork)
 * @param at       where: a record number, a file or attribute block, a filesystem block, a byte offset, as the
 *                 kind's text says; -1 when the rule is about the inode core as a whole
 * @param found    the value on disk, as the kind's text says
 * @param expected what the rule wants, or -1 when it names no single value
 */
public record InodeProblem(long ino, Kind kind, boolean attrFork, long at, long found, long expected) {

    /** A problem of the inode core (no place in a fork). */
    public static InodeProblem of(long ino, Kind kind, long found, long expected) {
        return new InodeProblem(ino, kind, false, -1, found, expected);
    }

    /** The structure, by the name the strategy that reports it registers under. */
    public String structure() {
        return kind.structure().structureName();
    }

    /** The problem in words, with its numbers filled in. */
    public String describe() {
        String text = String.format(kind.text(), at, found, expected);
        return kind.forkRule() ? (attrFork ? "attribute fork: " : "data fork: ") + text : text;
    }

    /** The structures inode problems are reported under. */
    public enum Structure {
        /** The inode core: sizes, counts, flags, hints, fork offsets and formats. */
        INODE("inode"),
        /** The extent maps of the forks and their bmbt blocks. */
        BMAP("bmap"),
        /** A symlink's target: its length, its local bytes or its remote blocks. */
        SYMLINK("symlink"),
        /** Extended attributes: short form, leaf and node blocks, remote values. */
        XATTR("xattr");

        private final String structureName;

        Structure(String structureName) {
            this.structureName = structureName;
        }

        /** The name strategies register under ({@code xfstage.structure}). */
        public String structureName() {
            return structureName;
        }
    }

    /**
     * The rules. Each text is a format with {@code %1$d} = at, {@code %2$d} = found, {@code %3$d} = expected; the C
     * names in it are those of xfs_format.h, so that a finding can be checked against xfs_db.
     */
    public enum Kind {
        // the inode core
        /** di_onlink must be 0 on v3 inodes. */
        ONLINK(Structure.INODE, false, "di_onlink is %2$d, must be 0"),
        /** The padding of v3 inodes (di_v3_pad, or di_nrext64_pad with large extent counts) must be zero. */
        PAD(Structure.INODE, false, "padding is not zero (%2$d)"),
        /** di_flags bits no kernel defines. */
        FLAGS_UNKNOWN(Structure.INODE, false, "di_flags has unknown bits 0%2$o"),
        /** The realtime flag on a filesystem without a realtime device. */
        FLAGS_REALTIME(Structure.INODE, false, "realtime flag without a realtime device"),
        /** The NEWRTBM flag on an inode that is not the realtime bitmap. */
        FLAGS_NEWRTBM(Structure.INODE, false, "NEWRTBM flag on an inode that is not the realtime bitmap"),
        /** RTINHERIT, EXTSZINHERIT, PROJINHERIT or NOSYMLINKS on a non-directory. */
        FLAGS_DIRECTORY_ONLY(Structure.INODE, false, "directory flags 0%2$o on a non-directory"),
        /** REALTIME or EXTSIZE on a non-regular file. */
        FLAGS_FILE_ONLY(Structure.INODE, false, "regular-file flags 0%2$o on a file that is not regular"),
        /** di_flags2 bits no kernel defines. */
        FLAGS2_UNKNOWN(Structure.INODE, false, "di_flags2 has unknown bits 0x%2$x"),
        /** DAX on a file that is neither regular nor a directory. */
        FLAGS2_DAX(Structure.INODE, false, "DAX flag on a special file"),
        /** The reflink flag on a filesystem without reflink. */
        FLAGS2_REFLINK_FEATURE(Structure.INODE, false, "reflink flag, but the filesystem has no reflink feature"),
        /** The reflink flag on a file that is not regular. */
        FLAGS2_REFLINK_TYPE(Structure.INODE, false, "reflink flag on a file that is not regular"),
        /** The reflink flag on a realtime inode. */
        FLAGS2_REFLINK_REALTIME(Structure.INODE, false, "reflink flag on a realtime inode"),
        /** The CoW extent size flag on a filesystem without reflink. */
        FLAGS2_COWEXTSIZE_FEATURE(Structure.INODE, false, "CoW extent size flag, but the filesystem has no reflink feature"),
        /** The CoW extent size flag on a file that is neither regular nor a directory. */
        FLAGS2_COWEXTSIZE_TYPE(Structure.INODE, false, "CoW extent size flag on a file that is neither regular nor a directory"),
        /** The CoW extent size flag on a realtime inode. */
        FLAGS2_COWEXTSIZE_REALTIME(Structure.INODE, false, "CoW extent size flag on a realtime inode"),
        /** The bigtime flag on a filesystem without bigtime. */
        FLAGS2_BIGTIME(Structure.INODE, false, "bigtime flag, but the filesystem has no bigtime feature"),
        /** The large extent counts flag on a filesystem without nrext64. */
        FLAGS2_NREXT64(Structure.INODE, false, "large extent counts flag, but the filesystem has no nrext64 feature"),
        /** di_extsize breaks xfs_inode_validate_extsize (flag and hint disagree, wrong type, too large). */
        EXTSIZE(Structure.INODE, false, "bad extent size hint %2$d"),
        /** di_cowextsize breaks xfs_inode_validate_cowextsize. */
        COWEXTSIZE(Structure.INODE, false, "bad CoW extent size hint %2$d"),
        /** A legacy timestamp's nanoseconds are a second or more (at: 0 atime, 1 mtime, 2 ctime, 3 crtime). */
        TIMESTAMP_NSEC(Structure.INODE, false, "timestamp %1$d has %2$d nanoseconds"),
        /** di_next_unlinked is neither NULLAGINO nor an inode of this AG. */
        NEXT_UNLINKED(Structure.INODE, false, "di_next_unlinked %2$d is not an inode of this AG"),
        /** di_next_unlinked is set, but with a clean log no inode is on an unlinked list. */
        NEXT_UNLINKED_SET(Structure.INODE, false, "di_next_unlinked is %2$d on a filesystem with a clean log"),
        /** The size does not go with the data fork's format (local when it fits the fork, else extents or btree). */
        SIZE_FORMAT(Structure.INODE, false, "size %2$d does not go with the data fork format (the fork holds %3$d bytes)"),
        /** A directory's size reaches past its data space (32 GiB). */
        DIRECTORY_SIZE(Structure.INODE, false, "directory size %2$d is past the data space (%3$d)"),
        /** A single-block directory's size is not the directory block size. */
        DIRECTORY_BLOCK_SIZE(Structure.INODE, false, "single-block directory of size %2$d (a directory block is %3$d)"),
        /** A device, fifo or socket with a size. */
        SPECIAL_SIZE(Structure.INODE, false, "special file of size %2$d"),
        /** The attribute fork offset is out of range for the data fork's format. */
        FORKOFF(Structure.INODE, false, "attribute fork offset %2$d is out of range (largest %3$d)"),
        /** The attribute fork format is not one an attribute fork may have (or not EXTENTS without an attribute fork). */
        AFORMAT(Structure.INODE, false, "attribute fork format %2$d not allowed here"),
        /** di_nblocks differs from the blocks both forks map plus their bmbt blocks. */
        NBLOCKS(Structure.INODE, false, "di_nblocks is %2$d, the forks map %3$d"),
        /** The data fork's extent count differs from the extents it holds. */
        NEXTENTS(Structure.INODE, false, "di_nextents is %2$d, the data fork holds %3$d extents"),
        /** The attribute fork's extent count differs from the extents it holds. */
        ANEXTENTS(Structure.INODE, false, "di_anextents is %2$d, the attribute fork holds %3$d extents"),
        /** More extents than the fork's format can hold. */
        TOO_MANY_EXTENTS(Structure.INODE, true, "%2$d extents, more than the format can hold (%3$d)"),

        // extent maps and bmbt blocks
        /** An extent of length zero (at: record number). */
        EXTENT_ZERO_LENGTH(Structure.BMAP, true, "extent %1$d at file block %2$d has length 0"),
        /** An extent starts before the previous one ends (at: record number). */
        EXTENT_ORDER(Structure.BMAP, true, "extent %1$d at file block %2$d overlaps or precedes the one before (which ends at %3$d)"),
        /** An extent's first block is not a data block of the filesystem (at: record number). */
        EXTENT_START(Structure.BMAP, true, "extent %1$d starts at block %2$d, outside the filesystem"),
        /** An extent's last block is not a data block of the filesystem (at: record number). */
        EXTENT_END(Structure.BMAP, true, "extent %1$d ends at block %2$d, outside the filesystem"),
        /** An extent runs from one AG into the next (at: record number). */
        EXTENT_CROSSES_AG(Structure.BMAP, true, "extent %1$d from block %2$d runs past the end of its AG"),
        /** An extent ends past the largest file offset (at: record number). */
        EXTENT_OFFSET(Structure.BMAP, true, "extent %1$d at file block %2$d ends past the largest file offset"),
        /** An unwritten extent where only written ones are allowed (attribute forks, non-regular files). */
        EXTENT_UNWRITTEN(Structure.BMAP, true, "extent %1$d at file block %2$d is unwritten, which only regular files' data may be"),
        /** The bmbt root in the inode has a bad level (found) or record count. */
        BMBT_ROOT(Structure.BMAP, true, "bmbt root in the inode: level %2$d, %3$d records"),
        /** A bmbt pointer that is not a block of the filesystem (at: the block holding it, 0 for the root). */
        BMBT_POINTER(Structure.BMAP, true, "bmbt block %1$d points to block %2$d, outside the filesystem"),
        /** A bmbt block without the BMA3 magic (at: the block). */
        BMBT_MAGIC(Structure.BMAP, true, "bmbt block %1$d has bad magic 0x%2$x"),
        /** A bmbt block whose CRC does not match (at: the block). */
        BMBT_CRC(Structure.BMAP, true, "bmbt block %1$d: checksum mismatch"),
        /** A bmbt block at the wrong level (at: the block). */
        BMBT_LEVEL(Structure.BMAP, true, "bmbt block %1$d is level %2$d, its parent wants %3$d"),
        /** A bmbt block owned by another inode (at: the block). */
        BMBT_OWNER(Structure.BMAP, true, "bmbt block %1$d is owned by inode %2$d"),
        /** A bmbt block that records another place (blkno, in 512-byte sectors) or another filesystem's uuid. */
        BMBT_HEADER(Structure.BMAP, true, "bmbt block %1$d records itself at sector %2$d (it is at %3$d) or another uuid"),
        /** A bmbt block with too few or too many records (at: the block). */
        BMBT_RECORDS(Structure.BMAP, true, "bmbt block %1$d holds %2$d records (at most %3$d, at least half of it below the root)"),
        /** A key that is not the first file offset of its child (at: the block holding it, 0 for the root). */
        BMBT_KEY(Structure.BMAP, true, "bmbt block %1$d has key %2$d, its child starts at %3$d"),
        /** A sibling pointer that does not name the neighbour (at: the block). */
        BMBT_SIBLING(Structure.BMAP, true, "bmbt block %1$d has sibling %2$d, its neighbour is %3$d"),
        /** A bmbt block reached twice (at: the block). */
        BMBT_CYCLE(Structure.BMAP, true, "bmbt block %1$d is reached twice"),
        /** A btree fork with so few extents that they would fit the extents format. */
        BMBT_TOO_FEW(Structure.BMAP, true, "btree format with %2$d extents, which fit the inode (%3$d)"),

        // symlinks
        /** A symlink target length out of 1..1023. */
        SYMLINK_LENGTH(Structure.SYMLINK, false, "target length %2$d is out of range (1 to %3$d)"),
        /** A symlink whose size does not go with its data fork's format. */
        SYMLINK_FORMAT(Structure.SYMLINK, false, "target of %2$d bytes does not go with the data fork format (the fork holds %3$d bytes)"),
        /** A remote symlink mapping that is not contiguous from offset 0, or too long (at: record number). */
        SYMLINK_MAPPING(Structure.SYMLINK, false, "remote target extent %1$d at file block %2$d (expected %3$d)"),
        /** A NUL byte inside the target (at: its position). */
        SYMLINK_NUL(Structure.SYMLINK, false, "NUL byte at %1$d of the target"),
        /** A remote symlink block without the XSLM magic (at: the block). */
        SYMLINK_MAGIC(Structure.SYMLINK, false, "remote target block %1$d has bad magic 0x%2$x"),
        /** A remote symlink block whose CRC does not match (at: the block). */
        SYMLINK_CRC(Structure.SYMLINK, false, "remote target block %1$d: checksum mismatch"),
        /** A remote symlink header that names another owner (at: the block). */
        SYMLINK_OWNER(Structure.SYMLINK, false, "remote target block %1$d is owned by inode %2$d"),
        /** A remote symlink header recording another place (blkno, in 512-byte sectors) or uuid (at: the block). */
        SYMLINK_HEADER(Structure.SYMLINK, false, "remote target block %1$d records itself at sector %2$d (it is at %3$d) or another uuid"),
        /** A remote symlink header whose target offset is not where the previous block's bytes end (at: the block). */
        SYMLINK_OFFSET(Structure.SYMLINK, false, "remote target block %1$d holds the target from byte %2$d, expected from %3$d"),
        /** A remote symlink header claiming another byte count than its extent holds of the target (at: the block). */
        SYMLINK_BYTES(Structure.SYMLINK, false, "remote target block %1$d claims %2$d bytes, it holds %3$d"),
        /** The remote blocks hold another number of bytes than the size says. */
        SYMLINK_TARGET(Structure.SYMLINK, false, "remote blocks hold %2$d bytes of target, the size says %3$d"),

        // extended attributes
        /** A short-form attribute fork whose total size is out of range. */
        XATTR_SF_SIZE(Structure.XATTR, false, "short-form attributes of %2$d bytes (the fork holds %3$d, the header 4)"),
        /** A short-form entry that is empty or runs past the total size (at: entry number). */
        XATTR_SF_ENTRY(Structure.XATTR, false, "short-form entry %1$d runs past the end or has no name"),
        /** The short-form entries end elsewhere than at the total size. */
        XATTR_SF_END(Structure.XATTR, false, "short-form entries end at %2$d, the header says %3$d"),
        /** Flags an attribute may not have, or more than one namespace (at: block, found: entry, -1 short form). */
        XATTR_FLAGS(Structure.XATTR, false, "attribute block %1$d entry %2$d has bad flags 0x%3$x"),
        /** An attribute block that is not mapped (at: attribute block). */
        XATTR_UNMAPPED(Structure.XATTR, false, "attribute block %1$d is not mapped"),
        /** An attribute block without a leaf or node magic (at: attribute block). */
        XATTR_MAGIC(Structure.XATTR, false, "attribute block %1$d has bad magic 0x%2$x"),
        /** An attribute block whose CRC does not match (at: attribute block). */
        XATTR_CRC(Structure.XATTR, false, "attribute block %1$d: checksum mismatch"),
        /** An attribute block owned by another inode (at: attribute block). */
        XATTR_OWNER(Structure.XATTR, false, "attribute block %1$d is owned by inode %2$d"),
        /** An attribute block recording another place or uuid (at: attribute block). */
        XATTR_HEADER(Structure.XATTR, false, "attribute block %1$d records itself at sector %2$d (it is at %3$d) or another uuid"),
        /** A leaf header whose count, usedbytes or firstused does not fit the block (at: attribute block). */
        XATTR_LEAF_HEADER(Structure.XATTR, false, "attribute leaf %1$d: header value %2$d out of range (limit %3$d)"),
        /** A sibling pointer of a leaf or node block that does not name its neighbour (at: attribute block). */
        XATTR_SIBLING(Structure.XATTR, false, "attribute block %1$d has sibling %2$d, expected %3$d"),
        /** Leaf entries out of hash order (at: attribute block, found: entry). */
        XATTR_HASH_ORDER(Structure.XATTR, false, "attribute block %1$d entry %2$d is out of hash order"),
        /** An entry whose hashval is not the hash of its name (at: attribute block, found: entry). */
        XATTR_HASH(Structure.XATTR, false, "attribute block %1$d entry %2$d: hashval is not the hash of its name (0x%3$x)"),
        /** An entry whose name or value lies outside the block or whose name is empty (at: block, found: entry). */
        XATTR_ENTRY(Structure.XATTR, false, "attribute block %1$d entry %2$d lies outside the name area or has no name"),
        /** A leaf's usedbytes differs from the bytes its entries use (at: attribute block). */
        XATTR_USEDBYTES(Structure.XATTR, false, "attribute leaf %1$d: usedbytes %2$d, the entries use %3$d"),
        /** A remote value block without the XARM magic (at: attribute block). */
        XATTR_REMOTE_MAGIC(Structure.XATTR, false, "remote value block %1$d has bad magic 0x%2$x"),
        /** A remote value block whose CRC does not match (at: attribute block). */
        XATTR_REMOTE_CRC(Structure.XATTR, false, "remote value block %1$d: checksum mismatch"),
        /** A remote value block owned by another inode (at: attribute block). */
        XATTR_REMOTE_OWNER(Structure.XATTR, false, "remote value block %1$d is owned by inode %2$d"),
        /** A remote value block recording another place (blkno) or uuid (at: attribute block). */
        XATTR_REMOTE_HEADER(Structure.XATTR, false, "remote value block %1$d records itself at sector %2$d (it is at %3$d) or another uuid"),
        /** A remote value block holding another part of the value than its place says (at: attribute block). */
        XATTR_REMOTE_CHUNK(Structure.XATTR, false, "remote value block %1$d holds value bytes from %2$d, expected from %3$d (or a wrong byte count)"),
        /** A node block whose level or count is out of range, or a child at the wrong level (at: attribute block). */
        XATTR_NODE(Structure.XATTR, false, "attribute node %1$d: level %2$d, %3$d entries"),
        /** A node key that is not its child's largest hash, or keys out of order (at: attribute block, found: entry). */
        XATTR_NODE_KEY(Structure.XATTR, false, "attribute node %1$d key %2$d does not match its child (0x%3$x)"),
        /** An attribute block reached twice, or a tree too deep (at: attribute block). */
        XATTR_CYCLE(Structure.XATTR, false, "attribute block %1$d is reached twice or too deep"),

        // an inode that does not decode (the reading that found it stops there: nothing else of it is checked); the
        // first three xfs_repair sets right in place, the others it answers by clearing the inode
        /** di_magic is not "IN" (0x494e); xfs_repair resets it. @since api device 2.6 */
        CORE_MAGIC(Structure.INODE, false, "di_magic is 0x%2$x, not an inode's 0x%3$x"),
        /** di_version is not 3; xfs_repair resets it. @since api device 2.6 */
        CORE_VERSION(Structure.INODE, false, "di_version is %2$d, must be %3$d"),
        /** The inode's CRC does not match its bytes; xfs_repair rewrites it. @since api device 2.6 */
        CORE_CRC(Structure.INODE, false, "checksum mismatch"),
        /** di_ino names another inode. @since api device 2.6 */
        CORE_INUMBER(Structure.INODE, false, "di_ino records inode %2$d, not %3$d"),
        /** di_uuid is not this filesystem's (sb_meta_uuid). @since api device 2.6 */
        CORE_UUID(Structure.INODE, false, "di_uuid is not this filesystem's"),
        /** di_size has bit 63 set. @since api device 2.6 */
        SIZE_NEGATIVE(Structure.INODE, false, "negative size %2$d"),
        /** di_mode names no file type. @since api device 2.6 */
        MODE_TYPE(Structure.INODE, false, "unknown file type in mode 0%2$o"),
        /** The data fork's format is not one the file type may have (found: format; expected: the mode). @since api device 2.6 */
        FORMAT_TYPE(Structure.INODE, false, "data fork format %2$d is not one a file of mode 0%3$o may have");

        private final Structure structure;
        private final boolean forkRule;
        private final String text;

        Kind(Structure structure, boolean forkRule, String text) {
            this.structure = structure;
            this.forkRule = forkRule;
            this.text = text;
        }

        /** The structure a problem of this kind is reported under. */
        public Structure structure() {
            return structure;
        }

        /** Whether the rule is about one fork (the words then say which). */
        public boolean forkRule() {
            return forkRule;
        }

        /** The words, a format of (at, found, expected). */
        public String text() {
            return text;
        }
    }
}
