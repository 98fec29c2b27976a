package org.xfstage.strategies.inodes;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/** agi: the AGI's inode count and free count against the inobt. */
@Component(property = RepairStrategy.STRUCTURE + "=agi")
public class AgiStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            long[] sum = new long[2];
            ctx.device().walkBtree(ag.agno(), BtreeType.INO, r -> {
                sum[0] += r[2];
                sum[1] += r[3];
            });
            if (ag.inodes() != sum[0]) {
                findings.accept(new Finding("agi", ag.agno(), "agi_count", "says " + ag.inodes() + " inodes", String.valueOf(sum[0])));
            }
            if (ag.freeInodes() != sum[1]) {
                findings.accept(new Finding("agi", ag.agno(), "agi_freecount", "says " + ag.freeInodes() + " free inodes", String.valueOf(sum[1])));
            }
        }
    }
}
