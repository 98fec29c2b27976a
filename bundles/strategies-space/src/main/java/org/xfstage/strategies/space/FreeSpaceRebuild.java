package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * Rebuilds the free-space btrees of an AG from the space map, as the kernel's online repair does: the free extents
 * are the complement of every block in use (the old bnobt and cntbt blocks count as free: they are given back), the
 * new trees take their blocks from the front of that free space, the bnobt records are the rest in block order, the
 * cntbt records the same sorted by (length, start), both bulk loaded by the device, and the AGF gets the new roots,
 * levels and counters. The AGFL is rebuilt with them: its entries that no other structure uses are kept, others
 * dropped, and it is refilled from the front of free space up to what the new trees need
 * (xfs_alloc_min_freelist). On filesystems with an rmapbt the new trees go into the old trees' own blocks and the
 * AGFL holds what the rmapbt says it holds, so that the rmapbt's OWN_AG records stay true; when the new trees cannot
 * take exactly the old blocks, or the rmapbt cannot say what the AGFL is, nothing is planned there (the rmapbt would
 * have to change too).
 */
final class FreeSpaceRebuild {
    private FreeSpaceRebuild() {
    }

    static Plan plan(ScrubContext ctx, List<Finding> findings, String structure) throws Exception {
        FsInfo info = ctx.info();
        boolean rmap = info.features().contains("rmapbt");
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
        Set<String> covers = new HashSet<>();
        for (String s : COVERS) {
            covers.add(s + "@-1");
        }
        XfsDevice dev = ctx.device();
        for (int agno : ags) {
            FsInfo.AgInfo ag = info.ags().get(agno);
            if (rmap) {
                if (!inOwnBlocks(ctx, ag, blocks, changes, covers)) {
                    return null;
                }
                for (String s : List.of("bnobt", "cntbt", "agf")) {
                    covers.add(s + "@" + agno);
                }
                continue;
            }
            List<Long> listed = new ArrayList<>();
            List<long[]> free = freeExtents(ctx, agno, ag.length(), listed, true);
            long[] keep = listed.stream().mapToLong(Long::longValue).filter(x -> isFree(free, x)).distinct().sorted().toArray();
            List<long[]> unlisted = without(free, keep);
            int want = Math.max(keep.length, minFreelist(1, 1));
            long[] taken;
            long[] agfl;
            List<long[]> rest;
            Trees trees;
            while (true) {
                // the AGFL's refill first, then the new trees' blocks from the front of the free space until the
                // record count settles
                long[] refill = new long[want - keep.length];
                List<long[]> afterRefill = take(unlisted, refill);
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
                int needed = minFreelist(trees.bno().levels(), trees.cnt().levels());
                if (agfl.length >= needed) {
                    break;
                }
                want = needed;
            }
            Map<String, Long> agf = trees.agf();
            agf.put("flfirst", 0L);
            agf.put("fllast", (long) agfl.length - 1);
            agf.put("flcount", (long) agfl.length);
            blocks.addAll(trees.bno().blocks());
            blocks.addAll(trees.cnt().blocks());
            blocks.add(dev.rebuildAgfl(agno, agfl));
            blocks.add(dev.updateHeader(HeaderKind.AGF, agno, agf));
            changes.add("AG " + agno + ": bnobt and cntbt rebuilt from the space map: " + rest.size() + " free extents, "
                    + agf.get("freeblks") + " free blocks (was " + ag.freeBlocks() + "), " + taken.length + " btree blocks; AGFL "
                    + keep.length + " of " + listed.size() + " blocks kept, " + (agfl.length - keep.length) + " added");
            for (String s : COVERS) {
                covers.add(s + "@" + agno);
            }
        }
        return new Plan(structure, blocks, changes, covers);
    }

