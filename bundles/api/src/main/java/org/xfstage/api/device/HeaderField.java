package org.xfstage.api.device;

/**
 * A field of a header (superblock, AGF, AGI) as {@link XfsDevice#header} reads it and {@link XfsDevice#updateHeader}
 * sets it: the header kind and the field's C name without its prefix (agf_freeblks is AGF "freeblks").
 *
 * @param kind the header
 * @param name the C name without prefix
 */
public record HeaderField(HeaderKind kind, String name) {
    /** The value that empties a pointer field (NULLAGINO, NULLAGBLOCK): the device writes its own null. */
    public static final long NULL = -1;

    /** sb_icount: allocated inodes. */
    public static final HeaderField SB_ICOUNT = new HeaderField(HeaderKind.SUPERBLOCK, "icount");
    /** sb_ifree: free inodes. */
    public static final HeaderField SB_IFREE = new HeaderField(HeaderKind.SUPERBLOCK, "ifree");
    /** sb_fdblocks: free data blocks. */
    public static final HeaderField SB_FDBLOCKS = new HeaderField(HeaderKind.SUPERBLOCK, "fdblocks");
    /**
     * The inodes the superblock names ({@link XfsDevice#header} of the superblock): the root directory, and the
     * metadata inodes no directory names (realtime bitmap and summary, user, group and project quotas; NULL or 0 when
     * there is none).
     */
    public static final HeaderField SB_ROOTINO = new HeaderField(HeaderKind.SUPERBLOCK, "rootino");
    /** See {@link #SB_ROOTINO}. */
    public static final HeaderField SB_RBMINO = new HeaderField(HeaderKind.SUPERBLOCK, "rbmino");
    /** See {@link #SB_ROOTINO}. */
    public static final HeaderField SB_RSUMINO = new HeaderField(HeaderKind.SUPERBLOCK, "rsumino");
    /** See {@link #SB_ROOTINO}. */
    public static final HeaderField SB_UQUOTINO = new HeaderField(HeaderKind.SUPERBLOCK, "uquotino");
    /** See {@link #SB_ROOTINO}. */
    public static final HeaderField SB_GQUOTINO = new HeaderField(HeaderKind.SUPERBLOCK, "gquotino");
    /** See {@link #SB_ROOTINO}. */
    public static final HeaderField SB_PQUOTINO = new HeaderField(HeaderKind.SUPERBLOCK, "pquotino");

    /** agf_freeblks: free blocks. */
    public static final HeaderField AGF_FREEBLKS = new HeaderField(HeaderKind.AGF, "freeblks");
    /** agf_longest: the longest free extent. */
    public static final HeaderField AGF_LONGEST = new HeaderField(HeaderKind.AGF, "longest");
    /** agf_btreeblks: blocks of the free-space (and rmap) btrees past their roots. */
    public static final HeaderField AGF_BTREEBLKS = new HeaderField(HeaderKind.AGF, "btreeblks");
    /** agf_flfirst: the AGFL slot of the first free-list block. */
    public static final HeaderField AGF_FLFIRST = new HeaderField(HeaderKind.AGF, "flfirst");
    /** agf_fllast: the AGFL slot of the last free-list block. */
    public static final HeaderField AGF_FLLAST = new HeaderField(HeaderKind.AGF, "fllast");
    /** agf_flcount: blocks on the free list. */
    public static final HeaderField AGF_FLCOUNT = new HeaderField(HeaderKind.AGF, "flcount");
    /** agf_length: blocks in the AG. */
    public static final HeaderField AGF_LENGTH = new HeaderField(HeaderKind.AGF, "length");

    /** agi_count: allocated inodes. */
    public static final HeaderField AGI_COUNT = new HeaderField(HeaderKind.AGI, "count");
    /** agi_freecount: free inodes. */
    public static final HeaderField AGI_FREECOUNT = new HeaderField(HeaderKind.AGI, "freecount");

    /** The header field holding a btree's root block (agf_roots[], agf_rmap_root, agi_root, agi_free_root, ...). */
    public static HeaderField root(BtreeType type) {
        return tree(type, "root", "root");
    }

    /** The header field holding a btree's height. */
    public static HeaderField level(BtreeType type) {
        return tree(type, "level", "level");
    }

    /**
     * The header field holding a btree's block count, root included (agf_rmap_blocks, agf_refcount_blocks,
     * agi_iblocks, agi_fblocks); null for the free-space trees, which the AGF counts only in agf_btreeblks.
     */
    public static HeaderField blocks(BtreeType type) {
        return switch (type) {
            case BNO, CNT -> null;
            case INO -> new HeaderField(HeaderKind.AGI, "iblocks");
            case FINO -> new HeaderField(HeaderKind.AGI, "fblocks");
            default -> tree(type, "blocks", "blocks");
        };
    }

    private static HeaderField tree(BtreeType type, String agfSuffix, String agiSuffix) {
        return switch (type) {
            case BNO -> new HeaderField(HeaderKind.AGF, "bno_" + agfSuffix);
            case CNT -> new HeaderField(HeaderKind.AGF, "cnt_" + agfSuffix);
            case RMAP -> new HeaderField(HeaderKind.AGF, "rmap_" + agfSuffix);
            case REFCOUNT -> new HeaderField(HeaderKind.AGF, "refcount_" + agfSuffix);
            case INO -> new HeaderField(HeaderKind.AGI, agiSuffix);
            case FINO -> new HeaderField(HeaderKind.AGI, "free_" + agiSuffix);
        };
    }

    /** agi_unlinked[bucket]: the head of an unlinked-inode list. */
    public static HeaderField agiUnlinked(int bucket) {
        return new HeaderField(HeaderKind.AGI, UNLINKED + bucket);
    }

    /** The C name: agf_freeblks, sb_icount, agi_unlinked[5]. */
    @Override
    public String toString() {
        String prefix = kind == HeaderKind.SUPERBLOCK ? "sb_" : kind.name().toLowerCase() + "_";
        return name.startsWith(UNLINKED) ? prefix + UNLINKED + "[" + name.substring(UNLINKED.length()) + "]" : prefix + name;
    }

    private static final String UNLINKED = "unlinked";
}
