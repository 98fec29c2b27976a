package org.xfstage.repair.internal;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.TreeWalkCheck;

/**
 * For tests: a strategy that does all that {@code real} does, for a test to override the one part it changes (its plan,
 * mostly: a plan that registers another strategy, writes its own damage, or makes the plan twice to compare).
 */
public class DelegatingStrategy implements RepairStrategy {
    protected final RepairStrategy real;

    public DelegatingStrategy(RepairStrategy real) {
        this.real = real;
    }

    @Override
    public Set<Observation> needs() {
        return real.needs();
    }

    @Override
    public Set<Observation> planNeeds() {
        return real.planNeeds();
    }

    @Override
    public TreeWalkCheck treeWalkCheck(ScrubContext ctx) throws Exception {
        return real.treeWalkCheck(ctx);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        real.check(ctx, findings);
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        return real.plan(ctx, findings);
    }

    @Override
    public Set<String> after() {
        return real.after();
    }
}
