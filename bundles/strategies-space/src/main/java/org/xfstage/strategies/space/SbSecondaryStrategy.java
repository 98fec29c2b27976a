package org.xfstage.strategies.space;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * sb-secondary: every superblock copy must carry the primary's geometry, identity, features and label (xfs_repair
 * -n does not compare them all: a copy whose label or stripe unit differs passes it). They matter the day the
 * primary is lost and a copy is used to find the filesystem. The repair copies the primary's fields over.
 */
@Component(property = RepairStrategy.STRUCTURE + "=sb-secondary")
public class SbSecondaryStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        Map<HeaderField, Long> primary = ctx.device().superblockIdentity(0);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            if (ag.agno() == 0) {
                continue;
            }
            Map<HeaderField, Long> copy = ctx.device().superblockIdentity(ag.agno());
            primary.forEach((field, value) -> {
                if (!value.equals(copy.get(field))) {
                    findings.accept(new Finding("sb-secondary", ag.agno(), field.toString(), "differs from the primary: " + copy.get(field),
                            String.valueOf(value)));
                }
            });
        }
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = new TreeSet<>();
        findings.forEach(f -> ags.add(f.agno()));
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (int agno : ags) {
            if (agno <= 0) {
                return null;
            }
            blocks.add(ctx.device().secondarySuperblockFromPrimary(agno));
            changes.add("AG " + agno + " superblock copy: fields copied from the primary");
        }
        return new Plan("sb-secondary", blocks, changes);
    }
}
