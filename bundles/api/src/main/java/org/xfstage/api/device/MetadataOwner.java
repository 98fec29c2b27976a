package org.xfstage.api.device;

/**
 * The owners of blocks that belong to no file, as the reverse-mapping btree names them (XFS_RMAP_OWN_*). Owners
 * are one namespace of longs throughout the api: an inode number (zero or more) owns a file's blocks, and
 * {@link #code()} (negative) of one of these owns the rest.
 */
public enum MetadataOwner {
    /** AG headers: superblock, AGF, AGI, AGFL sector (XFS_RMAP_OWN_FS). */
    FS(-3),
    /** The internal log (XFS_RMAP_OWN_LOG). */
    LOG(-4),
    /** Free-space and reverse-mapping btrees and the AGFL's blocks (XFS_RMAP_OWN_AG). */
    AG(-5),
    /** The inode btrees (XFS_RMAP_OWN_INOBT). */
    INOBT(-6),
    /** Inode chunks (XFS_RMAP_OWN_INODES). */
    INODES(-7),
    /** The refcount btree (XFS_RMAP_OWN_REFC). */
    REFC(-8),
    /** Copy-on-write staging extents (XFS_RMAP_OWN_COW). */
    COW(-9);

    private final long code;

    MetadataOwner(long code) {
        this.code = code;
    }

    /** The owner as a long, as reverse mappings and the space map carry it. */
    public long code() {
        return code;
    }

    /** The metadata owner with this code, or null for an inode number or an unknown code. */
    public static MetadataOwner of(long code) {
        for (MetadataOwner o : values()) {
            if (o.code == code) {
                return o;
            }
        }
        return null;
    }

    /** An owner in words, for findings: "inode 131", "AG metadata", ... */
    public static String describe(long owner) {
        if (owner >= 0) {
            return "inode " + owner;
        }
        MetadataOwner o = of(owner);
        return o == null ? "owner " + owner : o.words();
    }

    private String words() {
        return switch (this) {
            case FS -> "AG headers";
            case LOG -> "the log";
            case AG -> "AG metadata (free-space trees, rmapbt, AGFL)";
            case INOBT -> "the inode btrees";
            case INODES -> "inode chunks";
            case REFC -> "the refcount btree";
            case COW -> "CoW staging";
        };
    }
}
