package org.xfstage.repair.internal;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * Runs a strategy's check or plan on a thread of its own (named "xfstage strategy STRUCTURE"), for at most
 * strategyTimeoutSeconds: a strategy that hangs or spins stops the run with its name. Stopping a strategy, when its
 * time is up or the caller is interrupted (Ctrl-C), first takes its staging away ({@link StrategyStaging}: the
 * xfarrays it made through its context are closed under it and it can make no more, so its next staging call fails),
 * then interrupts it (its Progress reports cancelled) and waits a bounded grace for its thread to end. A Java thread
 * cannot be killed: one that ignores all of this (a loop that touches nothing) keeps running; the run's message says
 * so and the log names the thread. Whatever the strategy throws reaches the caller as it was thrown.
 */
final class StrategyRunner {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    /**
     * How long a stopped strategy's thread is given to end: a strategy that fails on its closed staging or sees the
     * interrupt unwinds in far less; a run that is over should not wait for one that does neither.
     */
    static final long GRACE_MILLIS = 2_000;

    /** A strategy's code that may throw anything, as a Callable may. */
    interface StrategyCall<T> {
        T call() throws Exception;
    }

    private final LongSupplier limitSeconds;

    /** {@code limitSeconds} is read at each call: a configuration change applies to the next strategy. */
    StrategyRunner(LongSupplier limitSeconds) {
        this.limitSeconds = limitSeconds;
    }

    /** The name of the thread a strategy of {@code structure} runs on. */
    static String threadName(String structure) {
        return "xfstage strategy " + structure;
    }

    /** {@code what} completes "did not ... within": "finish its check", "plan". */
    <T> T run(Registered r, String what, StrategyCall<T> call) throws Exception {
        StrategyStaging.Scope staging = new StrategyStaging.Scope(r.structure());
        FutureTask<T> task = new FutureTask<>(() -> staging.run(call));
        Thread thread = new Thread(task, threadName(r.structure()));
        thread.setDaemon(true); // one that cannot be stopped must not keep the JVM from exiting
        thread.start();
        long limit = limitSeconds.getAsLong();
        try {
            return task.get(limit, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            String after = stop(thread, task, staging);
            throw new RepairException("strategy '" + r.structure() + "' from " + r.bundle() + " did not " + what + " within "
                    + limit + " s (strategyTimeoutSeconds of " + RepairEngineImpl.PID + "); " + after + "; nothing was written");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        } catch (InterruptedException e) {
            // the interrupt flag is clear now, so the grace wait is not cut short; it is set again below
            String after = stop(thread, task, staging);
            Thread.currentThread().interrupt();
            throw new CancelledException("cancelled while strategy '" + r.structure() + "' ran; " + after);
        }
    }

    /** Takes the strategy's staging away, interrupts it, waits the grace; says how that ended. */
    private static String stop(Thread thread, FutureTask<?> task, StrategyStaging.Scope staging) {
        staging.close();
        task.cancel(true);
        thread.interrupt();
        try {
            thread.join(GRACE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            return "it was stopped (its staging closed, its thread ended)";
        }
        LOG.warn("thread '{}' still runs {} ms after its strategy was stopped: it ignores interrupts and its staging is closed; a "
                + "Java thread cannot be killed, so it runs until the strategy returns or the JVM stops", thread.getName(), GRACE_MILLIS);
        return "its thread '" + thread.getName() + "' is still running (it ignores interrupts and a Java thread cannot be killed; "
                + "its staging was closed)";
    }
}
