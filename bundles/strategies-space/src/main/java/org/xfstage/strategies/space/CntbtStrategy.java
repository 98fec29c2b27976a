package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;

/** cntbt: the free-space btree by size must hold exactly the extents of the bnobt. */
@Component(property = RepairStrategy.STRUCTURE + "=cntbt")
public class CntbtStrategy implements RepairStrategy {
    /** The staged (start u32, length u32) records as one unsigned long: by start, then length. */
    private static final RecordComparator BY_START = RecordComparator.unsignedLongs(1);

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        ByteBuffer x = ByteBuffer.allocate(8);
        ByteBuffer y = ByteBuffer.allocate(8);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            int reported = 0;
            try (XfArray bno = Extents.stage(ctx, agno, BtreeType.BNO, null);
                    XfArray cnt = Extents.stage(ctx, agno, BtreeType.CNT, null)) {
                cnt.sort(BY_START, SortOptions.SEQUENTIAL, Progress.NONE);
                long i = bno.loadNext(0, x);
                long j = cnt.loadNext(0, y);
                while ((i >= 0 || j >= 0) && reported < BnobtStrategy.MAX_PER_AG) {
                    int c = i < 0 ? 1 : j < 0 ? -1 : Long.compareUnsigned(x.getLong(0), y.getLong(0));
                    if (c == 0) {
                        i = bno.loadNext(i + 1, x);
                        j = cnt.loadNext(j + 1, y);
                        continue;
                    }
                    reported++;
                    if (c < 0) {
                        findings.accept(new Finding("cntbt", agno, Extents.range(Extents.start(x), Extents.length(x)),
                                "free extent of the bnobt is missing from the cntbt", null));
                        i = bno.loadNext(i + 1, x);
                    } else {
                        findings.accept(new Finding("cntbt", agno, Extents.range(Extents.start(y), Extents.length(y)),
                                "cntbt extent is not in the bnobt", null));
                        j = cnt.loadNext(j + 1, y);
                    }
                }
            }
        }
    }

    @Override
    public org.xfstage.api.repair.Plan plan(ScrubContext ctx, java.util.List<Finding> findings) throws Exception {
        return FreeSpaceRebuild.plan(ctx, findings, "cntbt");
    }

    @Override
    public Set<String> after() {
        return Set.of("bnobt");
    }
}
