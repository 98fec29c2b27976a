package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * The plans of a repair, made after its scrub's checks while the observations are still staged. The structures with
 * findings are taken in the order the strategies' {@code after()} make; each strategy is asked for a plan for the
 * findings no earlier plan covers, on a view of the image with the earlier plans in it, so that a block two plans
 * change holds both changes and the later image supersedes the earlier. Every planned block is decoded and verified;
 * a structure whose strategy cannot plan is unrepaired.
 * <p>
 * A repair plans in rounds: the first on the first scrub, each later one on the re-check's scrub of a view with every
 * plan so far in it ({@link Recheck}), for what that scrub still finds (the free-space btrees, the counters and the
 * rmapbt once a tree took blocks from the {@link Allocator} or gave some back). Within a round, an earlier plan's
 * {@code covers} stand for findings; across rounds they do not (a later round's findings are on the view). The
 * repair's blocks are the latest image of every block planned in any round.
 */
final class Planner {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private final String run;
    private final StrategyRunner runner;
    private final List<Plan> plans = new ArrayList<>();
    private final List<String> unrepaired = new ArrayList<>();
    private final Map<Long, BlockImage> planned = new LinkedHashMap<>(); // every block to write, by offset, the latest plan's image
    private final Allocator allocator = new Allocator();
    private int roundStart; // the first plan of this round: only its plans' covers stand for findings
    private Map<Long, BlockImage> atRoundStart = Map.of();
    private int round = 1;

    Planner(String run, StrategyRunner runner) {
        this.run = run;
        this.runner = runner;
    }

    /** Plans for {@code findings} with the strategies the scrub used, on its context. */
    void plan(Map<String, Registered> chosen, RunContext ctx, List<Finding> findings) throws RepairException, CancelledException {
        try {
            planAll(chosen, ctx, findings);
        } catch (RepairException | CancelledException e) {
            throw e;
        } catch (Exception e) {
            throw new RepairException("planning the repair failed: " + e, e);
        }
    }

    private void planAll(Map<String, Registered> chosen, RunContext ctx, List<Finding> findings) throws Exception {
        Map<String, List<Finding>> byStructure = new LinkedHashMap<>();
        for (Finding f : findings) {
            byStructure.computeIfAbsent(f.structure(), k -> new ArrayList<>()).add(f);
        }
        List<String> ordered = order(chosen, byStructure.keySet());
        PhaseProgress phases = ctx.progress() instanceof PhaseProgress pp ? pp : null;
        if (phases != null) {
            phases.phase("plan", ordered.size(), "structures");
        }
        for (String structure : ordered) {
            if (phases != null) {
                phases.step(1);
            }
            List<Finding> open = new ArrayList<>();
            for (Finding f : byStructure.get(structure)) {
                if (plans.subList(roundStart, plans.size()).stream().noneMatch(p -> p.covers().stream().anyMatch(c -> c.covers(f)))) {
                    open.add(f);
                }
            }
            if (open.isEmpty()) {
                continue; // an earlier plan puts these right (a rebuilt bnobt rewrites the cntbt and the AGF)
            }
            Registered r = chosen.get(structure);
            RunContext planCtx = ctx.planning(allocator, blocks());
            Plan p;
            try {
                p = r == null ? null : runner.run(r, "plan", () -> r.strategy().plan(planCtx, open));
            } catch (XfsFormatException e) {
                p = null; // what the plan must read is itself damaged: this strategy cannot repair it
                LOG.info("[{}] strategy '{}' cannot plan: {}", run, structure, e.getMessage());
            }
            List<String> allocated = allocator.takePlanChanges(); // blocks a plan that came to nothing took stay taken: harmless
            if (p == null) {
                if (!unrepaired.contains(structure)) {
                    unrepaired.add(structure);
                }
                continue;
            }
            if (!allocated.isEmpty() || round > 1) {
                List<String> changes = new ArrayList<>();
                if (round > 1) {
                    changes.add("(round " + round + ", on the re-check's view)");
                }
                changes.addAll(p.changes());
                changes.addAll(allocated);
                p = new Plan(p.structure(), p.blocks(), changes, p.covers());
            }
            verify(p, structure, r, planCtx);
            supersede(p, structure);
            plans.add(p);
            LOG.info("[{}] plan: {} writes {} block(s): {}", run, structure, p.blocks().size(), p.changes());
        }
    }

    private static void verify(Plan p, String structure, Registered r, RunContext planCtx) throws RepairException {
        for (BlockImage b : p.blocks()) {
            try {
                planCtx.device().verify(b);
            } catch (XfsException e) {
                throw new RepairException("the plan of strategy '" + structure + "' from " + r.bundle()
                        + " does not verify: " + e.getMessage() + "; nothing was written");
            }
        }
    }

    /** The later plan read the earlier's blocks through the view: its image of a block holds both changes. */
    private void supersede(Plan p, String structure) {
        for (BlockImage b : p.blocks()) {
            BlockImage earlier = planned.put(b.offset(), b);
            if (earlier != null) {
                LOG.info("[{}] plan: {} supersedes the earlier plan's {}", run, structure, earlier.what());
                for (int i = 0; i < plans.size(); i++) {
                    Plan q = plans.get(i);
                    List<BlockImage> others = q.blocks().stream().filter(x -> x.offset() != b.offset()).toList();
                    plans.set(i, new Plan(q.structure(), others, q.changes(), q.covers()));
                }
            }
        }
    }

    /** Starts another round of plans, for the findings of a scrub of the view with every plan so far in it. */
    void nextRound() {
        round++;
        allocator.laterRound();
        roundStart = plans.size();
        atRoundStart = new LinkedHashMap<>(planned);
    }

    /** How many structures have been left unplanned in all rounds so far. */
    int unrepairedSoFar() {
        return unrepaired.size();
    }

    /** The structures left unplanned after the first {@code n}. */
    List<String> unrepairedSince(int n) {
        return List.copyOf(unrepaired.subList(n, unrepaired.size()));
    }

    /** The round being planned: 1 on the first scrub. */
    int round() {
        return round;
    }

    /** Whether this round planned a block that is new or other than before it (else another round changes nothing). */
    boolean changedThisRound() {
        for (Map.Entry<Long, BlockImage> e : planned.entrySet()) {
            BlockImage before = atRoundStart.get(e.getKey());
            if (before == null || !java.util.Arrays.equals(before.bytes(), e.getValue().bytes())) {
                return true;
            }
        }
        return false;
    }

    /** The plans made, in the order they were made (a superseded block only in the latest). */
    List<Plan> plans() {
        return plans;
    }

    /** Every block to write, each once, as the latest plan has it. */
    List<BlockImage> blocks() {
        return new ArrayList<>(planned.values());
    }

    /** The structures of {@code found} no plan repairs: those no strategy could plan for, and those no plan was asked about. */
    List<String> unrepaired(List<Finding> found) {
        for (Finding f : found) {
            // findings no plan was asked about (a header that stopped the scrub before planning) are unrepaired too
            if (planOf(f).isEmpty() && !unrepaired.contains(f.structure())) {
                unrepaired.add(f.structure());
            }
        }
        return unrepaired;
    }

    /** The plan that repairs {@code f}: its structure's own, or one that covers it. */
    Optional<Plan> planOf(Finding f) {
        return plans.stream().filter(p -> p.puts(f)).findFirst();
    }

    /** Structures in an order where each comes after those its strategy names in after(). */
    private static List<String> order(Map<String, Registered> chosen, Collection<String> structures) throws RepairException {
        List<String> out = new ArrayList<>();
        Set<String> visiting = new HashSet<>();
        for (String s : new TreeSet<>(structures)) {
            visit(s, chosen, new HashSet<>(structures), visiting, out);
        }
        return out;
    }

    private static void visit(String s, Map<String, Registered> chosen, Set<String> wanted, Set<String> visiting,
            List<String> out) throws RepairException {
        if (out.contains(s)) {
            return;
        }
        if (!visiting.add(s)) {
            throw new RepairException("repair strategies depend on each other in a cycle through '" + s + "'");
        }
        Registered r = chosen.get(s);
        if (r != null) {
            for (String before : new TreeSet<>(r.strategy().after())) {
                if (wanted.contains(before)) {
                    visit(before, chosen, wanted, visiting, out);
                }
            }
        }
        visiting.remove(s);
        out.add(s);
    }
}