    /**
     * The rebuild of one AG on an rmapbt filesystem: the new trees in the old trees' blocks (any of them to either
     * tree: the rmapbt owns them all as OWN_AG, and the records are spread to take exactly those blocks). The AGFL is
     * what the rmapbt says it is: its OWN_AG blocks that are not blocks of the three trees; when the AGFL lists other
     * blocks (one in use, one listed twice, a count cut short), it is rewritten with those, which puts the rmapbt's
     * findings in this AG right too. False when that is not possible.
     */
    private static boolean inOwnBlocks(ScrubContext ctx, FsInfo.AgInfo ag, List<BlockImage> blocks, List<String> changes,
            Set<String> covers) throws Exception {
        XfsDevice dev = ctx.device();
        int agno = ag.agno();
        long[] bno = dev.btreeBlocks(agno, BtreeType.BNO); // unreadable: the engine counts the strategy unable to plan
        long[] cnt = dev.btreeBlocks(agno, BtreeType.CNT);
        long[] rmap = dev.btreeBlocks(agno, BtreeType.RMAP);
        long[] old = java.util.stream.LongStream.concat(java.util.Arrays.stream(bno), java.util.Arrays.stream(cnt)).sorted().toArray();
        List<Long> listed = new ArrayList<>();
        List<long[]> free = freeExtents(ctx, agno, ag.length(), listed, false);
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
        List<long[]> rest = without(free, agfl);
        int nb = -1;
        for (int b = dev.btreeBlocksNeeded(BtreeType.BNO, rest.size()); b < old.length && nb < 0; b++) {
            if (dev.btreeFits(BtreeType.BNO, rest.size(), b) && dev.btreeFits(BtreeType.CNT, rest.size(), old.length - b)) {
                nb = b;
            }
        }
        if (nb < 0) {
            return false; // the new trees need other blocks than the old ones: the rmapbt would change
        }
        Trees trees = Trees.load(dev, agno, rest, old, nb);
        Map<String, Long> agf = trees.agf();
        agf.put("btreeblks", agf.get("btreeblks") + rmap.length - 1); // the rmapbt's blocks past its root count too
        blocks.addAll(trees.bno().blocks());
        blocks.addAll(trees.cnt().blocks());
        String agflChange = "AGFL and rmapbt unchanged";
        if (rewrite) {
            blocks.add(dev.rebuildAgfl(agno, agfl));
            agf.put("flfirst", 0L);
            agf.put("fllast", (long) agfl.length - 1);
            agf.put("flcount", (long) agfl.length);
            covers.add("rmapbt@" + agno);
            agflChange = "AGFL rewritten with the " + agfl.length + " blocks the rmapbt gives it (it listed " + listed + ")";
        }
        blocks.add(dev.updateHeader(HeaderKind.AGF, agno, agf));
        changes.add("AG " + agno + ": bnobt and cntbt rebuilt from the space map into their own " + old.length + " blocks: "
                + rest.size() + " free extents, " + agf.get("freeblks") + " free blocks (was " + ag.freeBlocks() + "); " + agflChange);
        return true;
    }

