package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;

/**
 * rmapbt: the reverse-mapping btree must hold the records the kernel would keep. Expected: the space map's metadata
 * runs under rmap's special owners (headers FS, log LOG, AGFL and free-space and rmap btrees AG, inode btrees INOBT,
 * chunks INODES, refcount btree REFC, CoW staging COW), and every in-use inode's mappings from the device (file
 * offsets, fork, bmbt and unwritten flags). Both sides are staged, sorted in tree order and merged as the kernel
 * merges (one owner and set of flags, adjacent blocks, and for file data adjacent offsets), so that however a record
 * was split they compare equal; and then compared record for record: a wrong owner, length, offset or flag is found.
 * <p>
 * The rebuild sorts the expected records in an xfarray in tree order and bulk-loads them into the old tree's own
 * blocks, so that free space and the AG-owned runs stay as they are.
 */
@Component(property = RepairStrategy.STRUCTURE + "=rmapbt")
public class RmapbtStrategy implements RepairStrategy {
    private static final int BMBT = 2;
    /** Staged reverse mapping: (agno u32, start u32), owner u64, offset with fork and bmbt flags u64, length u32, flags u32. */
    private static final int MAPPING = 32;


    /** A free-space rebuild comes first: when it puts the AGFL right, the rmapbt's findings there are right too. */
    @Override
    public Set<String> after() {
        return Set.of("bnobt", "cntbt", "agfl");
    }

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP, Observation.INODE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().features().contains("rmapbt")) {
            return;
        }
        Set<Integer> ags = new TreeSet<>();
        try (XfArray expected = ctx.arrays().create("scrub expected reverse mappings", MAPPING);
                XfArray recorded = ctx.arrays().create("scrub rmapbt records", MAPPING);
                XfArray want = ctx.arrays().create("scrub expected reverse mappings, merged", MAPPING);
                XfArray have = ctx.arrays().create("scrub rmapbt records, merged", MAPPING)) {
            ByteBuffer rec = ByteBuffer.allocate(MAPPING);
            for (FsInfo.AgInfo ag : ctx.info().ags()) {
                int agno = ag.agno();
                Exception[] failure = {null};
                try {
                    ctx.device().walkBtree(agno, BtreeType.RMAP, x -> {
                        if (failure[0] == null) {
                            try {
                                Mappings.put(rec, agno, x[0], x[1], x[2], x[3], (int) x[4]);
                                recorded.append(rec);
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
            stage(ctx, ags, new Mappings(expected), false);
            canonical(ctx, expected, false, want, ags);
            canonical(ctx, recorded, true, have, ags); // as the walks read them; without those of a failed walk
            compare(want, have, findings);
        }
    }

    /** Tree order of staged mappings: (AG, start), owner, offset with the key flags; then length and flags. */
    private static final RecordComparator TREE_ORDER = RecordComparator.unsignedLongs(4);

    /**
     * Both sides in one form, whatever way the records were split: in tree order, each record merged with the
     * latest one of its owner and flags while they are adjacent (as the kernel merges), then in tree order again;
     * only the records of the AGs given. The records of one owner interleave with others' only where blocks are
     * shared, so the owners pending at a time are few.
     */
    private static void canonical(ScrubContext ctx, XfArray records, boolean inTreeOrder, XfArray out, Set<Integer> ags)
            throws Exception {
        if (!inTreeOrder) {
            records.sort(TREE_ORDER, SortOptions.DEFAULT, ctx.progress());
        }
        ByteBuffer last = ByteBuffer.allocate(MAPPING);
        boolean[] unordered = {false};
        List<Mappings> pending = new ArrayList<>(); // by owner and flags; few at a time, so searched in a line
        ByteBuffer r = ByteBuffer.allocate(MAPPING);
        for (long i = records.loadNext(0, r); i >= 0; i = records.loadNext(i + 1, r)) {
            int agno = r.getInt(0);
            if (!ags.contains(agno)) {
                continue;
            }
            long start = r.getInt(4) & 0xffffffffL;
            long owner = r.getLong(8);
            int flags = r.getInt(28);
            for (int k = 0; k < pending.size(); k++) { // those that end before this start can grow no more: out, in order
                if (!pending.get(k).reaches(agno, start)) {
                    pending.remove(k--).flush();
                }
            }
            Mappings m = null;
            for (Mappings p : pending) {
                if (p.owner == owner && p.flags == flags) {
                    m = p;
                    break;
                }
            }
            if (m == null) {
                m = new Mappings(out, last, unordered);
                pending.add(m);
            }
            m.add(agno, start, r.getInt(24) & 0xffffffffL, owner, r.getLong(16) & ~(7L << 61), flags);
        }
        for (Mappings m : pending) {
            m.flush();
        }
        if (unordered[0]) { // shared blocks: records of other owners were emitted while one was still growing
            out.sort(TREE_ORDER, SortOptions.DEFAULT, ctx.progress());
        }
    }

    private static void compare(XfArray want, XfArray have, Consumer<Finding> findings) throws Exception {
        ByteBuffer e = ByteBuffer.allocate(MAPPING);
        ByteBuffer r = ByteBuffer.allocate(MAPPING);
        long i = want.loadNext(0, e);
        long j = have.loadNext(0, r);
        Map<Integer, Integer> reported = new java.util.HashMap<>();
        while (i >= 0 || j >= 0) {
            int c = i < 0 ? 1 : j < 0 ? -1 : TREE_ORDER.compare(e, 0, r, 0);
            if (c == 0) {
                i = want.loadNext(i + 1, e);
                j = have.loadNext(j + 1, r);
                continue;
            }
            ByteBuffer side = c < 0 ? e : r;
            int agno = side.getInt(0);
            if (reported.merge(agno, 1, Integer::sum) <= BnobtStrategy.MAX_PER_AG) {
                String where = Extents.range(side.getInt(4) & 0xffffffffL, side.getInt(24) & 0xffffffffL);
                findings.accept(c < 0
                        ? new Finding("rmapbt", agno, where, "not in the rmapbt", "owned by " + describe(e))
                        : new Finding("rmapbt", agno, where, "mapped by the rmapbt to " + describe(r) + ", which does not map them so", null));
            }
            if (c < 0) {
                i = want.loadNext(i + 1, e);
            } else {
                j = have.loadNext(j + 1, r);
            }
        }
    }

    /** A staged mapping as an rmapbt record: start, length, owner, offset, flags (attribute fork, bmbt, unwritten). */
    private static long[] record(ByteBuffer m) {
        return new long[] {m.getInt(4) & 0xffffffffL, m.getInt(24) & 0xffffffffL, m.getLong(8), m.getLong(16) & ~(7L << 61),
            m.getInt(28)};
    }

    /** Owner, fork, offset and flags of a staged mapping, for a finding. */
    private static String describe(ByteBuffer m) {
        long owner = m.getLong(8);
        if (owner < 0) {
            return "owner " + owner;
        }
        int flags = m.getInt(28);
        return "inode " + owner + ((flags & 4) != 0 ? " (attribute fork)" : "")
                + ((flags & BMBT) != 0 ? " as bmbt block" : " at offset " + (m.getLong(16) & ~(7L << 61)))
                + ((flags & 1) != 0 ? ", unwritten" : "");
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
        try (XfArray staged = ctx.arrays().create("repair rmapbt records", MAPPING);
                XfArray merged = ctx.arrays().create("repair rmapbt records, merged", MAPPING)) {
            long inodes = stage(ctx, ags, new Mappings(staged), true);
            // the tree's own blocks, found even when its records or CRCs are damaged (then the walk has not staged them)
            Mappings ag = new Mappings(staged);
            for (int agno : ags) {
                for (long b : ctx.device().btreeBlocks(agno, BtreeType.RMAP)) {
                    ag.add(agno, b, 1, XfsDevice.RMAP_OWN_AG, 0, 0);
                }
            }
            ag.flush();
            canonical(ctx, staged, false, merged, ags);
            ByteBuffer m = ByteBuffer.allocate(MAPPING);
            long cursor = merged.loadNext(0, m);
            for (int agno : ags) {
                long first = cursor;
                long count = 0;
                for (; cursor >= 0 && m.getInt(0) == agno; cursor = merged.loadNext(cursor + 1, m)) {
                    count++;
                }
                // the records go from the xfarray into the tree one by one: none is held on the heap
                List<BlockImage> tree = Extents.intoOwnBlocks(ctx, agno, BtreeType.RMAP, count,
                        merged.iterator(first, count, RmapbtStrategy::record), "rmap");
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

    /**
     * Stages the reverse mappings of the AGs: metadata from the space map (without the rmapbt's own blocks if asked),
     * then every in-use inode's mappings (its
     * bmbt blocks sorted first, so that adjacent ones merge). Returns the number of inodes read.
     */
    private static long stage(ScrubContext ctx, Set<Integer> ags, Mappings out, boolean withoutRmapbt) throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        ByteBuffer used = ByteBuffer.allocate(24);
        long rmapbt = ScrubContext.OWNER_BTREE_BASE - BtreeType.RMAP.ordinal();
        for (long i = space.loadNext(0, used); i >= 0; i = space.loadNext(i + 1, used)) {
            long owner = used.getLong(16);
            if (owner < 0 && ags.contains(used.getInt(0)) && !(withoutRmapbt && owner == rmapbt)) {
                out.add(used.getInt(0), used.getInt(4) & 0xffffffffL, used.getInt(8) & 0xffffffffL, rmapOwner(owner), 0, 0);
            }
        }
        out.flush();
        XfArray inodes = ctx.observation(Observation.INODE_MAP);
        ByteBuffer state = ByteBuffer.allocate(16);
        List<long[]> bmbt = new ArrayList<>();
        Exception[] failure = {null};
        long read = 0;
        for (long i = inodes.loadNext(0, state); i >= 0; i = inodes.loadNext(i + 1, state)) {
            if (state.getLong(8) != 1) {
                continue; // free, or unreadable (a finding of its own)
            }
            long ino = state.getLong(0) - 1;
            bmbt.clear();
            ctx.device().inodeMappings(ino, (agno, agbno, length, offset, flags) -> {
                if (!ags.contains(agno) || failure[0] != null) {
                    return;
                }
                if ((flags & BMBT) != 0) {
                    bmbt.add(new long[] {flags, agno, agbno, length});
                    return;
                }
                try {
                    out.add(agno, agbno, length, ino, offset, flags);
                } catch (Exception e) {
                    failure[0] = e;
                }
            });
            if (failure[0] != null) {
                throw failure[0];
            }
            bmbt.sort(Comparator.<long[]>comparingLong(x -> x[0]).thenComparingLong(x -> x[1]).thenComparingLong(x -> x[2]));
            for (long[] b : bmbt) {
                out.add((int) b[1], b[2], b[3], ino, 0, (int) b[0]);
            }
            out.flush();
            read++;
        }
        return read;
    }

    /**
     * Reverse mappings merged as the kernel merges them (one owner, one set of flags, adjacent blocks, and for file
     * data adjacent offsets), appended as staged records.
     */
    private static final class Mappings {
        private final XfArray out;
        private final ByteBuffer rec = ByteBuffer.allocate(MAPPING);
        private int agno = -1;
        private long start;
        private long length;
        private long owner;
        private long offset;
        private int flags;
        /** Shared by the Mappings of one canonical pass: the last record appended, and whether one came out of order. */
        private final ByteBuffer last;
        private final boolean[] unordered;

        Mappings(XfArray out) {
            this(out, null, null);
        }

        Mappings(XfArray out, ByteBuffer last, boolean[] unordered) {
            this.out = out;
            this.last = last;
            this.unordered = unordered;
        }

        void add(int a, long s, long len, long own, long off, int fl) throws Exception {
            if (a == agno && own == owner && fl == flags && start + length == s
                    && (own < 0 || (fl & BMBT) != 0 || offset + length == off)) {
                length += len;
                return;
            }
            flush();
            agno = a;
            start = s;
            length = len;
            owner = own;
            offset = off;
            flags = fl;
        }

        /** Whether the pending record could still be extended by one that starts at {@code start} in AG {@code a}. */
        boolean reaches(int a, long start) {
            return agno == a && this.start + length >= start;
        }

        void flush() throws Exception {
            if (agno >= 0) {
                put(rec, agno, start, length, owner, offset, flags);
                out.append(rec);
                agno = -1;
                if (last != null) {
                    unordered[0] |= TREE_ORDER.compare(rec, 0, last, 0) < 0; // (nothing sorts before the zero record)
                    last.put(0, rec, 0, MAPPING);
                }
            }
        }

        /** One staged mapping, in tree order of its first three longs: (AG, start), owner, offset with the key flags. */
        static void put(ByteBuffer rec, int agno, long start, long length, long owner, long offset, int flags) {
            rec.clear();
            rec.putLong((long) agno << 32 | start).putLong(owner).putLong(offset | (long) (flags & 6) << 61)
                    .putInt((int) length).putInt(flags).flip();
        }
    }

    /** The rmap owner of a space map owner. */
    static long rmapOwner(long owner) {
        if (owner >= 0) {
            return owner;
        }
        if (owner == XfsDevice.OWNER_HEADERS) {
            return XfsDevice.RMAP_OWN_FS;
        }
        if (owner == XfsDevice.OWNER_LOG) {
            return XfsDevice.RMAP_OWN_LOG;
        }
        if (owner == XfsDevice.OWNER_AGFL) {
            return XfsDevice.RMAP_OWN_AG;
        }
        if (owner == ScrubContext.OWNER_INODES) {
            return XfsDevice.RMAP_OWN_INODES;
        }
        if (owner == ScrubContext.OWNER_COW) {
            return XfsDevice.RMAP_OWN_COW;
        }
        int tree = (int) (ScrubContext.OWNER_BTREE_BASE - owner);
        return switch (BtreeType.values()[tree]) {
            case BNO, CNT, RMAP -> XfsDevice.RMAP_OWN_AG;
            case INO, FINO -> XfsDevice.RMAP_OWN_INOBT;
            case REFCOUNT -> XfsDevice.RMAP_OWN_REFC;
        };
    }
}
