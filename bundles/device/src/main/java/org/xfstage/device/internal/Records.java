package org.xfstage.device.internal;

import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.RefcountExtent;
import org.xfstage.api.device.ReverseMapping;

/**
 * The typed btree records of the api and the field arrays the decoders and the bulk loader work on (in the order of
 * the on-disk record: startblock, blockcount, ...), converted at the api's edge.
 */
final class Records {
    /** rmap record flags as {@link Btrees} hands them out (bit 2 attribute fork, bit 1 bmbt block, bit 0 unwritten). */
    static final int RMAP_ATTR_FORK = 4;
    static final int RMAP_BMBT = 2;
    static final int RMAP_UNWRITTEN = 1;

    private Records() {
    }

    static <R> R typed(Btree<R> tree, long[] f) {
        Object r = switch (tree.type()) {
            case BNO, CNT -> new FreeExtent(f[0], f[1]);
            case INO, FINO -> new InodeChunk(f[0], (int) f[1], (int) f[2], (int) f[3], f[4]);
            case RMAP -> new ReverseMapping(f[0], f[1], f[2], f[3], (f[4] & RMAP_ATTR_FORK) != 0, (f[4] & RMAP_BMBT) != 0,
                    (f[4] & RMAP_UNWRITTEN) != 0);
            case REFCOUNT -> new RefcountExtent(f[0], f[1], f[2], f[3] != 0);
        };
        return tree.recordType().cast(r);
    }

    static long[] fields(BtreeType type, Object record) {
        return switch (type) {
            case BNO, CNT -> {
                FreeExtent e = (FreeExtent) record;
                yield new long[] {e.start(), e.length()};
            }
            case INO, FINO -> {
                InodeChunk c = (InodeChunk) record;
                yield new long[] {c.startino(), c.holemask(), c.count(), c.freecount(), c.free()};
            }
            case RMAP -> {
                ReverseMapping m = (ReverseMapping) record;
                yield new long[] {m.start(), m.length(), m.owner(), m.offset(), rmapFlags(m.attrFork(), m.bmbt(), m.unwritten())};
            }
            case REFCOUNT -> {
                RefcountExtent e = (RefcountExtent) record;
                yield new long[] {e.start(), e.length(), e.refcount(), e.cow() ? 1 : 0};
            }
        };
    }

    static int rmapFlags(boolean attrFork, boolean bmbt, boolean unwritten) {
        return (attrFork ? RMAP_ATTR_FORK : 0) | (bmbt ? RMAP_BMBT : 0) | (unwritten ? RMAP_UNWRITTEN : 0);
    }
}
