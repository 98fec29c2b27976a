package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;

/**
 * rmapbt: the reverse-mapping btree must map exactly the blocks of the space map, each to its owner. Both sides are
 * staged per AG as (owner, start, length), sorted by owner then block, and compared as runs of adjacent blocks of one
 * owner (rmap splits a file's runs at offset gaps and flags bmbt blocks; the space map has neither, so runs are the
 * common ground; and by owner, blocks several inodes share are one run per inode on both sides). Owners are
 * translated to rmap's special owners: headers FS, log LOG, AGFL and free-space and rmap btrees AG, inode btrees
 * INOBT, chunks INODES, refcount btree REFC, CoW staging COW.
 */
@Component(property = RepairStrategy.STRUCTURE + "=rmapbt")
public class RmapbtStrategy implements RepairStrategy {
    static final long OWN_FS = -3;
    static final long OWN_LOG = -4;
    static final long OWN_AG = -5;
    static final long OWN_INOBT = -6;
    static final long OWN_INODES = -7;
    static final long OWN_REFC = -8;
    static final long OWN_COW = -9;

    /** (owner u64, start u32, length u32): owner first, then block, unsigned as rmap keys compare. */
    private static final RecordComparator BY_OWNER = RecordComparator.unsignedLongs(2);

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().features().contains("rmapbt")) {
            return;
        }
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        ByteBuffer used = ByteBuffer.allocate(24);
        long cursor = space.loadNext(0, used);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            try (XfArray rmap = ctx.arrays().create("scrub rmapbt of AG " + agno, 16);
                    XfArray mapped = ctx.arrays().create("scrub space map of AG " + agno + " by owner", 16)) {
                ByteBuffer rec = ByteBuffer.allocate(16);
                Exception[] failure = {null};
                ctx.device().walkBtree(agno, BtreeType.RMAP, x -> {
                    if (failure[0] == null) {
                        try {
                            append(rmap, rec, x[2], x[0], x[1]);
                        } catch (Exception e) {
                            failure[0] = e;
                        }
                    }
                });
                if (failure[0] != null) {
                    throw failure[0];
                }
                for (; cursor >= 0 && used.getInt(0) == agno; cursor = space.loadNext(cursor + 1, used)) {
                    append(mapped, rec, rmapOwner(used.getLong(16)), used.getInt(4) & 0xffffffffL, used.getInt(8) & 0xffffffffL);
                }
                rmap.sort(BY_OWNER, SortOptions.DEFAULT, ctx.progress());
                mapped.sort(BY_OWNER, SortOptions.DEFAULT, ctx.progress());
                compare(agno, new Runs(mapped), new Runs(rmap), findings);
            }
        }
    }

    /** The runs of one owner's adjacent blocks in an array sorted by owner and block. */
    private static final class Runs {
        private final XfArray records;
        private final ByteBuffer rec = ByteBuffer.allocate(16);
        private long index;
        long owner;
        long start;
        long end;
        boolean present;

        Runs(XfArray records) throws Exception {
            this.records = records;
            index = records.loadNext(0, rec);
            next();
        }

        /** Moves to the next run. */
        void next() throws Exception {
            present = index >= 0;
            if (!present) {
                return;
            }
            owner = rec.getLong(0);
            start = rec.getInt(8) & 0xffffffffL;
            end = start + (rec.getInt(12) & 0xffffffffL);
            for (index = records.loadNext(index + 1, rec); index >= 0; index = records.loadNext(index + 1, rec)) {
                long s = rec.getInt(8) & 0xffffffffL;
                if (rec.getLong(0) != owner || s > end) {
                    break;
                }
                end = Math.max(end, s + (rec.getInt(12) & 0xffffffffL));
            }
        }

        /** Orders runs by owner (unsigned) then start. */
        int compareTo(Runs o) {
            int c = Long.compareUnsigned(owner, o.owner);
            return c != 0 ? c : Long.compare(start, o.start);
        }
    }

    private static void compare(int agno, Runs used, Runs rmap, Consumer<Finding> findings) throws Exception {
        int reported = 0;
        while ((used.present || rmap.present) && reported < BnobtStrategy.MAX_PER_AG) {
            if (used.present && rmap.present && used.owner == rmap.owner && used.start == rmap.start && used.end == rmap.end) {
                used.next();
                rmap.next();
                continue;
            }
            reported++;
            int c = !used.present ? 1 : !rmap.present ? -1 : used.compareTo(rmap);
            if (c <= 0) {
                String problem = c == 0 ? "rmapbt maps " + Extents.range(rmap.start, rmap.end - rmap.start) + " to owner " + owner(rmap.owner)
                        : "not in the rmapbt";
                findings.accept(new Finding("rmapbt", agno, Extents.range(used.start, used.end - used.start), problem,
                        "owned by " + owner(used.owner)));
                if (c == 0) {
                    rmap.next();
                }
                used.next();
            } else {
                findings.accept(new Finding("rmapbt", agno, Extents.range(rmap.start, rmap.end - rmap.start),
                        "mapped by the rmapbt to owner " + owner(rmap.owner) + ", which does not use it", null));
                rmap.next();
            }
        }
    }

    private static String owner(long rmapOwner) {
        return rmapOwner >= 0 ? "inode " + rmapOwner : String.valueOf(rmapOwner);
    }

    private static void append(XfArray a, ByteBuffer rec, long owner, long start, long length) throws Exception {
        rec.clear();
        rec.putLong(owner).putInt((int) start).putInt((int) length).flip();
        a.append(rec);
    }

    /** The rmap owner of a space map owner. */
    static long rmapOwner(long owner) {
        if (owner >= 0) {
            return owner;
        }
        if (owner == XfsDevice.OWNER_HEADERS) {
            return OWN_FS;
        }
        if (owner == XfsDevice.OWNER_LOG) {
            return OWN_LOG;
        }
        if (owner == XfsDevice.OWNER_AGFL) {
            return OWN_AG;
        }
        if (owner == ScrubContext.OWNER_INODES) {
            return OWN_INODES;
        }
        if (owner == ScrubContext.OWNER_COW) {
            return OWN_COW;
        }
        int tree = (int) (ScrubContext.OWNER_BTREE_BASE - owner);
        return switch (BtreeType.values()[tree]) {
            case BNO, CNT, RMAP -> OWN_AG;
            case INO, FINO -> OWN_INOBT;
            case REFCOUNT -> OWN_REFC;
        };
    }
}
