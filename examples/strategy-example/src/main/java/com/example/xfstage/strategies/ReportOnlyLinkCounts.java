package com.example.xfstage.strategies;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * A site policy that outranks a built-in: link counts are checked as the built-in nlinks strategy checks them (it is
 * found as a service and asked), but never changed automatically: this strategy plans nothing, so a repair with
 * link-count damage reports "no strategy repairs nlinks" and writes nothing. Uninstall the bundle and the built-in
 * repairs them again.
 */
@Component(property = {RepairStrategy.STRUCTURE + "=nlinks", "service.ranking:Integer=100", ReportOnlyLinkCounts.POLICY + "=report-only"})
public class ReportOnlyLinkCounts implements RepairStrategy {
    static final String POLICY = "com.example.xfstage.policy";

    /** The strategy this one wraps: nlinks, not this one. */
    @Reference(target = "(&(" + RepairStrategy.STRUCTURE + "=nlinks)(!(" + POLICY + "=*)))")
    RepairStrategy checked;

    @Override
    public Set<Observation> needs() {
        return checked.needs();
    }

    @Override
    public void check(ScrubContext context, Consumer<Finding> findings) throws Exception {
        checked.check(context, findings);
    }

    @Override
    public Plan plan(ScrubContext context, List<Finding> findings) {
        return null; // report only: an operator decides
    }
}
