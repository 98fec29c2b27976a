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
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.XfsException;
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

    /**
     * One check as the run's thread prepared it: what the tree walk left for it; in a repair's first scrub, its
     * recording ({@code rec}); in a re-check, the first scrub's outcome when it stands ({@code reused}, KeptChecks).
     */
    private record Task(Registered r, Exception walkFailure, TreeWalkCheck walked, List<Finding> given,
            KeptChecks.Recording rec, Outcome reused) {
        /** Whether the check need not run: its outcome is had already. */
        boolean had() {
            return given != null || reused != null;
        }

        Outcome outcome() {
            return reused != null ? reused : new Outcome(given, null);
        }
    }

    /** What one check ended with: its findings, or what it threw. */
    private record Outcome(List<Finding> found, Exception failure) {
    }

    private final Services services;
    private final String run;
    private final Map<String, Registered> chosen;
    private final int threads;
    /** A repair's first outcomes: recorded while it is not sealed, then reused by the re-checks; null: neither. */
    private KeptChecks kept;
    /** The blocks the view of a re-check holds. */
    private List<BlockImage> planned = List.of();
    /** This re-check's reuse of the first outcomes; null in a first scrub or a scrub of no repair. */
    private KeptChecks.Round round;

    ParallelChecks(Services services, String run, Map<String, Registered> chosen, int threads) {
        this.services = services;
        this.run = run;
        this.chosen = chosen;
        this.threads = Math.max(1, threads);
    }

    /**
     * A repair's checks: the first scrub's recorded in {@code k} (until it is sealed), a re-check's of a view with
     * {@code blocks} planned reusing those that stand.
     */
    ParallelChecks keeping(KeptChecks k, List<BlockImage> blocks) {
        kept = k;
        planned = List.copyOf(blocks);
        return this;
    }

    /** The re-check's reuse, after {@link #check}; null when this was no re-check of a repair. */
    KeptChecks.Round round() {
        return round;
    }

    /** Every chosen strategy's check; findings appended to {@code findings} in the strategies' order. */
    void check(RunContext ctx, List<Finding> findings, PhaseProgress phases) throws RepairException, StagingException {
        phases.phase("checks", chosen.size(), "checks");
        Observations staged = ctx.staged();
        List<Task> tasks = new ArrayList<>();
        round = kept != null && kept.sealed() ? kept.round(planned) : null;
        for (Registered r : chosen.values()) {
            Exception walkFailure = staged.walkFailure(r.structure()); // thrown in its check, as the check's own would be
            TreeWalkCheck walked = staged.walkCheck(r.structure());
            // a run that walked no tree: the first walk's check stands (RepairStrategy#treeWalkCheck)
            List<Finding> given = walked == null && walkFailure == null ? staged.walkFindings(r.structure()) : null;
            KeptChecks.Recording rec = null;
            Outcome reused = null;
            if (walked == null && walkFailure == null && given == null && kept != null) {
                try {
                    rec = kept.recording(r, ctx);
                } catch (XfsException e) {
                    rec = null; // a view that cannot be made: the check runs as it would, and is never reused
                }
                KeptChecks.Reused first = round == null ? null : round.standing(r, ctx);
                reused = first == null ? null : new Outcome(first.found(), first.failure());
            }
            tasks.add(new Task(r, walkFailure, walked, given, rec, reused));
        }
        int n = (int) Math.min(threads, tasks.stream().filter(t -> !t.had()).count());
        if (n <= 1) {
            for (Task t : tasks) {
                phases.step(1);
                take(t, t.had() ? t.outcome() : one(t, ctx, phases), staged, findings);
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
                pending.add(t.had() ? CompletableFuture.completedFuture(t.outcome())
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
    private Outcome one(Task t, ScrubContext given, Progress progress) {
        Registered r = t.r();
        ScrubContext c = t.rec() == null ? given : t.rec().over(given); // a repair's first scrub: its reads recorded
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
    private void take(Task t, Outcome o, Observations staged, List<Finding> findings) throws RepairException, StagingException {
        Registered r = t.r();
        if (t.rec() != null && (o.failure() == null || o.failure() instanceof XfsFormatException)) {
            kept.recorded(t.rec(), o.found(), o.failure()); // an outcome the run goes on with: a re-check may reuse it
        }
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
