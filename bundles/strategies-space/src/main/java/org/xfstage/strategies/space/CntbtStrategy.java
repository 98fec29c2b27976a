package org.xfstage.strategies.space;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;

/** cntbt: the free-space btree by size must hold exactly the extents of the bnobt. */
@Component(property = RepairStrategy.STRUCTURE + "=cntbt")
public class CntbtStrategy implements RepairStrategy {
    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        StagedExtent x = StagedExtent.forFreeSpace();
        StagedExtent y = StagedExtent.forFreeSpace();
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            int reported = 0;
            try (XfArray bno = Extents.stage(ctx, agno, Btree.BNO);
                    XfArray cnt = Extents.stage(ctx, agno, Btree.CNT)) {
                cnt.sort(StagedExtent.BY_START, SortOptions.SEQUENTIAL, Progress.NONE);
                long i = x.loadNext(bno, 0);
                long j = y.loadNext(cnt, 0);
                while ((i >= 0 || j >= 0) && reported < BnobtStrategy.MAX_PER_AG) {
                    int c = i < 0 ? 1 : j < 0 ? -1 : x.compareTo(y);
                    if (c == 0) {
                        i = x.loadNext(bno, i + 1);
                        j = y.loadNext(cnt, j + 1);
                        continue;
                    }
                    reported++;
                    if (c < 0) {
                        findings.accept(new Finding("cntbt", agno, Extents.range(x.start(), x.length()),
                                "free extent of the bnobt is missing from the cntbt", null));
                        i = x.loadNext(bno, i + 1);
                    } else {
                        findings.accept(new Finding("cntbt", agno, Extents.range(y.start(), y.length()),
                                "cntbt extent is not in the bnobt", null));
                        j = y.loadNext(cnt, j + 1);
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
