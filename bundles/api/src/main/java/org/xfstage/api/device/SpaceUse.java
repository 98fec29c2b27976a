package org.xfstage.api.device;

/**
 * What a block in use is used for, finer than its {@link MetadataOwner}: which btree, the AGFL or the AG headers.
 * The space map of a scrub carries it beside the owner.
 */
public enum SpaceUse {
    /** Superblock, AGF, AGI and AGFL sectors. */
    HEADERS(MetadataOwner.FS, null),
    /** Blocks on the AG free list. */
    AGFL(MetadataOwner.AG, null),
    /** The internal log. */
    LOG(MetadataOwner.LOG, null),
    /** Inode chunks. */
    INODES(MetadataOwner.INODES, null),
    /** Copy-on-write staging extents. */
    COW(MetadataOwner.COW, null),
    /** A file's data (the owner is its inode number). */
    FILE_DATA(null, null),
    /** A block of a file's block-mapping btree (the owner is its inode number). */
    FILE_BMBT(null, null),
    /** A block of the free-space btree by block number. */
    BNOBT(MetadataOwner.AG, BtreeType.BNO),
    /** A block of the free-space btree by size. */
    CNTBT(MetadataOwner.AG, BtreeType.CNT),
    /** A block of the inode btree. */
    INOBT(MetadataOwner.INOBT, BtreeType.INO),
    /** A block of the free inode btree. */
    FINOBT(MetadataOwner.INOBT, BtreeType.FINO),
    /** A block of the reverse-mapping btree. */
    RMAPBT(MetadataOwner.AG, BtreeType.RMAP),
    /** A block of the refcount btree. */
    REFCOUNTBT(MetadataOwner.REFC, BtreeType.REFCOUNT);

    private final MetadataOwner owner;
    private final BtreeType tree;

    SpaceUse(MetadataOwner owner, BtreeType tree) {
        this.owner = owner;
        this.tree = tree;
    }

    /** Who owns blocks used so, as reverse mappings say; null for a file's blocks (owned by the inode). */
    public MetadataOwner owner() {
        return owner;
    }

    /** The btree whose blocks these are, or null. */
    public BtreeType tree() {
        return tree;
    }

    /** Whether the blocks belong to a file (data or bmbt), owned by an inode number. */
    public boolean isFile() {
        return owner == null;
    }

    /** The use of a btree's blocks. */
    public static SpaceUse of(BtreeType tree) {
        for (SpaceUse u : values()) {
            if (u.tree == tree) {
                return u;
            }
        }
        throw new IllegalArgumentException(String.valueOf(tree));
    }

    /** In words, for findings. */
    public String describe(long owner) {
        if (isFile()) {
            return "inode " + owner + (this == FILE_BMBT ? " (bmbt)" : "");
        }
        return switch (this) {
            case HEADERS -> "AG headers";
            case AGFL -> "the AGFL";
            case LOG -> "the log";
            case INODES -> "inode chunks";
            case COW -> "CoW staging";
            default -> tree.name().toLowerCase() + "bt";
        };
    }
}
