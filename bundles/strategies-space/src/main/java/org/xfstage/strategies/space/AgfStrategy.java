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
import org.xfstage.api.staging.XfArray;

/** agf: the AGF counters (free blocks, longest free extent, btree blocks) against the free-space btrees. */
@Component(property = RepairStrategy.STRUCTURE + "=agf")
public class AgfStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        ByteBuffer r = ByteBuffer.allocate(8);
        boolean rmap = ctx.info().features().contains("rmapbt");
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            long[] bnoBlocks = new long[1];
            long[] cntBlocks = new long[1];
            long free = 0;
            long longest = 0;
            try (XfArray bno = Extents.stage(ctx, agno, BtreeType.BNO, bnoBlocks)) {
                for (long i = bno.loadNext(0, r); i >= 0; i = bno.loadNext(i + 1, r)) {
                    free += Extents.length(r);
                    longest = Math.max(longest, Extents.length(r));
                }
            }
            try (XfArray cnt = Extents.stage(ctx, agno, BtreeType.CNT, cntBlocks)) {
                // only its block count matters here; its records are the cntbt strategy's business
            }
            long rmapBlocks = rmap ? ctx.device().walkBtree(agno, BtreeType.RMAP, x -> { }) : 0;
            long btreeBlocks = bnoBlocks[0] - 1 + cntBlocks[0] - 1 + (rmap ? rmapBlocks - 1 : 0);
            if (ag.freeBlocks() != free) {
                findings.accept(new Finding("agf", agno, "agf_freeblks", "says " + ag.freeBlocks() + " free blocks", String.valueOf(free)));
            }
            if (ag.longest() != longest) {
                findings.accept(new Finding("agf", agno, "agf_longest", "says " + ag.longest(), String.valueOf(longest)));
            }
            if (ag.btreeBlocks() != btreeBlocks) {
                findings.accept(new Finding("agf", agno, "agf_btreeblks", "says " + ag.btreeBlocks(), String.valueOf(btreeBlocks)));
            }
        }
    }
}
