package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
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
        ByteBuffer cur = ByteBuffer.allocate(24);
        ByteBuffer prev = ByteBuffer.allocate(24);
        boolean havePrev = false;
        for (long i = space.loadNext(0, cur); i >= 0; i = space.loadNext(i + 1, cur)) {
            if (havePrev && prev.getInt(0) == cur.getInt(0)) {
                long prevEnd = (prev.getInt(4) & 0xffffffffL) + (prev.getInt(8) & 0xffffffffL);
                long start = cur.getInt(4) & 0xffffffffL;
                boolean agfl = prev.getLong(16) == XfsDevice.OWNER_AGFL || cur.getLong(16) == XfsDevice.OWNER_AGFL;
                if (agfl && start < prevEnd) {
                    findings.accept(new Finding("agfl", cur.getInt(0), "block " + start,
                            "on the AGFL and also used by " + BnobtStrategy.owner(
                                    cur.getLong(16) == XfsDevice.OWNER_AGFL ? prev.getLong(16) : cur.getLong(16)),
                            "a block used by nothing else"));
                }
                if (start + (cur.getInt(8) & 0xffffffffL) <= prevEnd) {
                    continue; // keep the extent that reaches further as the one to compare with
                }
            }
            ByteBuffer t = prev;
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
