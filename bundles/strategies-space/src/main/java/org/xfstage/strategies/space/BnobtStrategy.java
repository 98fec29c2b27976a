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
 * bnobt: the free-space btree by block number must list exactly the complement of the space map (every block not
 * used by headers, AGFL, log, btrees, inode chunks or files), and no block may be used twice.
 */
@Component(property = RepairStrategy.STRUCTURE + "=bnobt")
public class BnobtStrategy implements RepairStrategy {
    /** Findings per AG before the rest are summarised: a trashed tree would otherwise list thousands. */
    static final int MAX_PER_AG = 20;

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        // with reflink, file blocks may be shared by several inodes: whether that sharing is right is the refcountbt
        // strategy's business, so two inode owners on one block are not reported here
        boolean reflink = ctx.info().features().contains("reflink");
        ByteBuffer used = ByteBuffer.allocate(24);
        ByteBuffer free = ByteBuffer.allocate(8);
        long cursor = space.loadNext(0, used);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            int[] reported = {0};
            Consumer<Finding> limited = f -> {
                if (reported[0]++ < MAX_PER_AG) {
                    findings.accept(f);
                }
            };
            try (XfArray bno = Extents.stage(ctx, agno, BtreeType.BNO, null)) {
                long b = bno.loadNext(0, free);
                long next = 0;
                long lastOwner = 0;
                // walk the used extents of this AG in order; each gap between them is a free extent bnobt must hold
                while (true) {
                    boolean more = cursor >= 0 && used.getInt(0) == agno;
                    long start = more ? used.getInt(4) & 0xffffffffL : ag.length();
                    long len = more ? used.getInt(8) & 0xffffffffL : 0;
                    long owner = more ? used.getLong(16) : 0;
                    if (start < next) {
                        boolean shared = reflink && owner >= 0 && lastOwner >= 0;
                        if (!shared && owner != XfsDevice.OWNER_AGFL && lastOwner != XfsDevice.OWNER_AGFL) {
                            limited.accept(new Finding("bnobt", agno, Extents.range(start, Math.min(len, next - start)),
                                    "used twice: by " + owner(lastOwner) + " and by " + owner(owner), "one owner"));
                        }
                    } else if (start > next) {
                        // expected free extent [next, start)
                        if (b < 0 || Extents.start(free) != next || Extents.length(free) != start - next) {
                            limited.accept(new Finding("bnobt", agno, Extents.range(next, start - next),
                                    b < 0 ? "free space missing from the bnobt"
                                            : "bnobt record " + Extents.range(Extents.start(free), Extents.length(free)) + " does not match",
                                    "free extent " + Extents.range(next, start - next)));
                            b = skipTo(bno, b, free, start);
                        } else {
                            b = bno.loadNext(b + 1, free);
                        }
                    }
                    if (start + len > next) {
                        next = start + len;
                        lastOwner = owner;
                    }
                    if (!more) {
                        break;
                    }
                    cursor = space.loadNext(cursor + 1, used);
                }
                for (; b >= 0; b = bno.loadNext(b + 1, free)) {
                    limited.accept(new Finding("bnobt", agno, Extents.range(Extents.start(free), Extents.length(free)),
                            "bnobt lists blocks as free that are in use or past the AG", null));
                }
            }
            if (reported[0] > MAX_PER_AG) {
                findings.accept(new Finding("bnobt", agno, "AG " + agno, (reported[0] - MAX_PER_AG) + " more differences", null));
            }
        }
    }

    /** Moves past bnobt records that start before {@code end}. */
    private static long skipTo(XfArray bno, long b, ByteBuffer free, long end) throws Exception {
        while (b >= 0 && Extents.start(free) < end) {
            b = bno.loadNext(b + 1, free);
        }
        return b;
    }

    static String owner(long owner) {
        if (owner >= 0) {
            return "inode " + owner;
        }
        if (owner <= ScrubContext.OWNER_BTREE_BASE) {
            return BtreeType.values()[(int) (ScrubContext.OWNER_BTREE_BASE - owner)].name().toLowerCase() + "bt";
        }
        if (owner == XfsDevice.OWNER_HEADERS) {
            return "AG headers";
        }
        if (owner == XfsDevice.OWNER_AGFL) {
            return "the AGFL";
        }
        if (owner == XfsDevice.OWNER_LOG) {
            return "the log";
        }
        if (owner == ScrubContext.OWNER_COW) {
            return "CoW staging";
        }
        return owner == ScrubContext.OWNER_INODES ? "inode chunks" : "owner " + owner;
    }

    @Override
    public org.xfstage.api.repair.Plan plan(ScrubContext ctx, java.util.List<Finding> findings) throws Exception {
        return FreeSpaceRebuild.plan(ctx, findings, "bnobt");
    }
}
