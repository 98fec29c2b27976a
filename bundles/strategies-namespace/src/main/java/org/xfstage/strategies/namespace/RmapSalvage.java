package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FileExtent;
import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.XfArray;

/**
 * Extents of damaged forks that the rmapbt still knows (on filesystems with one), as the kernel's online bmap repair
 * rebuilds a fork from the reverse mappings: for records a damaged fork no longer gives (below a bmbt block that cannot
 * be read, or with a start block that was overwritten).
 * <p>
 * A reverse mapping is only a candidate. It is taken when the rest of the filesystem proves it: its blocks are used
 * by no other owner in the space map (the walk's: only this inode's own data may be staged there), and none of them is
 * free in the AG's bnobt (a free block in the rmapbt is a stale record). An AG whose rmapbt or bnobt cannot be walked
 * gives nothing. Whether a candidate overlaps what the fork still holds (in the file or on disk) is the caller's to
 * check.
 */
final class RmapSalvage {
    /** Candidates held at most: a trashed filesystem is not salvaged from its rmapbt in memory. */
    static final int MAX_CANDIDATES = 1_000_000;

    /** One proven reverse mapping, as an extent of a fork. */
    record Proven(long ino, boolean attrFork, FileExtent extent) {
    }

    private RmapSalvage() {
    }

    /** The proven extents of {@code inodes}, by inode, each in file offset order; empty without an rmapbt. */
    static Map<Long, List<Proven>> of(ScrubContext ctx, Set<Long> inodes) throws Exception {
        Map<Long, List<Proven>> out = new HashMap<>();
        if (inodes.isEmpty() || !ctx.info().hasTree(BtreeType.RMAP)) {
            return out;
        }
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        for (int agno = 0; agno < ctx.info().agCount(); agno++) {
            if (ctx.progress().isCancelled()) {
                throw new CancelledException("repair cancelled while reading the rmapbt for extent maps");
            }
            List<ReverseMapping> found = new ArrayList<>();
            try {
                ctx.device().walkBtree(agno, Btree.RMAP, m -> {
                    if (m.isFileData() && inodes.contains(m.owner()) && found.size() < MAX_CANDIDATES) {
                        found.add(m);
                    }
                });
            } catch (XfsException e) {
                continue; // an rmapbt that cannot be walked proves nothing
            }
            if (found.isEmpty() || found.size() >= MAX_CANDIDATES) {
                continue;
            }
            found.sort(Comparator.comparingLong(ReverseMapping::start));
            boolean[] bad = new boolean[found.size()];
            if (!usedByOthers(space, agno, found, bad) || !free(ctx, agno, found, bad)) {
                continue;
            }
            for (int i = 0; i < found.size(); i++) {
                ReverseMapping m = found.get(i);
                if (!bad[i]) {
                    out.computeIfAbsent(m.owner(), x -> new ArrayList<>()).add(new Proven(m.owner(), m.attrFork(),
                            new FileExtent(m.offset(), agno, m.start(), m.length(), m.unwritten())));
                }
            }
        }
        out.values().forEach(l -> l.sort(Comparator.comparingLong(p -> p.extent().offset())));
        return out;
    }

    /**
     * Marks the candidates (sorted by block) that a space map record of another owner or use overlaps: one sweep of
     * the AG's records with the records still open at each candidate in a heap by their end. Conservative: a record
     * that starts inside an earlier, longer candidate is also held against the candidates after it that it may not
     * reach. Returns false when the space map cannot be read.
     */
    private static boolean usedByOthers(XfArray space, int agno, List<ReverseMapping> found, boolean[] bad) throws Exception {
        SpaceMapRecord r = new SpaceMapRecord();
        long i = r.loadNext(space, 0);
        while (i >= 0 && r.agno() < agno) {
            i = r.loadNext(space, i + 1);
        }
        // {end, owner, use}
        PriorityQueue<long[]> open = new PriorityQueue<>(Comparator.comparingLong(a -> a[0]));
        for (int c = 0; c < found.size(); c++) {
            ReverseMapping m = found.get(c);
            long end = m.start() + m.length();
            while (i >= 0 && r.agno() == agno && r.agbno() < end) {
                open.add(new long[] {r.end(), r.owner(), r.use().ordinal()});
                i = r.loadNext(space, i + 1);
            }
            while (!open.isEmpty() && open.peek()[0] <= m.start()) {
                open.poll();
            }
            for (long[] o : open) {
                if (o[1] != m.owner() || o[2] != SpaceUse.FILE_DATA.ordinal()) {
                    bad[c] = true;
                    break;
                }
            }
        }
        return true;
    }

    /** Marks the candidates that a free extent of the AG's bnobt overlaps; false when the bnobt cannot be walked. */
    private static boolean free(ScrubContext ctx, int agno, List<ReverseMapping> found, boolean[] bad) {
        int[] from = {0};
        try {
            ctx.device().walkBtree(agno, Btree.BNO, f -> {
                // both in block order: candidates ending before this free extent are past
                while (from[0] < found.size() && found.get(from[0]).start() + found.get(from[0]).length() <= f.start()) {
                    from[0]++;
                }
                for (int c = from[0]; c < found.size() && found.get(c).start() < f.end(); c++) {
                    if (found.get(c).start() + found.get(c).length() > f.start()) {
                        bad[c] = true;
                    }
                }
            });
        } catch (XfsException e) {
            return false;
        }
        return true;
    }
}
