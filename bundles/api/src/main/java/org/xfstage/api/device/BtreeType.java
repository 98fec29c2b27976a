package org.xfstage.api.device;

/**
 * The per-AG btrees. {@link Btree} gives each with the type of its records; {@link FsInfo#hasTree} says whether a
 * filesystem has it.
 */
public enum BtreeType {
    /** Free space by block number ({@link FreeExtent}). */
    BNO(null),
    /** Free space by size ({@link FreeExtent}, ordered by length, then start). */
    CNT(null),
    /** Inode chunks ({@link InodeChunk}). */
    INO(null),
    /** Inode chunks with free inodes ({@link InodeChunk}). */
    FINO(Feature.FINOBT),
    /** Reverse mappings ({@link ReverseMapping}). */
    RMAP(Feature.RMAPBT),
    /** Reference counts ({@link RefcountExtent}). */
    REFCOUNT(Feature.REFLINK);

    private final Feature feature;

    BtreeType(Feature feature) {
        this.feature = feature;
    }

    /** The feature without which a filesystem has no such tree, or null when every v5 filesystem has it. */
    public Feature feature() {
        return feature;
    }

    /** The tree's name as XFS tools print it ("bnobt", "rmapbt", ...). */
    public String treeName() {
        return name().toLowerCase() + "bt";
    }
}
