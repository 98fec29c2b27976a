package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/** agi: the AGI's inode count and free count against the inobt; the repair sets them to what the inobt holds. */
@Component(property = RepairStrategy.STRUCTURE + "=agi")
public class AgiStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    /** count and freecount of an AG, from its inobt. */
    static long[] counted(ScrubContext ctx, int agno) throws Exception {
        long[] sum = new long[2];
        ctx.device().walkBtree(agno, BtreeType.INO, r -> {
            sum[0] += r[2];
            sum[1] += r[3];
        });
        return sum;
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            long[] sum = counted(ctx, ag.agno());
            if (ag.inodes() != sum[0]) {
                findings.accept(new Finding("agi", ag.agno(), "agi_count", "says " + ag.inodes() + " inodes", String.valueOf(sum[0])));
            }
            if (ag.freeInodes() != sum[1]) {
                findings.accept(new Finding("agi", ag.agno(), "agi_freecount", "says " + ag.freeInodes() + " free inodes", String.valueOf(sum[1])));
            }
        }
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = new TreeSet<>();
        for (Finding f : findings) {
            if (f.agno() < 0) {
                return null;
            }
            ags.add(f.agno());
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (int agno : ags) {
            long[] sum = counted(ctx, agno);
            FsInfo.AgInfo ag = ctx.info().ags().get(agno);
            changes.add("AG " + agno + " agi_count: " + ag.inodes() + " -> " + sum[0] + ", agi_freecount: " + ag.freeInodes() + " -> " + sum[1]);
            blocks.add(ctx.device().updateHeader(HeaderKind.AGI, agno, Map.of("count", sum[0], "freecount", sum[1])));
        }
        return new Plan("agi", blocks, changes);
    }

    /** A rebuilt inode btree rewrites the AGI too; its counters are planned after it. */
    @Override
    public Set<String> after() {
        return Set.of("inobt", "finobt");
    }
}
