package org.xfstage.strategies.space;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.MetadataOwner;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ProvenRoots;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.XfArray;

/**
 * Rebuilds the free-space btrees of an AG from the space map, as the kernel's online repair does: the free extents
 * are the complement of every block in use (the old bnobt and cntbt blocks count as free: they are given back), the
 * new trees take their blocks from the front of that free space, the bnobt records are the rest in block order, the
 * cntbt records the same sorted by (length, start), both bulk loaded by the device, and the AGF gets the new roots,
 * levels and counters. The AGFL is rebuilt with them: its entries that no other structure uses are kept, others
 * dropped, and it is refilled from the front of free space up to what the new trees need
 * (xfs_alloc_min_freelist). On filesystems with an rmapbt the new trees go into the old trees' own blocks and the
 * AGFL holds what the rmapbt says it holds, so that the rmapbt's AG-owned records stay true; when the new trees cannot
 * take exactly the old blocks (or those cannot be found by their pointers), they keep fewer or take more from the
 * engine's allocation ({@link ScrubContext#allocate}), and the engine's next round of plans rebuilds the rmapbt for
 * them; when the rmapbt cannot say what a damaged AGFL is, nothing is planned there. Blocks the engine gave other trees
 * in this repair ({@link ScrubContext#allocated}) are never free here.
 * <p>
 * An AGF that cannot be decoded is made new around the rebuilt trees ({@link XfsDevice#newHeader}), as xfs_repair's
 * phase 5 makes every AGF: the AGFL is then always rewritten (the old one's place in its slots is the damaged
 * header's to say), and the rmapbt's and refcountbt's roots are the proven ones ({@link ProvenRoots}). In a header that
 * decodes, those roots are set too when they are wrong, so that a plan that covers the AGF's findings leaves none.
 */
final class FreeSpaceRebuild {
    private FreeSpaceRebuild() {
    }

