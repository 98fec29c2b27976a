package org.xfstage.strategies.space;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;

/**
 * rmapbt: the reverse-mapping btree must hold the records the kernel would keep. Expected: the space map's metadata
 * runs under their owners (each {@link SpaceUse}'s {@link SpaceUse#owner()}: headers, log, AGFL and free-space and
 * rmap btrees, inode btrees, chunks, refcount btree, CoW staging), and every in-use inode's mappings from the device
 * (file offsets, fork, bmbt and unwritten flags). Both sides are staged as {@link MappingRecord}s, sorted in tree
 * order and merged as the kernel merges (one owner and set of flags, adjacent blocks, and for file data adjacent
 * offsets), so that however a record was split they compare equal; and then compared record for record: a wrong
 * owner, length, offset or flag is found.
 * <p>
 * The rebuild sorts the expected records in an xfarray in tree order and bulk-loads them into the old tree's own
 * blocks, so that free space and the AG-owned runs stay as they are.
 */
@Component(property = RepairStrategy.STRUCTURE + "=rmapbt")
public class RmapbtStrategy implements RepairStrategy {

    /** A free-space rebuild comes first: when it puts the AGFL right, the rmapbt's findings there are right too. */
    @Override
    public Set<String> after() {
        return Set.of("bnobt", "cntbt", "agfl");
    }

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP, Observation.INODE_MAP, Observation.FILE_MAPPINGS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().hasTree(BtreeType.RMAP)) {
            return;
        }
        Set<Integer> ags = new TreeSet<>();
        try (XfArray expected = ctx.arrays().create("scrub expected reverse mappings", MappingRecord.SIZE);
                XfArray recorded = ctx.arrays().create("scrub rmapbt records", MappingRecord.SIZE);
                XfArray want = ctx.arrays().create("scrub expected reverse mappings, merged", MappingRecord.SIZE);
                XfArray have = ctx.arrays().create("scrub rmapbt records, merged", MappingRecord.SIZE)) {
            MappingRecord rec = new MappingRecord();
            for (FsInfo.AgInfo ag : ctx.info().ags()) {
                int agno = ag.agno();
                Exception[] failure = {null};
                try {
                    ctx.device().walkBtree(agno, Btree.RMAP, x -> {
                        if (failure[0] == null) {
                            try {
                                rec.set(agno, x).appendTo(recorded);
                            } catch (Exception e) {
                                failure[0] = e;
                            }
                        }
                    });
                } catch (XfsFormatException e) {
                    continue; // an unreadable tree: the walk has reported it, and its records are not compared
                }
                if (failure[0] != null) {
                    throw failure[0];
                }
                ags.add(agno);
            }
            // the inodes' side as the walk staged it, sorted by the engine: merged with the metadata, not copied
            XfArray walked = ctx.observation(Observation.FILE_MAPPINGS);
            stage(ctx, ags, new Mappings(expected), false, walked == null);
            canonical(ctx, expected, walked, want, ags);
            canonical(ctx, recorded, true, have, ags); // as the walks read them; without those of a failed walk
            compare(want, have, findings);
        }
    }

    /**
     * Both sides in one form, whatever way the records were split: in tree order, each record merged with the
     * latest one of its owner and flags while they are adjacent (as the kernel merges), then in tree order again;
     * only the records of the AGs given. The records of one owner interleave with others' only where blocks are
     * shared, so the owners pending at a time are few.
     */
    private static void canonical(ScrubContext ctx, XfArray records, boolean inTreeOrder, XfArray out, Set<Integer> ags)
            throws Exception {
        if (!inTreeOrder) {
            records.sort(MappingRecord.ORDER, SortOptions.DEFAULT, ctx.progress());
        }
        canonicalOfSorted(ctx, records, null, out, ags);
    }

    /** As {@link #canonical}, of {@code records} (sorted here) and {@code sortedToo} (in tree order already, or null) in one. */
    private static void canonical(ScrubContext ctx, XfArray records, XfArray sortedToo, XfArray out, Set<Integer> ags)
            throws Exception {
        records.sort(MappingRecord.ORDER, SortOptions.DEFAULT, ctx.progress());
        canonicalOfSorted(ctx, records, sortedToo, out, ags);
    }

    private static void canonicalOfSorted(ScrubContext ctx, XfArray records, XfArray sortedToo, XfArray out, Set<Integer> ags)
            throws Exception {
        MappingRecord last = new MappingRecord();
        boolean[] unordered = {false};
        List<Mappings> pending = new ArrayList<>(); // by owner and flags; few at a time, so searched in a line
        MappingRecord a = new MappingRecord();
        MappingRecord b = new MappingRecord();
        long i = a.loadNext(records, 0);
        long j = sortedToo == null ? -1 : b.loadNext(sortedToo, 0);
        while (i >= 0 || j >= 0) {
            // the lower of the two heads, in tree order; the other waits
            boolean fromA = j < 0 || (i >= 0 && a.compareTo(b) <= 0);
            MappingRecord r = fromA ? a : b;
            if (ags.contains(r.agno())) {
                add(r, pending, out, last, unordered); // copied: the head moves on below
            }
            if (fromA) {
                i = a.loadNext(records, i + 1);
            } else {
                j = b.loadNext(sortedToo, j + 1);
            }
        }
        for (Mappings m : pending) {
            m.flush();
        }
        if (unordered[0]) { // shared blocks: records of other owners were emitted while one was still growing
            out.sort(MappingRecord.ORDER, SortOptions.DEFAULT, ctx.progress());
        }
    }

    /** One record into the pending Mappings of its owner and flags; those it has moved past go out first. */
    private static void add(MappingRecord r, List<Mappings> pending, XfArray out, MappingRecord last, boolean[] unordered)
            throws Exception {
        int agno = r.agno();
        for (int k = 0; k < pending.size(); k++) { // those that end before this start can grow no more: out, in order
            if (!pending.get(k).reaches(agno, r.start())) {
                pending.remove(k--).flush();
            }
        }
        Mappings m = null;
        for (Mappings p : pending) {
            if (p.sameOwnerAs(r)) {
                m = p;
                break;
            }
        }
        if (m == null) {
            m = new Mappings(out, last, unordered);
            pending.add(m);
        }
        m.add(r);
    }

    private static void compare(XfArray want, XfArray have, Consumer<Finding> findings) throws Exception {
        MappingRecord e = new MappingRecord();
        MappingRecord r = new MappingRecord();
        long i = e.loadNext(want, 0);
        long j = r.loadNext(have, 0);
        Map<Integer, Integer> reported = new java.util.HashMap<>();
        while (i >= 0 || j >= 0) {
            int c = i < 0 ? 1 : j < 0 ? -1 : e.compareTo(r);
            if (c == 0) {
                i = e.loadNext(want, i + 1);
                j = r.loadNext(have, j + 1);
                continue;
            }
            MappingRecord side = c < 0 ? e : r;
            int agno = side.agno();
            if (reported.merge(agno, 1, Integer::sum) <= BnobtStrategy.MAX_PER_AG) {
                String where = Extents.range(side.start(), side.length());
                findings.accept(c < 0
                        ? new Finding("rmapbt", agno, where, "not in the rmapbt", "owned by " + e.mapping().describe())
                        : new Finding("rmapbt", agno, where, "mapped by the rmapbt to " + r.mapping().describe()
                                + ", which does not map them so", null));
            }
            if (c < 0) {
                i = e.loadNext(want, i + 1);
            } else {
                j = r.loadNext(have, j + 1);
            }
        }
    }

    /**
     * Rebuilds the rmapbt of each AG with findings into its own blocks (when its records fit them; otherwise nothing
     * is planned), with the AGF's rmap root and level.
     */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = Extents.agsOf(findings);
        if (ags == null) {
            return null;
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        try (XfArray staged = ctx.arrays().create("repair rmapbt records", MappingRecord.SIZE);
                XfArray merged = ctx.arrays().create("repair rmapbt records, merged", MappingRecord.SIZE)) {
            long inodes = stage(ctx, ags, new Mappings(staged), true);
            // the tree's own blocks, found even when its records or CRCs are damaged (then the walk has not staged them)
            Mappings ag = new Mappings(staged);
            MappingRecord own = new MappingRecord();
            long rmapbtOwner = SpaceUse.RMAPBT.owner().code();
            for (int agno : ags) {
                for (long b : ownBlocks(ctx, agno)) {
                    ag.add(own.set(agno, b, 1, rmapbtOwner, 0, false, false, false));
                }
            }
            ag.flush();
            canonical(ctx, staged, false, merged, ags);
            MappingRecord m = new MappingRecord();
            long cursor = m.loadNext(merged, 0);
            for (int agno : ags) {
                long first = cursor;
                long count = 0;
                for (; cursor >= 0 && m.agno() == agno; cursor = m.loadNext(merged, cursor + 1)) {
                    count++;
                }
                // the records go from the xfarray into the tree one by one: none is held on the heap
                // when the tree takes other blocks than it had, its records of its own blocks are wrong until the next
                // round of plans rebuilds it again on a view where its pointers reach them
                List<BlockImage> tree = Extents.intoOwnBlocks(ctx, agno, Btree.RMAP, count, Extents.mappings(merged, first, count));
                if (tree == null) {
                    return null;
                }
                blocks.addAll(tree);
                changes.add("AG " + agno + ": rmapbt rebuilt from the space map and the mappings of " + inodes + " inodes: "
                        + count + " records in " + (tree.size() - 1) + " block(s) (its own)");
            }
        }
        return new Plan("rmapbt", blocks, changes);
    }

    /** The tree's blocks found by its pointers; none when they lead astray (its new blocks are then all new). */
    private static long[] ownBlocks(ScrubContext ctx, int agno) throws Exception {
        try {
            return ctx.device().btreeBlocks(agno, BtreeType.RMAP);
        } catch (XfsFormatException e) {
            return new long[0];
        }
    }

    /** The order bmbt blocks of an inode are staged in: data fork first, then by place. */
    private static final Comparator<Placed> BMBT_ORDER = Comparator.<Placed, Boolean>comparing(p -> p.mapping().attrFork())
            .thenComparing(p -> p.mapping().unwritten()).thenComparingInt(Placed::agno)
            .thenComparingLong(p -> p.mapping().start());

    /** A reverse mapping with its AG. */
    private record Placed(int agno, ReverseMapping mapping) {
    }

    /**
     * Stages the reverse mappings of the AGs: metadata from the space map (without the rmapbt's own blocks if asked),
     * then every in-use inode's mappings (its bmbt blocks sorted first, so that adjacent ones merge). Returns the
     * number of inodes read.
     */
    private static long stage(ScrubContext ctx, Set<Integer> ags, Mappings out, boolean withoutRmapbt) throws Exception {
        return stage(ctx, ags, out, withoutRmapbt, true);
    }

    /** As above; without {@code withInodes}, the metadata only (the caller takes the inodes' side from the walk). */
    private static long stage(ScrubContext ctx, Set<Integer> ags, Mappings out, boolean withoutRmapbt, boolean withInodes)
            throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord used = new SpaceMapRecord();
        MappingRecord rec = new MappingRecord();
        for (long i = used.loadNext(space, 0); i >= 0; i = used.loadNext(space, i + 1)) {
            SpaceUse use = used.use();
            // file blocks come from the inodes below, with their offsets and flags
            if (!use.isFile() && ags.contains(used.agno()) && !(withoutRmapbt && use == SpaceUse.RMAPBT)) {
                out.add(rec.set(used.agno(), used.agbno(), used.length(), used.owner(), 0, false, false, false));
            }
        }
        out.flush();
        if (!withInodes) {
            return 0;
        }
        XfArray walked = ctx.observation(Observation.FILE_MAPPINGS);
        if (walked != null) {
            return staged(walked, ags, out);
        }
        XfArray inodes = ctx.observation(Observation.INODE_MAP);
        InodeMapRecord state = new InodeMapRecord();
        List<Placed> bmbt = new ArrayList<>();
        Exception[] failure = {null};
        long read = 0;
        for (long i = state.loadNext(inodes, 0); i >= 0; i = state.loadNext(inodes, i + 1)) {
            if (state.state() != InodeMapRecord.State.IN_USE) {
                continue; // free, or unreadable (a finding of its own)
            }
            long ino = state.ino();
            bmbt.clear();
            ctx.device().inodeMappings(ino, (agno, m) -> {
                if (!ags.contains(agno) || failure[0] != null) {
                    return;
                }
                if (m.bmbt()) {
                    bmbt.add(new Placed(agno, m));
                    return;
                }
                try {
                    out.add(rec.set(agno, m));
                } catch (Exception e) {
                    failure[0] = e;
                }
            });
            if (failure[0] != null) {
                throw failure[0];
            }
            inodeDone(bmbt, out, rec);
            read++;
        }
        return read;
    }

    /** An inode's bmbt blocks, sorted, after its extents (so that adjacent ones merge); then its records go out. */
    private static void inodeDone(List<Placed> bmbt, Mappings out, MappingRecord rec) throws Exception {
        bmbt.sort(BMBT_ORDER);
        for (Placed b : bmbt) {
            out.add(rec.set(b.agno(), b.mapping()));
        }
        out.flush();
    }

    /**
     * The inodes' mappings as the engine's walk staged them (Observation.FILE_MAPPINGS: one read of every inode for the
     * space map and these, sorted in tree order), for a repair's plan; a run of one owner's records stands for an
     * inode as {@link #stage} reads them from the device otherwise. Returns the number of such runs.
     */
    private static long staged(XfArray walked, Set<Integer> ags, Mappings out) throws Exception {
        MappingRecord r = new MappingRecord();
        MappingRecord rec = new MappingRecord();
        List<Placed> bmbt = new ArrayList<>();
        long owner = -1;
        long inodes = 0;
        for (long i = r.loadNext(walked, 0); i >= 0; i = r.loadNext(walked, i + 1)) {
            if (r.owner() != owner) {
                if (owner >= 0) {
                    inodeDone(bmbt, out, rec);
                    bmbt.clear();
                }
                owner = r.owner();
                inodes++;
            }
            if (!ags.contains(r.agno())) {
                continue;
            }
            if (r.bmbt()) {
                bmbt.add(new Placed(r.agno(), r.mapping()));
            } else {
                out.add(r);
            }
        }
        if (owner >= 0) {
            inodeDone(bmbt, out, rec);
        }
        return inodes;
    }

    /**
     * Reverse mappings merged as the kernel merges them (one owner, one set of flags, adjacent blocks, and for file
     * data adjacent offsets), appended as staged records.
     */
    private static final class Mappings {
        private final XfArray out;
        /** The record being merged into, while {@link #pending}. */
        private final MappingRecord rec = new MappingRecord();
        private boolean pending;
        /** Shared by the Mappings of one canonical pass: the last record appended, and whether one came out of order. */
        private final MappingRecord last;
        private final boolean[] unordered;

        Mappings(XfArray out) {
            this(out, null, null);
        }

        Mappings(XfArray out, MappingRecord last, boolean[] unordered) {
            this.out = out;
            this.last = last;
            this.unordered = unordered;
        }

        /** Merges {@code r} into the pending record, or flushes that and makes {@code r} the pending one. */
        void add(MappingRecord r) throws Exception {
            if (pending && r.agno() == rec.agno() && rec.sameOwnerAs(r) && rec.start() + rec.length() == r.start()
                    && (!fileData(r) || rec.offset() + rec.length() == r.offset())) {
                rec.set(rec.agno(), rec.start(), rec.length() + r.length(), rec.owner(), rec.offset(), rec.attrFork(), rec.bmbt(),
                        rec.unwritten());
                return;
            }
            flush();
            rec.copy(r);
            pending = true;
        }

        /** Whether the pending record has the owner, fork and flags of {@code r}. */
        boolean sameOwnerAs(MappingRecord r) {
            return pending && rec.sameOwnerAs(r);
        }

        /** Whether the pending record could still be extended by one that starts at {@code start} in AG {@code a}. */
        boolean reaches(int a, long start) {
            return pending && rec.agno() == a && rec.start() + rec.length() >= start;
        }

        void flush() throws Exception {
            if (pending) {
                rec.appendTo(out);
                pending = false;
                if (last != null) {
                    unordered[0] |= rec.compareTo(last) < 0; // (nothing sorts before the zero record)
                    last.copy(rec);
                }
            }
        }

        /**
         * Whether a file's data, whose adjacent mappings merge only when their offsets are adjacent too (as
         * {@link ReverseMapping#isFileData()}, without making one).
         */
        private static boolean fileData(MappingRecord r) {
            return r.owner() >= 0 && !r.bmbt();
        }
    }
}
