package org.xfstage.strategies.inodes;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.TreeBlocks;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.UncheckedStagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The rebuild the inode btree strategies share: records proven from the inodes and the evidence around them
 * ({@link ChunkProof}, never copied from the tree being replaced), staged in xfarrays, bulk-loaded into the tree's own
 * blocks when the records fit them, so that free space (and its btrees, the rmapbt, the AGFL) stay as they are. A tree
 * that needs another number of blocks gives some back or takes more from the engine's allocation ({@link TreeBlocks}),
 * and the engine plans free space, the counters and the rmapbt again for them; so does a tree whose blocks cannot be
 * found by its pointers (all of its blocks are new then, and the old ones, in no structure, are given back).
 */
final class InodeTreeRebuild {
    private InodeTreeRebuild() {
    }

    /**
     * Loads the chunk records staged in {@code records} (as {@link InodeChunks} stages them, in startino order) into
     * the blocks the tree of the AG has now (fewer or more when the records need it), reading them once from the
     * xfarray, and puts its new root, level and (with inobtcount) block count into {@code agi}.
     *
     * @return the new blocks, or null when the AG cannot give the blocks the tree needs
     */
    static List<BlockImage> intoOwnBlocks(ScrubContext ctx, int agno, Btree<InodeChunk> tree, XfArray records,
            Map<HeaderField, Long> agi) throws Exception {
        XfsDevice device = ctx.device();
        long[] old;
        try {
            old = device.btreeBlocks(agno, tree.type());
        } catch (XfsFormatException e) {
            old = new long[0]; // its pointers lead astray: the tree is built in new blocks, the old ones given back
        }
        long n = records.length();
        long[] where = TreeBlocks.of(ctx, agno, tree.type(), n, old);
        if (where == null) {
            return null;
        }
        XfsDevice.BulkLoad loaded;
        try {
            loaded = device.bulkLoad(agno, tree, n, InodeChunks.records(records, n), where);
        } catch (UncheckedStagingException e) {
            throw e.getCause();
        }
        agi.put(HeaderField.root(tree.type()), loaded.root());
        agi.put(HeaderField.level(tree.type()), (long) loaded.levels());
        if (ctx.info().has(Feature.INOBTCOUNT)) {
            agi.put(HeaderField.blocks(tree.type()), (long) loaded.blocks().size());
        }
        return loaded.blocks();
    }

    /**
     * The AGs the findings are in, in order; null when one is not in an AG (a header that could not be read at all
     * needs rebuilding, which these strategies do not do).
     */
    static Set<Integer> agsOf(List<Finding> findings) {
        Set<Integer> ags = new TreeSet<>();
        for (Finding f : findings) {
            if (f.agno() < 0) {
                return null;
            }
            ags.add(f.agno());
        }
        return ags;
    }

    /**
     * What a rebuild of an AG's inode btrees starts from: the chunks proven (see {@link ChunkProof}), how they differ
     * from the inobt's records.
     *
     * @param records  chunk records proven
     * @param restored chunks the inobt does not list
     * @param dropped  inobt records where no chunk is (or that no chunk can be at)
     * @param reshaped chunks whose holes are not where the inobt says
     * @param masks    chunks whose free mask or counts alone differ
     */
    record Proven(long records, int restored, int dropped, int reshaped, int masks) {
        /** Whether the chunks themselves differ from what the inobt lists (not only their free masks and counts). */
        boolean moved() {
            return restored + dropped + reshaped > 0;
        }

        @Override
        public String toString() {
            return masks + " corrected from the inodes" + (restored > 0 ? ", " + restored + " restored" : "")
                    + (dropped > 0 ? ", " + dropped + " dropped" : "") + (reshaped > 0 ? ", " + reshaped + " with their holes corrected" : "");
        }
    }

    /**
     * Stages into {@code out} (empty) the chunk records of AG {@code agno} as the evidence proves them, in startino
     * order, never taken from the inobt itself: the tree only names candidates.
     *
     * @return what was proven, or null when the proof is not sure of every chunk, or an inode of a proven chunk cannot
     *         be read (its free state is unknown): then no rebuild may be planned
     */
    static Proven proven(ScrubContext ctx, int agno, XfArray out) throws Exception {
        FsInfo.AgInfo ag = ctx.info().ags().stream().filter(a -> a.agno() == agno).findFirst().orElse(null);
        if (ag == null) {
            return null;
        }
        int[] n = new int[5]; // unsure or unsettled, restored, dropped, reshaped, masks
        InodeChunks rec = new InodeChunks();
        boolean placed;
        // the records the inobt names as far as it can be read: only candidates, each judged on the inodes
        try (XfArray listed = InodeChunks.stageReadable(ctx, agno, why -> { })) {
            placed = new ChunkProof(ctx).prove(ag, listed, v -> {
                if (!v.sure() || v.proven() != null && !v.settled()) {
                    n[0]++;
                    return;
                }
                if (v.placeDiffers()) {
                    n[v.listed() == null ? 1 : v.proven() == null ? 2 : 3]++;
                } else if (v.proven() != null && !v.proven().equals(v.listed())) {
                    n[4]++;
                }
                if (v.proven() != null) {
                    rec.set(v.proven()).appendTo(out);
                }
            });
        }
        if (!placed || n[0] > 0) {
            return null;
        }
        return new Proven(out.length(), n[1], n[2], n[3], n[4]);
    }

    /** The finobt's records, staged: the inobt's records (staged) with free inodes; the caller closes the array. */
    static XfArray withFreeInodes(ScrubContext ctx, XfArray inobt) throws StagingException {
        XfArray out = InodeChunks.create(ctx, "repair finobt records");
        InodeChunks r = new InodeChunks();
        try {
            for (long c = r.loadNext(inobt, 0); c >= 0; c = r.loadNext(inobt, c + 1)) {
                if (r.chunk().freecount() > 0) {
                    r.appendTo(out);
                }
            }
        } catch (StagingException | RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** The AGI's count and freecount from the staged inobt records. */
    static void counters(XfArray inobt, Map<HeaderField, Long> agi) throws StagingException {
        InodeChunks r = new InodeChunks();
        long count = 0;
        long free = 0;
        for (long c = r.loadNext(inobt, 0); c >= 0; c = r.loadNext(inobt, c + 1)) {
            InodeChunk chunk = r.chunk();
            count += chunk.count();
            free += chunk.freecount();
        }
        agi.put(HeaderField.AGI_COUNT, count);
        agi.put(HeaderField.AGI_FREECOUNT, free);
    }
}
