package org.xfstage.strategies.space;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.XfArray;

/** agfl: every block on the AGFL is listed once and used by nothing else; repaired with a free-space rebuild. */
@Component(property = RepairStrategy.STRUCTURE + "=agfl")
public class AgflStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord cur = new SpaceMapRecord();
        SpaceMapRecord prev = new SpaceMapRecord();
        boolean havePrev = false;
        for (long i = cur.loadNext(space, 0); i >= 0; i = cur.loadNext(space, i + 1)) {
            if (havePrev && prev.agno() == cur.agno()) {
                long start = cur.agbno();
                boolean agfl = prev.use() == SpaceUse.AGFL || cur.use() == SpaceUse.AGFL;
                if (agfl && start < prev.end()) {
                    SpaceMapRecord other = cur.use() == SpaceUse.AGFL ? prev : cur;
                    findings.accept(new Finding("agfl", cur.agno(), "block " + start,
                            "on the AGFL and also used by " + other.use().describe(other.owner()), "a block used by nothing else"));
                }
                if (cur.end() <= prev.end()) {
                    continue; // keep the extent that reaches further as the one to compare with
                }
            }
            SpaceMapRecord t = prev;
            prev = cur;
            cur = t;
            havePrev = true;
        }
    }

    /** The AGFL is rebuilt with the free-space btrees (kept where valid, refilled from free space). */
    @Override
    public org.xfstage.api.repair.Plan plan(ScrubContext ctx, java.util.List<Finding> findings) throws Exception {
        return FreeSpaceRebuild.plan(ctx, findings, "agfl");
    }
}