    /**
     * The AGFL's blocks as the rmapbt knows them: its OWN_AG blocks that are none of the free-space trees' or its own
     * ({@code trees}, sorted); null when the rmapbt cannot be read.
     */
    private static long[] agflOfRmapbt(XfsDevice dev, int agno, long[] trees, long[] rmap) throws Exception {
        Set<Long> mine = new java.util.HashSet<>();
        java.util.Arrays.stream(trees).forEach(mine::add);
        java.util.Arrays.stream(rmap).forEach(mine::add);
        java.util.TreeSet<Long> out = new java.util.TreeSet<>();
        try {
            dev.walkBtree(agno, BtreeType.RMAP, r -> {
                if (r[2] == XfsDevice.RMAP_OWN_AG) {
                    for (long b = r[0]; b < r[0] + r[1]; b++) {
                        if (!mine.contains(b)) {
                            out.add(b);
                        }
                    }
                }
            });
        } catch (org.xfstage.api.device.XfsFormatException e) {
            return null;
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Both new free-space trees of an AG and the AGF fields they make (roots, levels, free counters, btreeblks). */
    private record Trees(XfsDevice.BulkLoad bno, XfsDevice.BulkLoad cnt, Map<String, Long> agf) {
        /**
         * Bulk-loads the free extents (in block order) into {@code where}: the bnobt into the first {@code nb} blocks,
         * the cntbt into the rest.
         */
        static Trees load(XfsDevice dev, int agno, List<long[]> free, long[] where, int nb) throws Exception {
            List<long[]> bySize = new ArrayList<>(free);
            bySize.sort((x, y) -> x[1] != y[1] ? Long.compare(x[1], y[1]) : Long.compare(x[0], y[0]));
            XfsDevice.BulkLoad bno = dev.bulkLoad(agno, BtreeType.BNO, free, java.util.Arrays.copyOfRange(where, 0, nb));
            XfsDevice.BulkLoad cnt = dev.bulkLoad(agno, BtreeType.CNT, bySize, java.util.Arrays.copyOfRange(where, nb, where.length));
            long freeBlocks = 0;
            long longest = 0;
            for (long[] r : free) {
                freeBlocks += r[1];
                longest = Math.max(longest, r[1]);
            }
            Map<String, Long> agf = new LinkedHashMap<>();
            agf.put("bno_root", bno.root());
            agf.put("bno_level", (long) bno.levels());
            agf.put("cnt_root", cnt.root());
            agf.put("cnt_level", (long) cnt.levels());
            agf.put("freeblks", freeBlocks);
            agf.put("longest", longest);
            agf.put("btreeblks", (long) (bno.blocks().size() - 1 + cnt.blocks().size() - 1)); // roots are not counted
            return new Trees(bno, cnt, agf);
        }
    }

    /** What a free-space rebuild puts right in its AGs. */
    private static final List<String> COVERS = List.of("bnobt", "cntbt", "agf", "agfl");

    /**
     * Blocks the AGFL must hold for the free-space btrees to grow by a split at every level
     * (xfs_alloc_min_freelist without an rmapbt): per tree, two per level above its current height, less two.
     */
    static int minFreelist(int bnoLevels, int cntLevels) {
        return (bnoLevels + 1) * 2 - 2 + (cntLevels + 1) * 2 - 2;
    }

    /** Whether the block is in one of the free extents (sorted by start, disjoint). */
    private static boolean isFree(List<long[]> free, long block) {
        int lo = 0;
        int hi = free.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long[] e = free.get(mid);
            if (block < e[0]) {
                hi = mid - 1;
            } else if (block >= e[0] + e[1]) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /** The free extents less the given blocks (both sorted). */
    private static List<long[]> without(List<long[]> free, long[] blocks) {
        List<long[]> out = new ArrayList<>();
        int k = 0;
        for (long[] e : free) {
            long start = e[0];
            long end = e[0] + e[1];
            for (; k < blocks.length && blocks[k] < end; k++) {
                if (blocks[k] >= start) {
                    if (blocks[k] > start) {
                        out.add(new long[] {start, blocks[k] - start});
                    }
                    start = blocks[k] + 1;
                }
            }
            if (end > start) {
                out.add(new long[] {start, end - start});
            }
        }
        return out;
    }

    /**
     * The complement of the space map in [0, length), the AGFL's blocks counted as free (they go to {@code agfl}),
     * and the old free-space btree blocks too when {@code giveBackOldTrees}.
     */
    private static List<long[]> freeExtents(ScrubContext ctx, int agno, long length, List<Long> agfl, boolean giveBackOldTrees)
            throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        ByteBuffer r = ByteBuffer.allocate(24);
        long oldBno = ScrubContext.OWNER_BTREE_BASE - BtreeType.BNO.ordinal();
        long oldCnt = ScrubContext.OWNER_BTREE_BASE - BtreeType.CNT.ordinal();
        List<long[]> free = new ArrayList<>();
        long next = 0;
        for (long i = space.loadNext(0, r); i >= 0; i = space.loadNext(i + 1, r)) {
            if (r.getInt(0) != agno) {
                if (r.getInt(0) > agno) {
                    break;
                }
                continue;
            }
            long owner = r.getLong(16);
            if (owner == XfsDevice.OWNER_AGFL) {
                agfl.add((long) r.getInt(4) & 0xffffffffL);
                continue;
            }
            if (giveBackOldTrees && (owner == oldBno || owner == oldCnt)) {
                continue;
            }
            long start = r.getInt(4) & 0xffffffffL;
            long end = start + (r.getInt(8) & 0xffffffffL);
            if (start > next) {
                free.add(new long[] {next, start - next});
            }
            next = Math.max(next, end);
        }
        if (length > next) {
            free.add(new long[] {next, length - next});
        }
        return free;
    }

    /** Fills {@code taken} with blocks from the front of {@code free}; returns what is left free. */
    private static List<long[]> take(List<long[]> free, long[] taken) {
        List<long[]> rest = new ArrayList<>();
        int t = 0;
        for (long[] e : free) {
            long start = e[0];
            long len = e[1];
            while (t < taken.length && len > 0) {
                taken[t++] = start++;
                len--;
            }
            if (len > 0) {
                rest.add(new long[] {start, len});
            }
        }
        if (t < taken.length) {
            throw new IllegalStateException("not enough free space in the AG for the new free-space btrees");
        }
        return rest;
    }
}
