package org.xfstage.strategies.space;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
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
        boolean reflink = ctx.info().has(Feature.REFLINK);
        SpaceMapRecord used = new SpaceMapRecord();
        StagedExtent free = StagedExtent.forFreeSpace();
        long cursor = used.loadNext(space, 0);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            int[] reported = {0};
            Consumer<Finding> limited = f -> {
                if (reported[0]++ < MAX_PER_AG) {
                    findings.accept(f);
                }
            };
            try (XfArray bno = Extents.stage(ctx, agno, Btree.BNO)) {
                long b = free.loadNext(bno, 0);
                long next = 0;
                SpaceUse lastUse = null;
                long lastOwner = 0;
                // walk the used extents of this AG in order; each gap between them is a free extent bnobt must hold
                while (true) {
                    boolean more = cursor >= 0 && used.agno() == agno;
                    long start = more ? used.agbno() : ag.length();
                    long len = more ? used.length() : 0;
                    SpaceUse use = more ? used.use() : null;
                    long owner = more ? used.owner() : 0;
                    if (more && start < next) { // (the end of the AG inside a used extent is not a second use)
                        boolean shared = reflink && use.isFile() && lastUse.isFile();
                        if (!shared && use != SpaceUse.AGFL && lastUse != SpaceUse.AGFL) {
                            limited.accept(new Finding("bnobt", agno, Extents.range(start, Math.min(len, next - start)),
                                    "used twice: by " + lastUse.describe(lastOwner) + " and by " + use.describe(owner), "one owner"));
                        }
                    } else if (start > next) {
                        // expected free extent [next, start)
                        if (b < 0 || free.start() != next || free.length() != start - next) {
                            limited.accept(new Finding("bnobt", agno, Extents.range(next, start - next),
                                    b < 0 ? "free space missing from the bnobt"
                                            : "bnobt record " + Extents.range(free.start(), free.length()) + " does not match",
                                    "free extent " + Extents.range(next, start - next)));
                            b = skipTo(bno, b, free, start);
                        } else {
                            b = free.loadNext(bno, b + 1);
                        }
                    }
                    if (start + len > next) {
                        next = start + len;
                        lastUse = use;
                        lastOwner = owner;
                    }
                    if (!more) {
                        break;
                    }
                    cursor = used.loadNext(space, cursor + 1);
                }
                for (; b >= 0; b = free.loadNext(bno, b + 1)) {
                    limited.accept(new Finding("bnobt", agno, Extents.range(free.start(), free.length()),
                            "bnobt lists blocks as free that are in use or past the AG", null));
                }
            }
            if (reported[0] > MAX_PER_AG) {
                findings.accept(new Finding("bnobt", agno, "AG " + agno, (reported[0] - MAX_PER_AG) + " more differences", null));
            }
        }
    }

    /** Moves past bnobt records that start before {@code end}. */
    private static long skipTo(XfArray bno, long b, StagedExtent free, long end) throws Exception {
        while (b >= 0 && free.start() < end) {
            b = free.loadNext(bno, b + 1);
        }
        return b;
    }

    /**
     * The inobt's repair comes first: free space is the complement of what the walk found, and a walk that followed a
     * damaged inobt (a lost record, a wrong holemask) missed inode chunks and the files in them; the inobt's rebuild
     * brings them back from the inodes and answers for those findings, so they must not be planned as free space.
     */
    @Override
    public Set<String> after() {
        return Set.of("inobt");
    }

    @Override
    public org.xfstage.api.repair.Plan plan(ScrubContext ctx, java.util.List<Finding> findings) throws Exception {
        return FreeSpaceRebuild.plan(ctx, findings, "bnobt");
    }
}
