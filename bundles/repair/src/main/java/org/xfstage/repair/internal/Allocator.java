package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The blocks a repair gives to trees that need more than they had ({@link org.xfstage.api.repair.ScrubContext#allocate}):
 * only blocks the staged space map of the round proves free, never one given out before in the repair or one a plan
 * writes, never one that holds an inode of this filesystem (a chunk a damaged inobt lost looks unused to the walk that
 * followed it), leaked blocks (in no free-space btree of the view either) first. In the first round only blocks the view's
 * bnobt lists free too are given: that round's walk followed the trees as they were, and where the inobt lost a chunk
 * it read none of its files, whose blocks then look leaked; the later rounds walk a view whose inode btrees the repair
 * rebuilt from the inodes, so that a block in no structure there is leaked (or given back by a tree that shrank).
 * What it gives out stays given for the whole
 * repair: a later round's walk finds those blocks in use (the trees that took them are planned), and its checks find
 * the free-space btrees, the AGFL, the counters and the rmapbt that still call them free, which the next round plans.
 */
final class Allocator {
    /** The most blocks asked for that are first sought side by side (a 64 KiB directory block of 1 KiB blocks). */
    private static final int MAX_RUN = 64;
    /** Blocks probed at most in that search. */
    private static final int RUN_PROBES = 4096;
    /** The blocks given out, by AG. */
    private final Map<Integer, TreeSet<Long>> given = new TreeMap<>();
    /** The blocks given out while the current plan was being made (for its changes), by AG. */
    private final Map<Integer, Long> forThisPlan = new TreeMap<>();
    /** Whether the plans are made on the first scrub (see the class comment). */
    private boolean firstRound = true;

    /** The plans from now on are made on a re-check's scrub of a view. */
    synchronized void laterRound() {
        firstRound = false;
    }

    /**
     * {@code count} blocks of AG {@code agno} as {@code ctx} (a plan's view, with its round's staged space map) proves
     * them free, or null when the AG has not that many.
     */
    synchronized List<FreeExtent> allocate(RunContext ctx, List<BlockImage> planned, int agno, long count)
            throws XfsException, StagingException {
        FsInfo info = ctx.info();
        if (count <= 0 || agno < 0 || agno >= info.agCount()) {
            return null;
        }
        long agLength = info.ags().get(agno).length();
        TreeSet<Long> taken = given.computeIfAbsent(agno, k -> new TreeSet<>());
        TreeSet<Long> written = plannedBlocks(info, planned, agno);
        List<FreeExtent> free = unused(ctx.observation(Observation.SPACE_MAP), agno, agLength);
        List<FreeExtent> listed = freeInBnobt(ctx, agno);
        List<FreeExtent> order = new ArrayList<>();
        if (listed == null) {
            if (!firstRound) {
                order.addAll(free); // nothing tells leaked blocks from free ones
            }
        } else {
            if (!firstRound) {
                order.addAll(ExtentLists.minus(free, listed)); // leaked: unused, and in no free-space btree
            }
            order.addAll(ExtentLists.intersect(free, listed));
        }
        // a run of blocks side by side first, where a small one is asked for: a directory block larger than a
        // filesystem block must lie on one extent, and a tree's blocks read better together
        TreeSet<Long> out = count <= MAX_RUN ? run(ctx, agno, order, taken, written, (int) count) : new TreeSet<>();
        // else only the blocks taken are probed: the search ends when it has enough
        for (int k = 0; k < order.size() && out.size() < count; k++) {
            FreeExtent e = order.get(k);
            for (long b = e.start(); b < e.end() && out.size() < count; b++) {
                if (!taken.contains(b) && !written.contains(b) && !holdsInode(ctx, agno, b)) {
                    out.add(b);
                }
            }
        }
        if (out.size() < count) {
            return null;
        }
        taken.addAll(out);
        forThisPlan.merge(agno, count, Long::sum);
        return ExtentLists.of(out);
    }

    /**
     * The first {@code count} eligible blocks side by side in one extent of {@code order}, or none: at most
     * {@link #RUN_PROBES} blocks are probed, so that an AG of scattered free blocks costs little before the blocks are
     * taken one by one.
     */
    private static TreeSet<Long> run(RunContext ctx, int agno, List<FreeExtent> order, TreeSet<Long> taken,
            TreeSet<Long> written, int count) throws XfsException {
        TreeSet<Long> out = new TreeSet<>();
        int probes = 0;
        for (FreeExtent e : order) {
            out.clear();
            for (long b = e.start(); b < e.end() && probes < RUN_PROBES; b++, probes++) {
                if (taken.contains(b) || written.contains(b) || holdsInode(ctx, agno, b)) {
                    out.clear();
                } else if (out.add(b) && out.size() == count) {
                    return out;
                }
            }
        }
        out.clear();
        return out;
    }

    /** Whether the block's first inode decodes (the first is enough: a chunk's blocks are all inodes). */
    private static boolean holdsInode(RunContext ctx, int agno, long agbno) throws XfsException {
        long ino = ctx.device().inodeNumber(agno, agbno * ctx.device().inodesPerBlock());
        return ctx.device().probeInode(ino).isInode();
    }

    /** What {@link #allocate} gave out in AG {@code agno}, as extents. */
    synchronized List<FreeExtent> allocated(int agno) {
        TreeSet<Long> t = given.get(agno);
        return t == null ? List.of() : ExtentLists.of(t);
    }

    /** The plan's allocations in words (one line per AG), and forgets them: the next plan starts with none. */
    synchronized List<String> takePlanChanges() {
        List<String> out = new ArrayList<>();
        forThisPlan.forEach((agno, n) -> out.add("AG " + agno + ": " + n + " block(s) allocated from free space (the free-space "
                + "btrees, the AGFL, the counters and the rmapbt are planned again for them)"));
        forThisPlan.clear();
        return out;
    }

    /** The AG blocks of AG {@code agno} that a plan writes. */
    private static TreeSet<Long> plannedBlocks(FsInfo info, List<BlockImage> planned, int agno) {
        TreeSet<Long> out = new TreeSet<>();
        long bs = info.blockSize();
        long agBytes = info.agBlocks() * bs;
        for (BlockImage b : planned) {
            if (b.offset() / agBytes != agno) {
                continue;
            }
            long first = (b.offset() % agBytes) / bs;
            long last = (b.offset() % agBytes + b.bytes().length - 1) / bs;
            for (long x = first; x <= last; x++) {
                out.add(x);
            }
        }
        return out;
    }

    /** The complement of the staged (sorted) space map in AG {@code agno}. */
    private static List<FreeExtent> unused(XfArray space, int agno, long agLength) throws StagingException {
        SpaceMapRecord r = new SpaceMapRecord();
        // the first record of the AG: records are sorted by position
        long lo = 0;
        long hi = space.length();
        long key = SpaceMapRecord.position(agno, 0);
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            r.load(space, mid);
            if (Long.compareUnsigned(r.position(), key) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        List<FreeExtent> out = new ArrayList<>();
        long next = 0;
        for (long i = lo; i < space.length(); i++) {
            r.load(space, i);
            if (r.agno() != agno) {
                break;
            }
            if (r.agbno() > next) {
                out.add(new FreeExtent(next, r.agbno() - next));
            }
            next = Math.max(next, r.end());
        }
        if (agLength > next) {
            out.add(new FreeExtent(next, agLength - next));
        }
        return out;
    }

    /**
     * The free extents the view's free-space btrees list (the bnobt's, else the cntbt's), sorted by start; on an
     * rmapbt filesystem where neither can be read, the blocks the rmapbt maps to no owner; null when none of them can be
     * read (then no block is known leaked, and the first round gives none).
     */
    private static List<FreeExtent> freeInBnobt(RunContext ctx, int agno) {
        for (Btree<FreeExtent> tree : List.of(Btree.BNO, Btree.CNT)) {
            List<FreeExtent> out = new ArrayList<>();
            try {
                ctx.device().walkBtree(agno, tree, out::add);
            } catch (XfsException | RuntimeException e) {
                continue;
            }
            out.sort(java.util.Comparator.comparingLong(FreeExtent::start));
            return out;
        }
        if (!ctx.info().hasTree(org.xfstage.api.device.BtreeType.RMAP)) {
            return null;
        }
        List<FreeExtent> mapped = new ArrayList<>();
        try {
            ctx.device().walkBtree(agno, Btree.RMAP, m -> mapped.add(new FreeExtent(m.start(), m.length())));
        } catch (XfsException | RuntimeException e) {
            return null;
        }
        mapped.sort(java.util.Comparator.comparingLong(FreeExtent::start));
        List<FreeExtent> out = new ArrayList<>();
        long next = 0;
        for (FreeExtent m : mapped) {
            if (m.start() > next) {
                out.add(new FreeExtent(next, m.start() - next));
            }
            next = Math.max(next, m.end());
        }
        long end = ctx.info().ags().get(agno).length();
        if (end > next) {
            out.add(new FreeExtent(next, end - next));
        }
        return out;
    }
}
