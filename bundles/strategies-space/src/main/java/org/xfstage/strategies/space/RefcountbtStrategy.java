package org.xfstage.strategies.space;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.RefcountExtent;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.XfArray;

/**
 * refcountbt (reflink filesystems): every block that several inodes map must have a record saying how many, and no
 * other block may have one. The expected records come from one sweep over the space map of an AG (sorted by block):
 * the number of file extents covering each block, kept for the blocks covered twice or more, adjacent blocks with
 * the same count merged. The refcountbt's shared-extent records (not its CoW staging records, which are space of
 * their own in the space map) are merged the same way (a record is at most {@link
 * org.xfstage.api.device.XfsDevice#maxRefcountLength()} blocks long, so the kernel may split a run), and the two
 * sequences must be equal.
 */
@Component(property = RepairStrategy.STRUCTURE + "=" + RefcountbtStrategy.STRUCTURE)
public class RefcountbtStrategy implements RepairStrategy {
    static final String STRUCTURE = "refcountbt";

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP);
    }

    /** Runs of blocks with one reference count, merged as they come (in block order), staged as shared extents. */
    private static final class Runs {
        private final XfArray out;
        private final StagedExtent rec = StagedExtent.forRefcounts();
        private long start = -1;
        private long end;
        private long count;

        Runs(XfArray out) {
            this.out = out;
        }

        void add(long s, long e, long c) throws Exception {
            if (e <= s) {
                return;
            }
            if (start >= 0 && s == end && c == count) {
                end = e;
                return;
            }
            flush();
            start = s;
            end = e;
            count = c;
        }

        void flush() throws Exception {
            if (start >= 0) {
                rec.set(start, end - start, count, false).appendTo(out);
                start = -1;
            }
        }
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().hasTree(BtreeType.REFCOUNT)) {
            return;
        }
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord used = new SpaceMapRecord();
        long cursor = used.loadNext(space, 0);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            try (XfArray expected = StagedExtent.refcountArray(ctx.arrays(), "scrub expected refcounts of AG " + agno);
                    XfArray recorded = StagedExtent.refcountArray(ctx.arrays(), "scrub refcountbt of AG " + agno)) {
                cursor = sweep(space, cursor, used, agno, new Runs(expected));
                Runs have = new Runs(recorded);
                Exception[] failure = {null};
                try {
                    ctx.device().walkBtree(agno, Btree.REFCOUNT, r -> {
                        if (r.cow() || failure[0] != null) {
                            return; // CoW staging: in the space map as blocks of their own
                        }
                        try {
                            have.add(r.start(), r.start() + r.length(), r.refcount());
                        } catch (Exception e) {
                            failure[0] = e;
                        }
                    });
                } catch (XfsFormatException e) {
                    continue; // an unreadable tree: the walk has reported it in this AG, and there is nothing to compare
                }
                if (failure[0] != null) {
                    throw failure[0];
                }
                have.flush();
                compare(agno, expected, recorded, findings);
            }
        }
        unflaggedSharers(ctx, space, findings);
    }

    /** How a finding of an inode sharing blocks without the reflink flag ends (nothing plans it). */
    private static final String NO_REFLINK_FLAG = " has no reflink flag";

    /**
     * Files that share data blocks without the reflink flag on their inode: xfs_repair sets it ("setting reflink flag
     * on inode"), so a refcountbt that counts the sharing right is not enough. One pass over the space map's file
     * records, per AG in block order, keeping the extents that cover the current block; each sharing inode's flag is
     * read once per AG, and at most {@link BnobtStrategy#MAX_PER_AG} inodes without it are reported per AG. Nothing
     * plans this (a refcountbt rebuild does not set inode flags), so a repair of it is refused, never said done.
     */
    private static void unflaggedSharers(ScrubContext ctx, XfArray space, Consumer<Finding> findings) throws Exception {
        SpaceMapRecord r = new SpaceMapRecord();
        PriorityQueue<long[]> covering = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0])); // {end, owner}
        java.util.Set<Long> read = new java.util.HashSet<>(); // the sharing inodes of this AG whose flag was read
        int agno = -1;
        int reported = 0;
        for (long i = r.loadNext(space, 0); i >= 0; i = r.loadNext(space, i + 1)) {
            if (r.agno() != agno) {
                agno = r.agno();
                covering.clear();
                read.clear();
                reported = 0;
            }
            if (!r.use().isFile()) {
                continue;
            }
            while (!covering.isEmpty() && covering.peek()[0] <= r.agbno()) {
                covering.poll();
            }
            for (long[] c : covering) {
                long end = Math.min(c[0], r.end());
                for (long owner : new long[] {c[1], r.owner()}) {
                    if (reported < BnobtStrategy.MAX_PER_AG && read.add(owner) && !ctx.device().reflinked(owner)) {
                        reported++;
                        findings.accept(new Finding("refcountbt", agno, "inode " + owner, "shares "
                                + Extents.range(r.agbno(), end - r.agbno()) + " with another file but" + NO_REFLINK_FLAG,
                                "the reflink flag"));
                    }
                }
            }
            covering.add(new long[] {r.end(), r.owner()});
        }
    }

    /**
     * The expected records of one AG into {@code want}: one sweep over its space map records (from {@code cursor},
     * loaded in {@code used}), keeping the ends of the file extents covering the current block; their number is the
     * reference count. Returns the cursor at the next AG's first record.
     */
    private static long sweep(XfArray space, long cursor, SpaceMapRecord used, int agno, Runs want) throws Exception {
        PriorityQueue<Long> ends = new PriorityQueue<>();
        long pos = 0;
        for (; cursor >= 0 && used.agno() == agno; cursor = used.loadNext(space, cursor + 1)) {
            if (!used.use().isFile()) {
                continue; // metadata is never shared
            }
            pos = advance(ends, pos, used.agbno(), want);
            ends.add(used.end());
        }
        advance(ends, pos, Long.MAX_VALUE, want);
        want.flush();
        return cursor;
    }

    /**
     * Rebuilds the refcountbt of each AG with findings: the expected shared-extent records (split at the longest a
     * record may be) and the tree's own CoW staging records, bulk-loaded into the tree's own blocks (when they can make a
     * tree of as many; otherwise nothing is planned), with the AGF's refcount root and level.
     */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        if (findings.stream().anyMatch(f -> f.problem().endsWith(NO_REFLINK_FLAG))) {
            return null; // an inode's flag, which a rebuilt tree does not set: the sharing may itself be the damage
        }
        Set<Integer> ags = Extents.agsOf(findings);
        if (ags == null) {
            return null;
        }
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord used = new SpaceMapRecord();
        long maxRecord = ctx.device().maxRefcountLength();
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (int agno : ags) {
            // the records, in tree order, staged and loaded from there
            try (XfArray expected = StagedExtent.refcountArray(ctx.arrays(), "repair refcounts of AG " + agno);
                    XfArray records = StagedExtent.refcountArray(ctx.arrays(), "repair refcountbt records of AG " + agno)) {
                long cursor = used.loadNext(space, 0);
                while (cursor >= 0 && used.agno() < agno) {
                    cursor = used.loadNext(space, cursor + 1);
                }
                sweep(space, cursor, used, agno, new Runs(expected));
                StagedExtent r = StagedExtent.forRefcounts();
                StagedExtent rec = StagedExtent.forRefcounts();
                for (long i = r.loadNext(expected, 0); i >= 0; i = r.loadNext(expected, i + 1)) {
                    for (long s = r.start(); s < r.end(); s += maxRecord) {
                        rec.set(s, Math.min(maxRecord, r.end() - s), r.refcount(), false).appendTo(records);
                    }
                }
                for (RefcountExtent cow : cowStaging(ctx, agno, space)) {
                    rec.set(cow).appendTo(records);
                }
                long n = records.length();
                List<BlockImage> tree = Extents.intoOwnBlocks(ctx, agno, Btree.REFCOUNT, n,
                        records.iterator(0, n, StagedExtent::refcountExtent));
                if (tree == null) {
                    return null;
                }
                blocks.addAll(tree);
                changes.add("AG " + agno + ": refcountbt rebuilt from the space map: " + n + " records in "
                        + (tree.size() - 1) + " block(s) (its own)");
            }
        }
        return new Plan(STRUCTURE, blocks, changes);
    }

    /**
     * The tree's CoW staging records, which are kept (they sort after the shared ones). When the tree cannot be read
     * to the end, they are the CoW extents the scrub's walk staged before the damage; one that was past it would
     * be left out, and the re-check of the plan (a block neither free nor used) refuses the rebuild then.
     */
    private static List<RefcountExtent> cowStaging(ScrubContext ctx, int agno, XfArray space) throws Exception {
        List<RefcountExtent> cow = new ArrayList<>();
        try {
            ctx.device().walkBtree(agno, Btree.REFCOUNT, x -> {
                if (x.cow()) {
                    cow.add(x);
                }
            });
        } catch (XfsFormatException e) {
            cow.clear();
            SpaceMapRecord r = new SpaceMapRecord();
            for (long i = r.loadNext(space, 0); i >= 0; i = r.loadNext(space, i + 1)) {
                if (r.agno() == agno && r.use() == SpaceUse.COW) {
                    cow.add(new RefcountExtent(r.agbno(), r.length(), 1, true)); // a CoW staging extent has one owner
                }
            }
        }
        return cow;
    }

    /** Emits the runs between {@code pos} and {@code to} as extents end, and returns the new position. */
    private static long advance(PriorityQueue<Long> ends, long pos, long to, Runs want) throws Exception {
        while (!ends.isEmpty() && ends.peek() <= to) {
            long end = ends.peek();
            if (ends.size() >= 2) {
                want.add(pos, end, ends.size());
            }
            pos = Math.max(pos, end);
            while (!ends.isEmpty() && ends.peek() == end) {
                ends.poll();
            }
        }
        if (to != Long.MAX_VALUE) {
            if (ends.size() >= 2) {
                want.add(pos, to, ends.size());
            }
            pos = Math.max(pos, to);
        }
        return pos;
    }

    private static void compare(int agno, XfArray expected, XfArray recorded, Consumer<Finding> findings) throws Exception {
        StagedExtent e = StagedExtent.forRefcounts();
        StagedExtent r = StagedExtent.forRefcounts();
        long i = e.loadNext(expected, 0);
        long j = r.loadNext(recorded, 0);
        int reported = 0;
        while ((i >= 0 || j >= 0) && reported < BnobtStrategy.MAX_PER_AG) {
            if (i >= 0 && j >= 0 && e.sameAs(r)) {
                i = e.loadNext(expected, i + 1);
                j = r.loadNext(recorded, j + 1);
                continue;
            }
            reported++;
            long es = i >= 0 ? e.start() : Long.MAX_VALUE;
            long rs = j >= 0 ? r.start() : Long.MAX_VALUE;
            if (es < rs || (es == rs && i >= 0 && j >= 0)) {
                String where = Extents.range(es, e.length());
                String problem = es == rs
                        ? "refcountbt says " + Extents.range(rs, r.length()) + " are mapped " + r.refcount() + " times"
                        : "shared " + e.refcount() + " times but not in the refcountbt";
                findings.accept(new Finding("refcountbt", agno, where, problem, e.refcount() + " references"));
                i = e.loadNext(expected, i + 1);
                if (es == rs) {
                    j = r.loadNext(recorded, j + 1);
                }
            } else {
                findings.accept(new Finding("refcountbt", agno, Extents.range(rs, r.length()),
                        "refcountbt says they are mapped " + r.refcount() + " times; they are not shared like that", null));
                j = r.loadNext(recorded, j + 1);
            }
        }
    }
}
