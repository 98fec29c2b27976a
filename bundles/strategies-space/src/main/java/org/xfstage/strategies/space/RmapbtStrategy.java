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
import org.xfstage.api.staging.XfArray;

/**
 * rmapbt: the reverse-mapping btree must map exactly the blocks of the space map, each to its owner. Both sides are
 * compared as runs of adjacent blocks with the same owner (rmap splits a file's runs at offset gaps and flags bmbt
 * blocks; the space map has neither, so runs are the common ground). Owners are translated to rmap's special
 * owners: headers FS, log LOG, AGFL and free-space and rmap btrees AG, inode btrees INOBT, chunks INODES,
 * refcount btree REFC.
 */
@Component(property = RepairStrategy.STRUCTURE + "=rmapbt")
public class RmapbtStrategy implements RepairStrategy {
    static final long OWN_FS = -3;
    static final long OWN_LOG = -4;
    static final long OWN_AG = -5;
    static final long OWN_INOBT = -6;
    static final long OWN_INODES = -7;
    static final long OWN_REFC = -8;

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP);
    }

    /** A run being built: [start, end) owned by owner. */
    private static final class Run {
        long start = -1;
        long end;
        long owner;

        /** Extends the run, or returns false when the extent starts a new one. */
        boolean extend(long s, long len, long o) {
            if (start >= 0 && s == end && o == owner) {
                end = s + len;
                return true;
            }
            return false;
        }

        void reset(long s, long len, long o) {
            start = s;
            end = s + len;
            owner = o;
        }
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
            // the rmap side, coalesced, staged as (start u32, length u32, owner u64) records
            try (XfArray rmap = ctx.arrays().create("scrub rmapbt of AG " + agno, 16)) {
                Run r = new Run();
                ByteBuffer rec = ByteBuffer.allocate(16);
                Exception[] failure = {null};
                ctx.device().walkBtree(agno, BtreeType.RMAP, x -> {
                    if (!r.extend(x[0], x[1], x[2])) {
                        if (r.start >= 0) {
                            append(rmap, rec, r, failure);
                        }
                        r.reset(x[0], x[1], x[2]);
                    }
                });
                if (r.start >= 0) {
                    append(rmap, rec, r, failure);
                }
                if (failure[0] != null) {
                    throw failure[0];
                }
                // the space map side, coalesced the same way, compared run by run
                ByteBuffer mapped = ByteBuffer.allocate(16);
                long m = rmap.loadNext(0, mapped);
                Run s = new Run();
                int reported = 0;
                while (true) {
                    boolean more = cursor >= 0 && used.getInt(0) == agno;
                    if (more && s.extend(used.getInt(4) & 0xffffffffL, used.getInt(8) & 0xffffffffL, rmapOwner(used.getLong(16)))) {
                        cursor = space.loadNext(cursor + 1, used);
                        continue;
                    }
                    if (s.start >= 0) {
                        boolean same = m >= 0 && (mapped.getInt(0) & 0xffffffffL) == s.start
                                && (mapped.getInt(4) & 0xffffffffL) == s.end - s.start && mapped.getLong(8) == s.owner;
                        if (!same && reported++ < BnobtStrategy.MAX_PER_AG) {
                            findings.accept(new Finding("rmapbt", agno, Extents.range(s.start, s.end - s.start),
                                    m < 0 ? "not in the rmapbt" : "rmapbt has " + Extents.range(mapped.getInt(0) & 0xffffffffL,
                                            mapped.getInt(4) & 0xffffffffL) + " owned by " + mapped.getLong(8),
                                    "owned by " + s.owner));
                        }
                        if (same || (m >= 0 && (mapped.getInt(0) & 0xffffffffL) <= s.start)) {
                            m = rmap.loadNext(m + 1, mapped);
                        }
                    }
                    if (!more) {
                        break;
                    }
                    s.reset(used.getInt(4) & 0xffffffffL, used.getInt(8) & 0xffffffffL, rmapOwner(used.getLong(16)));
                    cursor = space.loadNext(cursor + 1, used);
                }
                for (; m >= 0 && reported++ < BnobtStrategy.MAX_PER_AG; m = rmap.loadNext(m + 1, mapped)) {
                    findings.accept(new Finding("rmapbt", agno, Extents.range(mapped.getInt(0) & 0xffffffffL,
                            mapped.getInt(4) & 0xffffffffL), "mapped by the rmapbt but not in use", null));
                }
            }
        }
    }

    private static void append(XfArray rmap, ByteBuffer rec, Run r, Exception[] failure) {
        rec.clear();
        rec.putInt((int) r.start).putInt((int) (r.end - r.start)).putLong(r.owner).flip();
        try {
            rmap.append(rec);
        } catch (Exception e) {
            failure[0] = e;
        }
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
        int tree = (int) (ScrubContext.OWNER_BTREE_BASE - owner);
        return switch (BtreeType.values()[tree]) {
            case BNO, CNT, RMAP -> OWN_AG;
            case INO, FINO -> OWN_INOBT;
            case REFCOUNT -> OWN_REFC;
        };
    }
}
