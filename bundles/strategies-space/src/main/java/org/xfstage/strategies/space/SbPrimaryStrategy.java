package org.xfstage.strategies.space;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.SuperblockVerdict;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * sb-primary: the primary superblock must pass every check and agree with its copies. The device chose the
 * superblock as xfs_repair's phase 1 does (its copies vote on the geometry; a primary alone against all of them in a
 * field they share is outvoted too) and opened the filesystem on the agreed copy when the primary lost; this check
 * reports what it found wrong with the primary, and the plan writes the primary from that copy (xfs_repair's copy_sb:
 * the primary's inode numbers, version bits and counters kept). Counters a damaged primary lost are the sb-counters
 * strategy's, which plans after this one on the rewritten primary.
 */
@Component(property = RepairStrategy.STRUCTURE + "=sb-primary")
public class SbPrimaryStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        SuperblockVerdict v = ctx.device().superblockChoice();
        if (v.primaryTrusted()) {
            return;
        }
        String agreed = "as the copy in AG " + v.sourceAg() + " (" + v.agreeingCopies() + " of " + v.copies() + " copies agree)";
        for (String problem : v.primaryProblems()) {
            findings.accept(new Finding("sb-primary", 0, "primary superblock", problem, agreed));
        }
        for (SuperblockVerdict.Disagreement d : v.disagreements()) {
            findings.accept(new Finding("sb-primary", 0, d.field().toString(), "differs from the copies: " + d.primary(),
                    d.agreed() + " (" + d.copies() + " of " + v.copies() + " copies)"));
        }
        if (v.primaryProblems().isEmpty() && v.disagreements().isEmpty()) {
            findings.accept(new Finding("sb-primary", 0, "primary superblock", "outvoted by its copies", agreed));
        }
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        SuperblockVerdict v = ctx.device().superblockChoice();
        if (v.primaryTrusted()) {
            return null; // nothing agreed on against it: these findings are not the vote's
        }
        return new Plan("sb-primary", List.of(ctx.device().primarySuperblockFromAgreed()), List.of("primary superblock rewritten from the copy in AG "
                + v.sourceAg() + " (" + v.agreeingCopies() + " of " + v.copies() + " copies agree)"));
    }
}
