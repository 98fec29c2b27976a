package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.UncheckedStagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The rebuild the inode btree strategies share: new records, staged in xfarrays, bulk-loaded into the tree's own
 * blocks, so that free space (and its btrees, the rmapbt, the AGFL) stay as they are. A tree that would need
 * another number of blocks is not planned (null): that needs blocks allocated or given back, which these
 * strategies do not do yet.
 */
final class InodeTreeRebuild {
    private InodeTreeRebuild() {
    }

    /**
     * Loads the chunk records staged in {@code records} (as {@link InodeChunks} stages them, in startino order) into
     * the blocks the {@code type} tree of the AG has now, reading them once from the xfarray, and puts its new root,
     * level and (with inobtcount) block count into {@code agi}.
     *
     * @return the new blocks, or null when the records cannot make a tree of as many blocks
     */
    static List<BlockImage> intoOwnBlocks(ScrubContext ctx, int agno, BtreeType type, XfArray records, Map<String, Long> agi)
            throws Exception {
        long[] where = ctx.device().btreeBlocks(agno, type); // unfollowable: the engine counts the strategy unable to plan
        long n = records.length();
        if (!ctx.device().btreeFits(type, n, where.length)) {
            return null;
        }
        XfsDevice.BulkLoad tree;
        try {
            tree = ctx.device().bulkLoad(agno, type, n, records.iterator(0, n, r -> new long[] {InodeChunks.startino(r),
                InodeChunks.holemask(r), InodeChunks.count(r), InodeChunks.freecount(r), InodeChunks.free(r)}), where);
        } catch (UncheckedStagingException e) {
            throw e.getCause();
        }
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

    /** The finobt's records, staged: the inobt's records (staged) with free inodes; the caller closes the array. */
    static XfArray withFreeInodes(ScrubContext ctx, XfArray inobt) throws StagingException {
        XfArray out = ctx.arrays().create("repair finobt records", InodeChunks.RECORD);
        ByteBuffer r = ByteBuffer.allocate(InodeChunks.RECORD);
        try {
            for (long c = inobt.loadNext(0, r); c >= 0; c = inobt.loadNext(c + 1, r)) {
                if (InodeChunks.freecount(r) > 0) {
                    out.append(r);
                }
            }
        } catch (StagingException | RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** The AGI's count and freecount from the staged inobt records. */
    static void counters(XfArray inobt, Map<String, Long> agi) throws StagingException {
        ByteBuffer r = ByteBuffer.allocate(InodeChunks.RECORD);
        long count = 0;
        long free = 0;
        for (long c = inobt.loadNext(0, r); c >= 0; c = inobt.loadNext(c + 1, r)) {
            count += InodeChunks.count(r);
            free += InodeChunks.freecount(r);
        }
        agi.put("count", count);
        agi.put("freecount", free);
    }
}
