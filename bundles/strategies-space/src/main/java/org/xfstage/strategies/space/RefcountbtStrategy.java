package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * refcountbt (reflink filesystems): every block that several inodes map must have a record saying how many, and no
 * other block may have one. The expected records come from one sweep over the space map of an AG (sorted by block):
 * the number of file extents covering each block, kept for the blocks covered twice or more, adjacent blocks with
 * the same count merged. The refcountbt's shared-extent records (not its CoW staging records, which are space of
 * their own in the space map) are merged the same way (a record is at most 2^21 - 1 blocks long, so the kernel may
 * split a run), and the two sequences must be equal.
 */
@Component(property = RepairStrategy.STRUCTURE + "=" + RefcountbtStrategy.STRUCTURE)
public class RefcountbtStrategy implements RepairStrategy {
    static final String STRUCTURE = "refcountbt";

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP);
    }

    /** Runs of blocks with one reference count, merged as they come (in block order). */
    private static final class Runs {
        private final XfArray out;
        private final ByteBuffer rec = ByteBuffer.allocate(16);
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
                rec.clear();
                rec.putLong(start << 32 | (end - start)).putLong(count).flip();
                out.append(rec);
                start = -1;
            }
        }
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().features().contains("reflink")) {
            return;
        }
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        ByteBuffer used = ByteBuffer.allocate(24);
        long cursor = space.loadNext(0, used);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            try (XfArray expected = ctx.arrays().create("scrub expected refcounts of AG " + agno, 16);
                    XfArray recorded = ctx.arrays().create("scrub refcountbt of AG " + agno, 16)) {
                cursor = sweep(space, cursor, used, agno, new Runs(expected));
                Runs have = new Runs(recorded);
                Exception[] failure = {null};
                try {
                    ctx.device().walkBtree(agno, BtreeType.REFCOUNT, r -> {
                        if (r[3] != 0 || failure[0] != null) {
                            return; // CoW staging: in the space map as blocks of their own
                        }
                        try {
                            have.add(r[0], r[0] + r[1], r[2]);
                        } catch (Exception e) {
                            failure[0] = e;
                        }
                    });
                } catch (org.xfstage.api.device.XfsFormatException e) {
                    continue; // an unreadable tree: the walk has reported it in this AG, and there is nothing to compare
                }
                if (failure[0] != null) {
                    throw failure[0];
                }
                have.flush();
                compare(agno, expected, recorded, findings);
            }
        }
    }

    /**
     * The expected records of one AG into {@code want}: one sweep over its space map records (from {@code cursor},
     * loaded in {@code used}), keeping the ends of the file extents covering the current block; their number is the
     * reference count. Returns the cursor at the next AG's first record.
     */
    private static long sweep(XfArray space, long cursor, ByteBuffer used, int agno, Runs want) throws Exception {
        PriorityQueue<Long> ends = new PriorityQueue<>();
        long pos = 0;
        for (; cursor >= 0 && used.getInt(0) == agno; cursor = space.loadNext(cursor + 1, used)) {
            long owner = used.getLong(16);
            if (owner < 0) {
                continue; // metadata is never shared
            }
            long start = used.getInt(4) & 0xffffffffL;
            pos = advance(ends, pos, start, want);
            ends.add(start + (used.getInt(8) & 0xffffffffL));
        }
        advance(ends, pos, Long.MAX_VALUE, want);
        want.flush();
        return cursor;
    }

    /** Longest extent one refcountbt record may describe (XFS_REFC_LEN_MAX). */
    private static final long MAX_RECORD_BLOCKS = (1L << 21) - 1;

    /**
     * Rebuilds the refcountbt of each AG with findings: the expected shared-extent records (split at the longest a
     * record may be) and the tree's own CoW staging records, bulk-loaded into the tree's own blocks (when they can make a
     * tree of as many; otherwise nothing is planned), with the AGF's refcount root and level.
     */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = Extents.agsOf(findings);
        if (ags == null) {
            return null;
        }
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        ByteBuffer used = ByteBuffer.allocate(24);
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (int agno : ags) {
            // the records, in tree order, staged as (start, length, refcount, CoW) u32s and loaded from there
            try (XfArray expected = ctx.arrays().create("repair refcounts of AG " + agno, 16);
                    XfArray records = ctx.arrays().create("repair refcountbt records of AG " + agno, 16)) {
                long cursor = space.loadNext(0, used);
                while (cursor >= 0 && used.getInt(0) < agno) {
                    cursor = space.loadNext(cursor + 1, used);
                }
                sweep(space, cursor, used, agno, new Runs(expected));
                ByteBuffer r = ByteBuffer.allocate(16);
                ByteBuffer rec = ByteBuffer.allocate(16);
                for (long i = expected.loadNext(0, r); i >= 0; i = expected.loadNext(i + 1, r)) {
                    long start = r.getLong(0) >>> 32;
                    long end = start + (r.getLong(0) & 0xffffffffL);
                    for (long s = start; s < end; s += MAX_RECORD_BLOCKS) {
                        rec.clear();
                        records.append(rec.putInt((int) s).putInt((int) Math.min(MAX_RECORD_BLOCKS, end - s))
                                .putInt((int) r.getLong(8)).putInt(0).flip());
                    }
                }
                for (long[] cow : cowStaging(ctx, agno, space)) {
                    rec.clear();
                    records.append(rec.putInt((int) cow[0]).putInt((int) cow[1]).putInt((int) cow[2]).putInt((int) cow[3]).flip());
                }
                long n = records.length();
                List<BlockImage> tree = Extents.intoOwnBlocks(ctx, agno, BtreeType.REFCOUNT, n, records.iterator(0, n,
                        b -> new long[] {b.getInt(0) & 0xffffffffL, b.getInt(4) & 0xffffffffL, b.getInt(8) & 0xffffffffL, b.getInt(12)}),
                        "refcount");
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
    private static List<long[]> cowStaging(ScrubContext ctx, int agno, XfArray space) throws Exception {
        List<long[]> cow = new ArrayList<>();
        try {
            ctx.device().walkBtree(agno, BtreeType.REFCOUNT, x -> {
                if (x[3] != 0) {
                    cow.add(x.clone());
                }
            });
        } catch (org.xfstage.api.device.XfsFormatException e) {
            cow.clear();
            ByteBuffer r = ByteBuffer.allocate(24);
            for (long i = space.loadNext(0, r); i >= 0; i = space.loadNext(i + 1, r)) {
                if (r.getInt(0) == agno && r.getLong(16) == ScrubContext.OWNER_COW) {
                    cow.add(new long[] {r.getInt(4) & 0xffffffffL, r.getInt(8) & 0xffffffffL, 1, 1});
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
        ByteBuffer e = ByteBuffer.allocate(16);
        ByteBuffer r = ByteBuffer.allocate(16);
        long i = expected.loadNext(0, e);
        long j = recorded.loadNext(0, r);
        int reported = 0;
        while ((i >= 0 || j >= 0) && reported < BnobtStrategy.MAX_PER_AG) {
            if (i >= 0 && j >= 0 && e.getLong(0) == r.getLong(0) && e.getLong(8) == r.getLong(8)) {
                i = expected.loadNext(i + 1, e);
                j = recorded.loadNext(j + 1, r);
                continue;
            }
            reported++;
            long es = i >= 0 ? e.getLong(0) >>> 32 : Long.MAX_VALUE;
            long rs = j >= 0 ? r.getLong(0) >>> 32 : Long.MAX_VALUE;
            if (es < rs || (es == rs && i >= 0 && j >= 0)) {
                String where = Extents.range(es, e.getLong(0) & 0xffffffffL);
                String problem = es == rs
                        ? "refcountbt says " + Extents.range(rs, r.getLong(0) & 0xffffffffL) + " are mapped " + r.getLong(8) + " times"
                        : "shared " + e.getLong(8) + " times but not in the refcountbt";
                findings.accept(new Finding("refcountbt", agno, where, problem, e.getLong(8) + " references"));
                i = expected.loadNext(i + 1, e);
                if (es == rs) {
                    j = recorded.loadNext(j + 1, r);
                }
            } else {
                findings.accept(new Finding("refcountbt", agno, Extents.range(rs, r.getLong(0) & 0xffffffffL),
                        "refcountbt says they are mapped " + r.getLong(8) + " times; they are not shared like that", null));
                j = recorded.loadNext(j + 1, r);
            }
        }
    }
}
