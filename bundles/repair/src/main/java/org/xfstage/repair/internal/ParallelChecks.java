package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.TreeWalkCheck;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * The checks of a scrub (step 5): each chosen strategy's check on a thread of its own under the runner's time limit
 * ({@link StrategyRunner}), up to {@code threads} of them at once (the engine's walkThreads: the checks read the same
 * staged arrays and the same device as the walk's threads did), their findings taken in the strategies' order, so that
 * the report is the same whatever the count. With one thread they run one after the other on the run's thread.
 * <p>
 * Checks that run together read the observations through readers of their own ({@link CheckReads}) and report
 * progress only as a count of checks done (their inner passes would interleave). A check that fails or hangs ends the
 * run in one line naming it, as the first to do so in the strategies' order: the checks still running are stopped (the
 * runner closes their staging and interrupts them) and waited for, a bounded grace, before the run closes the arrays
 * they read. A check that throws {@link XfsFormatException} found damage: that is a finding.
 */
final class ParallelChecks {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    /** One check as the run's thread prepared it: what the tree walk left for it. */
    private record Task(Registered r, Exception walkFailure, TreeWalkCheck walked, List<Finding> given) {
    }

    /** What one check ended with: its findings, or what it threw. */
    private record Outcome(List<Finding> found, Exception failure) {
    }

    private final Services services;
    private final String run;
    private final Map<String, Registered> chosen;
    private final int threads;

    ParallelChecks(Services services, String run, Map<String, Registered> chosen, int threads) {
        this.services = services;
        this.run = run;
        this.chosen = chosen;
        this.threads = Math.max(1, threads);
    }

    /** Every chosen strategy's check; findings appended to {@code findings} in the strategies' order. */
    void check(RunContext ctx, List<Finding> findings, PhaseProgress phases) throws RepairException, StagingException {
        phases.phase("checks", chosen.size(), "checks");
        Observations staged = ctx.staged();
        List<Task> tasks = new ArrayList<>();
        for (Registered r : chosen.values()) {
            Exception walkFailure = staged.walkFailure(r.structure()); // thrown in its check, as the check's own would be
            TreeWalkCheck walked = staged.walkCheck(r.structure());
            // a run that walked no tree: the first walk's check stands (RepairStrategy#treeWalkCheck)
            List<Finding> given = walked == null && walkFailure == null ? staged.walkFindings(r.structure()) : null;
            tasks.add(new Task(r, walkFailure, walked, given));
        }
        int n = (int) Math.min(threads, tasks.stream().filter(t -> t.given() == null).count());
        if (n <= 1) {
            for (Task t : tasks) {
                phases.step(1);
                take(t, t.given() != null ? new Outcome(t.given(), null) : one(t, ctx, phases), staged, findings);
            }
            return;
        }
        CheckReads reads = new CheckReads(ctx);
        // a check's inner passes (a sort's) would interleave with the others': it reports only whether the run is cancelled
        Progress quiet = new Progress() {
            @Override
            public void total(String phase, long units) {
            }

            @Override
            public void increment(long units) {
            }

            @Override
            public boolean isCancelled() {
                return phases.isCancelled();
            }
        };
        AtomicInteger made = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(n, task -> {
            Thread th = new Thread(task, "xfstage checks " + run + " " + made.incrementAndGet());
            th.setDaemon(true); // waits on a strategy's thread only; must not keep the JVM up
            return th;
        });
        try {
            List<Future<Outcome>> pending = new ArrayList<>();
            for (Task t : tasks) {
                pending.add(t.given() != null ? CompletableFuture.completedFuture(new Outcome(t.given(), null))
                        : pool.submit(() -> one(t, reads.contextFor(quiet), quiet)));
            }
            for (int i = 0; i < tasks.size(); i++) {
                phases.step(1);
                take(tasks.get(i), await(pending.get(i), pool), staged, findings);
            }
        } finally {
            stop(pool);
        }
    }

    /** One check under the runner; what it threw is its outcome, judged in order by {@link #take}. */
    private Outcome one(Task t, ScrubContext c, Progress progress) {
        Registered r = t.r();
        if (progress.isCancelled()) {
            return new Outcome(null, new CancelledException("scrub cancelled before " + r.structure()));
        }
        try {
            List<Finding> found = services.runner().run(r, "finish its check", () -> {
                List<Finding> out = new ArrayList<>();
                if (t.walkFailure() != null) {
                    throw t.walkFailure();
                }
                if (t.walked() != null) {
                    t.walked().finish(c, out::add);
                } else {
                    r.strategy().check(c, out::add);
                }
                return out;
            });
            return new Outcome(found, null);
        } catch (Exception e) {
            return new Outcome(null, e);
        }
    }

    /** Takes a check's outcome into the run, on the run's thread, in the strategies' order. */
    private static void take(Task t, Outcome o, Observations staged, List<Finding> findings) throws RepairException, StagingException {
        Registered r = t.r();
        if (o.failure() == null) {
            if (t.walked() != null) {
                staged.walkFindings(r.structure(), o.found()); // for a re-check that walks no tree
            }
            findings.addAll(o.found());
            return;
        }
        Exception e = o.failure();
        if (e instanceof StagingException s) { // CancelledException included
            throw s; // the run's own trouble (cancelled, staging gone or full), not the strategy's
        }
        if (e instanceof XfsFormatException) {
            // the structure the strategy reads is itself unreadable: that is damage found
            findings.add(new Finding(r.structure(), -1, "while checking", e.getMessage(), null));
            return;
        }
        throw new RepairException("strategy '" + r.structure() + "' from " + r.bundle() + " failed: " + e, e);
    }

    /** A check's outcome; the caller interrupted (Ctrl-C) stops every check under way and ends the run cancelled. */
    private static Outcome await(Future<Outcome> f, ExecutorService pool) throws CancelledException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            // the flag is clear now, so the wait for the stopped checks is not cut short; it is set again after
            stop(pool);
            Thread.currentThread().interrupt();
            throw new CancelledException("scrub cancelled while the checks ran");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            return new Outcome(null, e.getCause() instanceof Exception x ? x : e);
        }
    }

    /**
     * Stops the checks still under way (their threads interrupted: the runner closes their staging and stops each) and
     * waits for them, each runner waiting its grace at once, so that nothing reads the arrays the run then closes.
     */
    private static void stop(ExecutorService pool) {
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(StrategyRunner.GRACE_MILLIS + 1_000, TimeUnit.MILLISECONDS)) {
                LOG.warn("checks still waiting on their strategies {} ms after the run stopped them",
                        StrategyRunner.GRACE_MILLIS + 1_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
