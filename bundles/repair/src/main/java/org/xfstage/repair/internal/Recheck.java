package org.xfstage.repair.internal;

import java.nio.file.Path;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;

/**
 * The re-check of a repair's plans before anything is written: the scrub again, on a view of the image with the
 * planned blocks in it (a view of the open the repair holds). What the first scrub read and the plans leave as it was
 * is reused ({@link KeptWalk}, {@link PlannedSpace}): when no plan writes inode space (no block of an inode chunk or
 * of a file), only the metadata is walked again; when the plans write, besides, only directories' data blocks, the
 * metadata and the directory tree are, and every inode is not read again; a plan that writes anything else is
 * re-checked on a walk of everything. A plan that would leave damage is refused, by name, and nothing is written.
 */
final class Recheck implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private final Services services;
    private final String run;
    private final Path image;
    private final XfsDevice held;
    private final Progress progress;
    /** What the first scrub found in the inodes and the directory tree, kept for the re-check. */
    private final KeptWalk kept = new KeptWalk();
    /** The first scrub's checks' outcomes and what they read, which a re-check reuses where nothing of it changed. */
    private final KeptChecks checks = new KeptChecks(kept);

    /** {@code held}: the repair's open of the image, which the re-check reads views of. */
    Recheck(Services services, String run, Path image, XfsDevice held, Progress progress) {
        this.services = services;
        this.run = run;
        this.image = image;
        this.held = held;
        this.progress = progress;
    }

    /** Takes over the first scrub's observations (this closes them) while they are still staged. */
    void keep(FsInfo firstInfo, long maxExtentLength, Observations staged) {
        kept.keep(firstInfo, maxExtentLength, staged, held);
        checks.seal(); // the first scrub's checks have ended
    }

    /** Where the first scrub records its checks' outcomes (ScrubRun#keeping), for the re-checks to reuse. */
    KeptChecks checks() {
        return checks;
    }

    /**
     * The most rounds of plans a repair makes (the first on the first scrub, the others on re-checks of views): a tree
     * that takes or gives back blocks needs the free-space btrees, the counters and (after them, in the same round) the
     * rmapbt planned again in round 2; an rmapbt or free-space tree that changed size then moves free space once more
     * (round 3, seldom 4). The oracle's recipes settle in two; past six the plans do not settle and the repair is
     * refused, nothing written.
     */
    static final int MAX_ROUNDS = 6;

    /**
     * The scrub of the image as the planner's blocks would make it. While it finds damage, the strategies plan again
     * on that view for what it found (the planner's next round), and the view with those plans in it is scrubbed
     * again, for at most {@link #MAX_ROUNDS} rounds of plans in all; refused when damage is left that no round's plans
     * change, that no strategy plans for, or past the bound.
     */
    ScrubReport check(Planner planner) throws RepairException {
        while (true) {
            List<BlockImage> blocks = planner.blocks();
            boolean replan = planner.round() < MAX_ROUNDS;
            int unplanned = planner.unrepairedSoFar();
            ScrubRun.WhileStaged then = (chosen, ctx, findings, staged) -> {
                if (replan && !findings.isEmpty()) {
                    planner.nextRound();
                    planner.plan(chosen, ctx, findings);
                }
            };
            ScrubReport after = null;
            PlannedSpace.Reach reach = kept.reach(blocks);
            if (reach != PlannedSpace.Reach.INODES) {
                boolean treeAgain = reach == PlannedSpace.Reach.DIRECTORIES;
                after = ScrubRun.of(services, run, image, ScrubOptions.all(), progress).on(held).keeping(checks)
                        .scrubView(blocks, w -> kept.stage(w, treeAgain), then).orElse(null);
            }
            if (after == null) {
                after = ScrubRun.of(services, run, image, ScrubOptions.all(), progress).on(held).keeping(checks)
                        .scrubView(blocks, WholeWalk::stage, then).orElseThrow();
            }
            if (after.clean()) {
                return after;
            }
            Finding f = after.findings().get(0);
            String by = planner.planOf(f).map(p -> "the plan of strategy '" + p.structure() + "'")
                    .orElse("the plans of " + planner.plans().stream().map(p -> "'" + p.structure() + "'").distinct().toList());
            String left = by + " would leave " + f.structure() + " damaged (" + f.location() + ": " + f.problem() + ")";
            if (!replan) {
                throw new RepairException(left + " after " + MAX_ROUNDS + " rounds of plans (the most a repair makes); nothing was written");
            }
            if (planner.unrepairedSoFar() > unplanned) {
                throw new RepairException(left + ", and no strategy plans for " + planner.unrepairedSince(unplanned)
                        + " on the view; nothing was written");
            }
            if (!planner.changedThisRound()) {
                throw new RepairException(left + "; nothing was written");
            }
            LOG.info("[{}] re-check: {} finding(s) left, planned again (round {})", run, after.findings().size(), planner.round());
        }
    }

    @Override
    public void close() {
        kept.close();
    }
}