    static Plan plan(ScrubContext ctx, List<Finding> findings, String structure) throws Exception {
        FsInfo info = ctx.info();
        boolean rmap = info.hasTree(BtreeType.RMAP);
        Set<Integer> ags = new TreeSet<>();
        for (Finding f : findings) {
            if (f.agno() < 0) {
                for (FsInfo.AgInfo ag : info.ags()) {
                    ags.add(ag.agno());
                }
            } else {
                ags.add(f.agno());
            }
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Set<Coverage> covers = new HashSet<>();
        for (String s : COVERS) {
            covers.add(new Coverage(s, -1));
        }
        XfsDevice dev = ctx.device();
        for (int agno : ags) {
            FsInfo.AgInfo ag = info.ags().get(agno);
            boolean fresh = !decodes(dev, agno);
            if (rmap) {
                if (!inOwnBlocks(ctx, ag, fresh, blocks, changes, covers)) {
                    return null;
                }
                for (String s : List.of("bnobt", "cntbt", "agf")) {
                    covers.add(new Coverage(s, agno));
                }
                continue;
            }
            List<Long> listed = new ArrayList<>();
            List<FreeExtent> free = freeExtents(ctx, agno, ag.length(), listed, true);
            long[] keep = listed.stream().mapToLong(Long::longValue).filter(x -> isFree(free, x)).distinct().sorted().toArray();
            List<FreeExtent> unlisted = without(free, keep);
            // no rmapbt here: its height does not count
            int want = Math.max(keep.length, dev.minFreelist(1, 1, 0));
            long[] taken;
            long[] agfl;
            List<FreeExtent> rest;
            Trees trees;
            while (true) {
                // the AGFL's refill first, then the new trees' blocks from the front of the free space until the
                // record count settles
                long[] refill = new long[want - keep.length];
                List<FreeExtent> afterRefill = take(unlisted, refill);
                agfl = java.util.stream.LongStream.concat(java.util.Arrays.stream(keep), java.util.Arrays.stream(refill)).toArray();
                taken = new long[0];
                rest = afterRefill;
                for (int round = 0; round < 8; round++) {
                    int need = dev.btreeBlocksNeeded(BtreeType.BNO, rest.size()) + dev.btreeBlocksNeeded(BtreeType.CNT, rest.size());
                    if (taken.length == need) {
                        break;
                    }
                    taken = new long[need];
                    rest = take(afterRefill, taken);
                }
                trees = Trees.load(dev, agno, rest, taken, dev.btreeBlocksNeeded(BtreeType.BNO, rest.size()));
                int needed = dev.minFreelist(trees.bno().levels(), trees.cnt().levels(), 0);
                if (agfl.length >= needed) {
                    break;
                }
                want = needed;
            }
            Map<HeaderField, Long> agf = trees.agf();
            agf.put(HeaderField.AGF_FLFIRST, 0L);
            agf.put(HeaderField.AGF_FLLAST, (long) agfl.length - 1);
            agf.put(HeaderField.AGF_FLCOUNT, (long) agfl.length);
            blocks.addAll(trees.bno().blocks());
            blocks.addAll(trees.cnt().blocks());
            blocks.add(dev.rebuildAgfl(agno, agfl));
            if (!withOtherRoots(ctx, agno, agf, fresh)) {
                return null;
            }
            blocks.add(agfImage(dev, agno, agf, fresh));
            changes.add("AG " + agno + ": " + (fresh ? "AGF made new; " : "") + "bnobt and cntbt rebuilt from the space map: " + rest.size() + " free extents, "
                    + agf.get(HeaderField.AGF_FREEBLKS) + " free blocks (was " + ag.freeBlocks() + "), " + taken.length + " btree blocks; AGFL "
                    + keep.length + " of " + listed.size() + " blocks kept, " + (agfl.length - keep.length) + " added");
            for (String s : COVERS) {
                covers.add(new Coverage(s, agno));
            }
        }
        return new Plan(structure, blocks, changes, covers);
    }

    /**
     * The rebuild of one AG on an rmapbt filesystem: the new trees in the old trees' blocks (any of them to either
     * tree: the rmapbt gives them all to {@link MetadataOwner#AG}, and the records are spread to take exactly those blocks). The AGFL is
     * what the rmapbt says it is: its AG-owned blocks that are not blocks of the three trees; when the AGFL lists other
     * blocks (one in use, one listed twice, a count cut short), it is rewritten with those, which puts the rmapbt's
     * findings in this AG right too. False when that is not possible.
     */
    private static boolean inOwnBlocks(ScrubContext ctx, FsInfo.AgInfo ag, boolean fresh, List<BlockImage> blocks, List<String> changes,
            Set<Coverage> covers) throws Exception {
        XfsDevice dev = ctx.device();
        int agno = ag.agno();
        // a tree whose pointers lead astray has no blocks of its own to give: the new trees take others, and the old
        // ones, in no structure then, are given back by the next round of plans
        long[] bno = blocksOrNone(dev, agno, BtreeType.BNO);
        long[] cnt = blocksOrNone(dev, agno, BtreeType.CNT);
        long[] rmap = blocksOrNone(dev, agno, BtreeType.RMAP);
        long[] old = java.util.stream.LongStream.concat(java.util.Arrays.stream(bno), java.util.Arrays.stream(cnt)).sorted().toArray();
        List<Long> listed = new ArrayList<>();
        List<FreeExtent> free = freeExtents(ctx, agno, ag.length(), listed, false);
        long[] agfl = listed.stream().mapToLong(Long::longValue).filter(x -> isFree(free, x)).distinct().sorted().toArray();
        long[] owned = agflOfRmapbt(dev, agno, old, rmap);
        // the rmapbt is believed when the AGFL is wrong itself, or lost blocks the rmapbt still gives it; when the
        // rmapbt lacks blocks the AGFL lists, the rmapbt is the damaged one and the AGFL stays
        long[] valid = agfl;
        boolean rewrite = owned != null && java.util.Arrays.stream(owned).allMatch(x -> isFree(free, x))
                && (valid.length != listed.size() || owned.length > valid.length
                        && java.util.Arrays.stream(valid).allMatch(x -> java.util.Arrays.binarySearch(owned, x) >= 0));
        if (rewrite) {
            agfl = owned;
        } else if (agfl.length != listed.size()) {
            return false; // an AGFL entry used by something else or listed twice, and no rmapbt to say what it was
        }
        List<FreeExtent> rest = without(free, agfl);
        // the old blocks when the records fit them; else as many of them as they need, or more from the engine's
        // allocation (out of the free extents then): the rmapbt changes, and the next round of plans rebuilds it
        long[] where = old;
        int nb = -1;
        for (int round = 0; round < 8 && nb < 0; round++) {
            nb = split(dev, rest.size(), where.length);
            if (nb >= 0) {
                break;
            }
            int need = dev.btreeBlocksNeeded(BtreeType.BNO, rest.size()) + dev.btreeBlocksNeeded(BtreeType.CNT, rest.size());
            if (need <= where.length) {
                where = java.util.Arrays.copyOf(where, need);
                continue;
            }
            List<FreeExtent> got = ctx.allocate(agno, need - where.length);
            if (got == null) {
                return false;
            }
            long[] more = got.stream().flatMapToLong(e -> java.util.stream.LongStream.range(e.start(), e.end())).toArray();
            where = java.util.stream.LongStream.concat(java.util.Arrays.stream(where), java.util.Arrays.stream(more)).sorted().toArray();
            rest = without(rest, more);
        }
        if (nb < 0) {
            return false;
        }
        Trees trees = Trees.load(dev, agno, rest, where, nb);
        Map<HeaderField, Long> agf = trees.agf();
        // the rmapbt's blocks past its root count too
        agf.put(HeaderField.AGF_BTREEBLKS, agf.get(HeaderField.AGF_BTREEBLKS) + Math.max(0, rmap.length - 1));
        blocks.addAll(trees.bno().blocks());
        blocks.addAll(trees.cnt().blocks());
        String agflChange = "AGFL and rmapbt unchanged";
        if (rewrite || fresh) { // a new AGF cannot keep the old one's slots: the same blocks go to slots 0..n-1
            blocks.add(dev.rebuildAgfl(agno, agfl));
            agf.put(HeaderField.AGF_FLFIRST, 0L);
            agf.put(HeaderField.AGF_FLLAST, (long) agfl.length - 1);
            agf.put(HeaderField.AGF_FLCOUNT, (long) agfl.length);
        }
        if (rewrite) {
            covers.add(new Coverage("rmapbt", agno));
            agflChange = "AGFL rewritten with the " + agfl.length + " blocks the rmapbt gives it (it listed " + listed + ")";
        } else if (fresh) {
            agflChange = "AGFL rewritten from slot 0 with its " + agfl.length + " blocks";
        }
        if (!withOtherRoots(ctx, agno, agf, fresh)) {
            return false;
        }
        blocks.add(agfImage(dev, agno, agf, fresh));
        String into = where == old ? "into their own " + old.length + " blocks"
                : "into " + where.length + " blocks (they had " + old.length + " that their pointers reach)";
        changes.add("AG " + agno + ": " + (fresh ? "AGF made new; " : "") + "bnobt and cntbt rebuilt from the space map " + into + ": "
                + rest.size() + " free extents, " + agf.get(HeaderField.AGF_FREEBLKS) + " free blocks (was " + ag.freeBlocks() + "); " + agflChange);
        return true;
    }

    /** How many of {@code blocks} go to the bnobt so that both trees of {@code records} fit; -1 when no split does. */
    private static int split(XfsDevice dev, int records, int blocks) {
        for (int b = dev.btreeBlocksNeeded(BtreeType.BNO, records); b < blocks; b++) {
            if (dev.btreeFits(BtreeType.BNO, records, b) && dev.btreeFits(BtreeType.CNT, records, blocks - b)) {
                return b;
            }
        }
        return -1;
    }

    /** A tree's blocks found by its pointers, or none when they lead astray. */
    private static long[] blocksOrNone(XfsDevice dev, int agno, BtreeType type) throws Exception {
        try {
            return dev.btreeBlocks(agno, type);
        } catch (XfsFormatException e) {
            return new long[0];
        }
    }

    /**
     * The AGFL's blocks as the rmapbt knows them: its blocks of the AGFL's owner ({@link MetadataOwner#AG}) that are
     * none of the free-space trees' or its own ({@code trees}, sorted); null when the rmapbt cannot be read.
     */
    private static long[] agflOfRmapbt(XfsDevice dev, int agno, long[] trees, long[] rmap) throws Exception {
        Set<Long> mine = new java.util.HashSet<>();
        java.util.Arrays.stream(trees).forEach(mine::add);
        java.util.Arrays.stream(rmap).forEach(mine::add);
        java.util.TreeSet<Long> out = new java.util.TreeSet<>();
        try {
            dev.walkBtree(agno, Btree.RMAP, r -> {
                if (r.owner() == AGFL_OWNER.code()) {
                    for (long b = r.start(); b < r.start() + r.length(); b++) {
                        if (!mine.contains(b)) {
                            out.add(b);
                        }
                    }
                }
            });
        } catch (XfsFormatException e) {
            return null;
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Whether the AG's AGF decodes; when it does not, the rebuild makes it new. */
    private static boolean decodes(XfsDevice dev, int agno) throws Exception {
        try {
            dev.header(HeaderKind.AGF, agno);
            return true;
        } catch (XfsFormatException e) {
            return false;
        }
    }

    /**
     * Adds the roots of the AGF's trees this rebuild does not build (rmapbt, refcountbt) to its fields: all of them for
     * a new header, those the header has wrong for one that decodes.
     *
     * @return false when a root that is needed is proven nowhere
     */
    private static boolean withOtherRoots(ScrubContext ctx, int agno, Map<HeaderField, Long> agf, boolean fresh) throws Exception {
        Map<HeaderField, Long> header = fresh ? null : ctx.device().header(HeaderKind.AGF, agno);
        List<BtreeType> wrong = fresh ? List.of() : AgfStrategy.wrongRoots(ctx, agno, header, f -> { });
        for (BtreeType t : List.of(BtreeType.RMAP, BtreeType.REFCOUNT)) {
            if (ctx.info().hasTree(t) && (fresh || wrong.contains(t)) && !ProvenRoots.put(ctx, agno, t, agf)) {
                return false;
            }
        }
        return true;
    }

    /** The AGF with the rebuild's fields: made new when the old one cannot be decoded, else updated. */
    private static BlockImage agfImage(XfsDevice dev, int agno, Map<HeaderField, Long> agf, boolean fresh) throws Exception {
        return fresh ? dev.newHeader(HeaderKind.AGF, agno, agf) : dev.updateHeader(HeaderKind.AGF, agno, agf);
    }

    /** Both new free-space trees of an AG and the AGF fields they make (roots, levels, free counters, btreeblks). */
    private record Trees(XfsDevice.BulkLoad bno, XfsDevice.BulkLoad cnt, Map<HeaderField, Long> agf) {
        /**
         * Bulk-loads the free extents (in block order) into {@code where}: the bnobt into the first {@code nb} blocks,
         * the cntbt into the rest.
         */
        static Trees load(XfsDevice dev, int agno, List<FreeExtent> free, long[] where, int nb) throws Exception {
            List<FreeExtent> bySize = new ArrayList<>(free);
            bySize.sort(BY_SIZE);
            XfsDevice.BulkLoad bno = dev.bulkLoad(agno, Btree.BNO, free, java.util.Arrays.copyOfRange(where, 0, nb));
            XfsDevice.BulkLoad cnt = dev.bulkLoad(agno, Btree.CNT, bySize, java.util.Arrays.copyOfRange(where, nb, where.length));
            long freeBlocks = 0;
            long longest = 0;
            for (FreeExtent r : free) {
                freeBlocks += r.length();
                longest = Math.max(longest, r.length());
            }
            Map<HeaderField, Long> agf = new LinkedHashMap<>();
            agf.put(HeaderField.root(BtreeType.BNO), bno.root());
            agf.put(HeaderField.level(BtreeType.BNO), (long) bno.levels());
            agf.put(HeaderField.root(BtreeType.CNT), cnt.root());
            agf.put(HeaderField.level(BtreeType.CNT), (long) cnt.levels());
            agf.put(HeaderField.AGF_FREEBLKS, freeBlocks);
            agf.put(HeaderField.AGF_LONGEST, longest);
            agf.put(HeaderField.AGF_BTREEBLKS, (long) (bno.blocks().size() - 1 + cnt.blocks().size() - 1)); // roots are not counted
            return new Trees(bno, cnt, agf);
        }
    }

    /** What a free-space rebuild puts right in its AGs. */
    private static final List<String> COVERS = List.of("bnobt", "cntbt", "agf", "agfl");

    /** The cntbt's order: by length, then start. */
    private static final Comparator<FreeExtent> BY_SIZE = Comparator.comparingLong(FreeExtent::length)
            .thenComparingLong(FreeExtent::start);

    /** Who the rmapbt says owns the AGFL's blocks. */
    private static final MetadataOwner AGFL_OWNER = SpaceUse.AGFL.owner();

    /** Whether the block is in one of the free extents (sorted by start, disjoint). */
    private static boolean isFree(List<FreeExtent> free, long block) {
        int lo = 0;
        int hi = free.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            FreeExtent e = free.get(mid);
            if (block < e.start()) {
                hi = mid - 1;
            } else if (block >= e.end()) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /** The free extents less the given blocks (both sorted). */
    private static List<FreeExtent> without(List<FreeExtent> free, long[] blocks) {
        List<FreeExtent> out = new ArrayList<>();
        int k = 0;
        for (FreeExtent e : free) {
            long start = e.start();
            long end = e.end();
            for (; k < blocks.length && blocks[k] < end; k++) {
                if (blocks[k] >= start) {
                    if (blocks[k] > start) {
                        out.add(new FreeExtent(start, blocks[k] - start));
                    }
                    start = blocks[k] + 1;
                }
            }
            if (end > start) {
                out.add(new FreeExtent(start, end - start));
            }
        }
        return out;
    }

    /**
     * The complement of the space map in [0, length), the AGFL's blocks counted as free (they go to {@code agfl}),
     * and the old free-space btree blocks too when {@code giveBackOldTrees}.
     */
    private static List<FreeExtent> freeExtents(ScrubContext ctx, int agno, long length, List<Long> agfl, boolean giveBackOldTrees)
            throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord r = new SpaceMapRecord();
        List<FreeExtent> free = new ArrayList<>();
        long next = 0;
        for (long i = r.loadNext(space, 0); i >= 0; i = r.loadNext(space, i + 1)) {
            if (r.agno() != agno) {
                if (r.agno() > agno) {
                    break;
                }
                continue;
            }
            SpaceUse use = r.use();
            if (use == SpaceUse.AGFL) {
                agfl.add(r.agbno()); // the device reports the AGFL block by block
                continue;
            }
            if (giveBackOldTrees && (use == SpaceUse.BNOBT || use == SpaceUse.CNTBT)) {
                continue;
            }
            if (r.agbno() > next) {
                free.add(new FreeExtent(next, r.agbno() - next));
            }
            next = Math.max(next, r.end());
        }
        if (length > next) {
            free.add(new FreeExtent(next, length - next));
        }
        // blocks the engine gave another tree in this repair are in use, though the space map was read before
        long[] given = ctx.allocated(agno).stream().flatMapToLong(e -> java.util.stream.LongStream.range(e.start(), e.end())).toArray();
        return given.length == 0 ? free : without(free, given);
    }

    /** Fills {@code taken} with blocks from the front of {@code free}; returns what is left free. */
    private static List<FreeExtent> take(List<FreeExtent> free, long[] taken) {
        List<FreeExtent> rest = new ArrayList<>();
        int t = 0;
        for (FreeExtent e : free) {
            long start = e.start();
            long len = e.length();
            while (t < taken.length && len > 0) {
                taken[t++] = start++;
                len--;
            }
            if (len > 0) {
                rest.add(new FreeExtent(start, len));
            }
        }
        if (t < taken.length) {
            throw new IllegalStateException("not enough free space in the AG for the new free-space btrees");
        }
        return rest;
    }
}
