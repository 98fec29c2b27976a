package org.xfstage.api.repair;

import java.util.List;

import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.XfsDevice;

/**
 * The blocks a per-AG btree rebuilt by bulk load goes into: the old tree's own blocks when the records fit them (free
 * space stays as it is); when they need fewer, as many of the old ones as they fit (the rest are given back: the
 * engine's next round of plans finds them in no structure and the free-space btrees take them); when they need more,
 * the old ones and the rest from {@link ScrubContext#allocate}. For the strategies that rebuild the inode, refcount,
 * free-space and reverse-mapping btrees (from different bundles).
 */
public final class TreeBlocks {
    private TreeBlocks() {
    }

    /**
     * Blocks for a tree of {@code type} with {@code records} records in AG {@code agno}, given the old tree's blocks
     * ({@code old}, sorted; empty when they cannot be found).
     *
     * @return the blocks to bulk-load into, sorted, or null when the AG cannot give the blocks it needs
     */
    public static long[] of(ScrubContext ctx, int agno, BtreeType type, long records, long[] old) throws Exception {
        XfsDevice d = ctx.device();
        if (old.length > 0 && d.btreeFits(type, records, old.length)) {
            return old;
        }
        int need = d.btreeBlocksNeeded(type, records);
        if (need <= old.length) {
            // keep as many of its own blocks as the records can spread over: the fewest given back
            for (int k = old.length - 1; k >= need; k--) {
                if (d.btreeFits(type, records, k)) {
                    return java.util.Arrays.copyOf(old, k);
                }
            }
            return null; // not reached: the fewest blocks always fit
        }
        List<FreeExtent> got = ctx.allocate(agno, need - old.length);
        if (got == null) {
            return null;
        }
        long[] out = java.util.Arrays.copyOf(old, need);
        int i = old.length;
        for (FreeExtent e : got) {
            for (long b = e.start(); b < e.end() && i < need; b++) {
                out[i++] = b;
            }
        }
        if (i < need) {
            return null;
        }
        java.util.Arrays.sort(out);
        return out;
    }
}
