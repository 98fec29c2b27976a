package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.ScrubContext;

/**
 * The rebuild the inode btree strategies share: new records bulk-loaded into the tree's own blocks, so that free
 * space (and its btrees, the rmapbt, the AGFL) stay as they are. A tree that would need another number of blocks is
 * not planned (null): that needs blocks allocated or given back, which these strategies do not do yet.
 */
final class InodeTreeRebuild {
    private InodeTreeRebuild() {
    }

    /**
     * Loads {@code records} (inobt record fields, in startino order) into the blocks the {@code type} tree of the AG
     * has now, and puts its new root, level and (with inobtcount) block count into {@code agi}.
     *
     * @return the new blocks, or null when the records cannot make a tree of as many blocks
     */
    static List<BlockImage> intoOwnBlocks(ScrubContext ctx, int agno, BtreeType type, List<long[]> records, Map<String, Long> agi)
            throws Exception {
        long[] where = ctx.device().btreeBlocks(agno, type); // unfollowable: the engine counts the strategy unable to plan
        if (!ctx.device().btreeFits(type, records.size(), where.length)) {
            return null;
        }
        XfsDevice.BulkLoad tree = ctx.device().bulkLoad(agno, type, records, where);
        boolean inobt = type == BtreeType.INO;
        agi.put(inobt ? "root" : "free_root", tree.root());
        agi.put(inobt ? "level" : "free_level", (long) tree.levels());
        if (ctx.info().features().contains("inobtcount")) {
            agi.put(inobt ? "iblocks" : "fblocks", (long) tree.blocks().size());
        }
        return tree.blocks();
    }

    /**
     * The AGs the findings are in, in order; null when one is not in an AG (a header that could not be read at all
     * needs rebuilding, which these strategies do not do).
     */
    static java.util.Set<Integer> agsOf(List<org.xfstage.api.repair.Finding> findings) {
        java.util.Set<Integer> ags = new java.util.TreeSet<>();
        for (org.xfstage.api.repair.Finding f : findings) {
            if (f.agno() < 0) {
                return null;
            }
            ags.add(f.agno());
        }
        return ags;
    }

    /** The finobt's records: the inobt records with free inodes. */
    static List<long[]> withFreeInodes(List<long[]> inobt) {
        List<long[]> out = new ArrayList<>();
        for (long[] r : inobt) {
            if (r[3] > 0) {
                out.add(r);
            }
        }
        return out;
    }

    /** The AGI's count and freecount from inobt records. */
    static void counters(List<long[]> inobt, Map<String, Long> agi) {
        long count = 0;
        long free = 0;
        for (long[] r : inobt) {
            count += r[2];
            free += r[3];
        }
        agi.put("count", count);
        agi.put("freecount", free);
    }
}
