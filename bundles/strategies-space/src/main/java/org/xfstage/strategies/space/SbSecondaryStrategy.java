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
import org.xfstage.api.device.SuperblockVerdict;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * sb-secondary: every superblock copy must pass the device's checks and carry the agreed geometry, identity,
 * features and label (xfs_repair -n does not compare them all: a copy whose label or stripe unit differs passes it).
 * They matter the day the primary is lost and a copy is used to find the filesystem. The agreed superblock is the
 * primary only when the device trusts it (it passes every check and its copies agree with it); otherwise it is the
 * copy the majority agrees on, and the primary is sb-primary's. So a damaged primary is never copied over the
 * copies: only the copies that disagree with the majority are rewritten, from the majority's values.
 */
@Component(property = RepairStrategy.STRUCTURE + "=sb-secondary")
public class SbSecondaryStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        SuperblockVerdict v = ctx.device().superblockChoice();
        Map<HeaderField, Long> agreed = ctx.device().agreedSuperblockIdentity();
        String against = v.primaryTrusted() ? "the primary" : "the agreed copies";
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            if (ag.agno() == 0) {
                continue;
            }
            String bad = v.badCopies().get(ag.agno());
            if (bad != null) {
                findings.accept(new Finding("sb-secondary", ag.agno(), "superblock copy", "fails verification: " + bad,
                        "written anew from " + against));
                continue;
            }
            Map<HeaderField, Long> copy = ctx.device().superblockIdentity(ag.agno());
            agreed.forEach((field, value) -> {
                if (!value.equals(copy.get(field))) {
                    findings.accept(new Finding("sb-secondary", ag.agno(), field.toString(), "differs from " + against + ": " + copy.get(field),
                            String.valueOf(value)));
                }
            });
        }
    }

    /** A primary that is rewritten goes first: the copies are then made from what it became. */
    @Override
    public Set<String> after() {
        return Set.of("sb-primary");
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        SuperblockVerdict v = ctx.device().superblockChoice();
        Set<Integer> ags = new TreeSet<>();
        findings.forEach(f -> ags.add(f.agno()));
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (int agno : ags) {
            if (agno <= 0) {
                return null;
            }
            // from the agreed superblock: the primary only when the device trusts it, never a primary that lost the vote
            blocks.add(ctx.device().secondarySuperblockFromAgreed(agno));
            String from = v.primaryTrusted() ? "the primary" : "the agreed copy in AG " + v.sourceAg();
            changes.add("AG " + agno + " superblock copy: " + (v.badCopies().containsKey(agno) ? "written anew from " : "fields copied from ")
                    + from);
        }
        return new Plan("sb-secondary", blocks, changes);
    }
}
