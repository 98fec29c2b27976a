package org.xfstage.api.device;

/**
 * A per-AG btree with the type of its records: what {@link XfsDevice#walkBtree} hands out and
 * {@link XfsDevice#bulkLoad} takes.
 *
 * @param <R> the record type
 */
public final class Btree<R> {
    /** Free space by block number. */
    public static final Btree<FreeExtent> BNO = new Btree<>(BtreeType.BNO, FreeExtent.class);
    /** Free space by size (ordered by length, then start). */
    public static final Btree<FreeExtent> CNT = new Btree<>(BtreeType.CNT, FreeExtent.class);
    /** Inode chunks. */
    public static final Btree<InodeChunk> INO = new Btree<>(BtreeType.INO, InodeChunk.class);
    /** Inode chunks with free inodes. */
    public static final Btree<InodeChunk> FINO = new Btree<>(BtreeType.FINO, InodeChunk.class);
    /** Reverse mappings. */
    public static final Btree<ReverseMapping> RMAP = new Btree<>(BtreeType.RMAP, ReverseMapping.class);
    /** Reference counts and CoW staging extents. */
    public static final Btree<RefcountExtent> REFCOUNT = new Btree<>(BtreeType.REFCOUNT, RefcountExtent.class);

    private final BtreeType type;
    private final Class<R> recordType;

    private Btree(BtreeType type, Class<R> recordType) {
        this.type = type;
        this.recordType = recordType;
    }

    /** Which tree. */
    public BtreeType type() {
        return type;
    }

    /** The class of its records. */
    public Class<R> recordType() {
        return recordType;
    }

    /** The typed tree of a {@link BtreeType}. */
    public static Btree<?> of(BtreeType type) {
        return switch (type) {
            case BNO -> BNO;
            case CNT -> CNT;
            case INO -> INO;
            case FINO -> FINO;
            case RMAP -> RMAP;
            case REFCOUNT -> REFCOUNT;
        };
    }

    @Override
    public String toString() {
        return type.name().toLowerCase() + "bt";
    }
}
