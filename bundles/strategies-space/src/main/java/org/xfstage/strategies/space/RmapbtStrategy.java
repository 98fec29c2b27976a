package org.xfstage.strategies.space;

import java.util.ArrayDeque;
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
import org.xfstage.api.staging.Appender;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;

/**
 * rmapbt: the reverse-mapping btree must hold the records the kernel would keep. Expected: the space map's metadata
 * runs under their owners (each {@link SpaceUse}'s {@link SpaceUse#owner()}: headers, log, AGFL and free-space and
 * rmap btrees, inode btrees, chunks, refcount btree, CoW staging), and every in-use inode's mappings from the device
 * (file offsets, fork, bmbt and unwritten flags). Both sides are read as {@link MappingRecord}s in tree order
 * (the rmapbt's as its walk stages them, the metadata's staged and sorted, the inodes' as the engine's walk staged and
 * sorted them) and merged as the kernel merges (one owner and set of flags, adjacent blocks, and for file data adjacent
 * offsets), so that however a record was split they compare equal; and then compared record for record: a wrong
 * owner, length, offset or flag is found. The merged sides are compared as they come out, not staged: only where
 * blocks are shared (reflink) can one come out of tree order, and then both are staged, sorted and compared again.
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
        return Set.of(Observation.SPACE_MAP, Observation.INODE_MAP, Observation.FILE_MAPPINGS, Observation.RMAPBT_RECORDS);
    }

    /** Records batched per store into the check's arrays (32 bytes each: 16 KiB). */
    private static final int BATCH = 512;

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().hasTree(BtreeType.RMAP)) {
            return;
        }
        Set<Integer> ags = new TreeSet<>();
        try (XfArray expected = ctx.arrays().create("scrub expected reverse mappings", MappingRecord.SIZE);
                XfArray recorded = ctx.arrays().create("scrub rmapbt records", MappingRecord.SIZE)) {
            MappingRecord rec = new MappingRecord();
            Appender batch = new Appender(recorded, BATCH);
            // the records the walk read (of the AGs whose tree it read whole); the other AGs' trees are walked here
            XfArray read = ctx.observation(Observation.RMAPBT_RECORDS);
            for (FsInfo.AgInfo ag : ctx.info().ags()) {
                int agno = ag.agno();
                if (read != null && firstOfAg(read, agno, rec) >= 0) {
                    ags.add(agno);
                    continue;
                }
                Exception[] failure = {null};
                try {
                    ctx.device().walkBtree(agno, Btree.RMAP, x -> {
                        if (failure[0] == null) {
                            try {
                                batch.add(rec.set(agno, x));
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
            batch.flush();
            // the inodes' side as the walk staged it, sorted by the engine: merged with the metadata, not copied
            XfArray walked = ctx.observation(Observation.FILE_MAPPINGS);
            ArraySink metadata = new ArraySink(expected);
            stage(ctx, ags, new Mappings(metadata), false, walked == null);
            metadata.flush();
            expected.sort(MappingRecord.ORDER, OWN_SORT, ctx.progress());
            // both sides merged as they are read and compared as they come out: nothing more is staged, unless a side
            // comes out of tree order (blocks shared by several owners), when both are staged, sorted and compared again
            List<Finding> found = new ArrayList<>();
            AgSet in = new AgSet(ags);
            Canonical want = new Canonical(expected, walked, in);
            Canonical have = new Canonical(recorded, read, in); // as the walks read them; without those of a failed walk
            if (compare(want, have, found::add)) {
                found.forEach(findings);
                return;
            }
            try (XfArray wantStaged = ctx.arrays().create("scrub expected reverse mappings, merged", MappingRecord.SIZE);
                    XfArray haveStaged = ctx.arrays().create("scrub rmapbt records, merged", MappingRecord.SIZE)) {
                canonical(ctx, new Canonical(expected, walked, in), wantStaged);
                canonical(ctx, new Canonical(recorded, read, in), haveStaged);
                compare(new Sorted(wantStaged), new Sorted(haveStaged), findings);
            }
        }
    }

    /**
     * The index of the first record of AG {@code agno} in {@code records} (in tree order, no null records), loaded into
     * {@code rec}; -1 when it holds none. A binary search: the AGs' records follow one another.
     */
    static long firstOfAg(XfArray records, int agno, MappingRecord rec) throws Exception {
        long lo = 0;
        long hi = records.length();
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (rec.load(records, mid).agno() < agno) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < records.length() && rec.load(records, lo).agno() == agno ? lo : -1;
    }

    /** The check's and the plan's own sorts: their arrays are dropped when a sort does not finish. */
    private static final SortOptions OWN_SORT = SortOptions.DEFAULT.consumingInput();

    /** Records one at a time, in tree order (unless {@link #unordered}). */
    private interface Source {
        /** The next record, valid until the next call; null at the end. */
        MappingRecord next() throws Exception;

        /** Whether a record came out below one before it. */
        default boolean unordered() {
            return false;
        }
    }

    /** A sorted array's records. */
    private static final class Sorted implements Source {
        private final XfArray array;
        private final MappingRecord rec = new MappingRecord();
        private long i;

        Sorted(XfArray array) {
            this.array = array;
        }

        @Override
        public MappingRecord next() throws Exception {
            if (i < 0) {
                return null;
            }
            i = rec.loadNext(array, i);
            if (i < 0) {
                return null;
            }
            i++;
            return rec;
        }
    }

    /** Drains {@code records} into {@code out}, then sorts {@code out} if they came out of tree order. */
    private static void canonical(ScrubContext ctx, Canonical records, XfArray out) throws Exception {
        Appender batch = new Appender(out, BATCH);
        for (MappingRecord r = records.next(); r != null; r = records.next()) {
            batch.add(r);
        }
        batch.flush();
        if (records.unordered()) { // shared blocks: records of other owners were emitted while one was still growing
            out.sort(MappingRecord.ORDER, OWN_SORT, ctx.progress());
        }
    }

    /**
     * Both sides in one form, whatever way the records were split: the records of one array (and of a second one, in
     * tree order too, or null) read in tree order, each merged with the latest one of its owner and flags while they
     * are adjacent (as the kernel merges), and given out as each can grow no more; only the records of the AGs given.
     * The records of one owner interleave with others' only where blocks are shared, so the owners pending at a time
     * are few, and only then can a record come out below one given out before it ({@link #unordered}).
     */
    private static final class Canonical implements Source {
        private final XfArray a;
        private final XfArray b;
        private final AgSet ags;
        private final MappingRecord headA = new MappingRecord();
        private final MappingRecord headB = new MappingRecord();
        private long i;
        private long j;
        private final List<Mappings> pending = new ArrayList<>(); // by owner and flags; few at a time, so searched in a line
        /** Records merged and given out by their Mappings, not yet taken by {@link #next}; and spare ones for reuse. */
        private final ArrayDeque<MappingRecord> ready = new ArrayDeque<>();
        private final ArrayDeque<MappingRecord> spare = new ArrayDeque<>();
        private final Sink queue = r -> {
            MappingRecord copy = spare.isEmpty() ? new MappingRecord() : spare.pop();
            ready.add(copy.copy(r));
        };
        /** Mappings no longer pending, for reuse: most records start a run of their own, so one is needed per record. */
        private final ArrayDeque<Mappings> idle = new ArrayDeque<>();
        /** The record given out last (its copy goes back to {@link #spare} on the next call). */
        private MappingRecord current;
        private boolean unordered;

        Canonical(XfArray a, XfArray b, AgSet ags) throws Exception {
            this.a = a;
            this.b = b;
            this.ags = ags;
            i = headA.loadNext(a, 0);
            j = b == null ? -1 : headB.loadNext(b, 0);
        }

        @Override
        public MappingRecord next() throws Exception {
            while (ready.isEmpty()) {
                if (i < 0 && j < 0) {
                    if (pending.isEmpty()) {
                        return null;
                    }
                    for (Mappings m : pending) {
                        m.flush();
                        idle.push(m);
                    }
                    pending.clear();
                    continue;
                }
                // the lower of the two heads, in tree order; the other waits
                boolean fromA = j < 0 || (i >= 0 && headA.compareTo(headB) <= 0);
                MappingRecord r = fromA ? headA : headB;
                if (ags.contains(r.agno())) {
                    add(r); // copied: the head moves on below
                }
                if (fromA) {
                    i = headA.loadNext(a, i + 1);
                } else {
                    j = headB.loadNext(b, j + 1);
                }
            }
            MappingRecord out = ready.poll();
            if (current != null) {
                unordered |= out.compareTo(current) < 0;
                spare.push(current);
            }
            current = out;
            return out;
        }

        @Override
        public boolean unordered() {
            return unordered;
        }

        /** One record into the pending Mappings of its owner and flags; those it has moved past go out first. */
        private void add(MappingRecord r) throws Exception {
            int agno = r.agno();
            for (int k = 0; k < pending.size(); k++) { // those that end before this start can grow no more: out, in order
                Mappings p = pending.get(k);
                if (!p.reaches(agno, r.start())) {
                    pending.remove(k--);
                    p.flush();
                    idle.push(p);
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
                m = idle.isEmpty() ? new Mappings(queue) : idle.pop();
                pending.add(m);
            }
            m.add(r);
        }
    }

    /**
     * Compares the two sides record for record, both in tree order; false (with findings given to {@code findings}
     * perhaps, to be thrown away) as soon as a side comes out of tree order.
     */
    private static boolean compare(Source want, Source have, Consumer<Finding> findings) throws Exception {
        MappingRecord e = want.next();
        MappingRecord r = have.next();
        Map<Integer, Integer> reported = new java.util.HashMap<>();
        while (e != null || r != null) {
            if (want.unordered() || have.unordered()) {
                return false;
            }
            int c = e == null ? 1 : r == null ? -1 : e.compareTo(r);
            if (c == 0) {
                e = want.next();
                r = have.next();
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
                e = want.next();
            } else {
                r = have.next();
            }
        }
        return !want.unordered() && !have.unordered();
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
            ArraySink sink = new ArraySink(staged);
            long inodes = stage(ctx, ags, new Mappings(sink), true);
            // the tree's own blocks, found even when its records or CRCs are damaged (then the walk has not staged them)
            Mappings ag = new Mappings(sink);
            MappingRecord own = new MappingRecord();
            long rmapbtOwner = SpaceUse.RMAPBT.owner().code();
            for (int agno : ags) {
                for (long b : ownBlocks(ctx, agno)) {
                    ag.add(own.set(agno, b, 1, rmapbtOwner, 0, false, false, false));
                }
            }
            ag.flush();
            sink.flush();
            staged.sort(MappingRecord.ORDER, OWN_SORT, ctx.progress());
            canonical(ctx, new Canonical(staged, null, new AgSet(ags)), merged);
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

    /** AG numbers as a bitmap: asked once per record, where a set of boxed numbers costs a search each time. */
    private static final class AgSet {
        private final java.util.BitSet bits = new java.util.BitSet();

        AgSet(Set<Integer> ags) {
            ags.forEach(bits::set);
        }

        boolean contains(int agno) {
            return agno >= 0 && bits.get(agno);
        }
    }

    /** Where merged records go: each is copied before the call returns (the record passed in is reused). */
    private interface Sink {
        void put(MappingRecord r) throws Exception;
    }

    /** Records appended to an array in batches: in it after {@link #flush}. */
    private static final class ArraySink implements Sink {
        private final Appender batch;

        ArraySink(XfArray out) {
            batch = new Appender(out, BATCH);
        }

        @Override
        public void put(MappingRecord r) throws Exception {
            batch.add(r);
        }

        void flush() throws Exception {
            batch.flush();
        }
    }

    /**
     * Reverse mappings merged as the kernel merges them (one owner, one set of flags, adjacent blocks, and for file
     * data adjacent offsets), given to a sink.
     */
    private static final class Mappings {
        private final Sink out;
        /** The record being merged into, while {@link #pending}. */
        private final MappingRecord rec = new MappingRecord();
        private boolean pending;

        Mappings(Sink out) {
            this.out = out;
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
                out.put(rec);
                pending = false;
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
