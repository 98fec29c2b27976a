package org.xfstage.repair.internal;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

import org.xfstage.api.repair.RepairException;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * Runs a strategy's check or plan on a thread of its own, for at most strategyTimeoutSeconds: a strategy that hangs
 * stops the run with its name, and is interrupted (which its Progress reports as cancelled). Interrupting the caller
 * (Ctrl-C) interrupts the strategy too. Whatever the strategy throws reaches the caller as it was thrown.
 */
final class StrategyRunner {

    /** A strategy's code that may throw anything, as a Callable may. */
    interface StrategyCall<T> {
        T call() throws Exception;
    }

    private final LongSupplier limitSeconds;

    /** {@code limitSeconds} is read at each call: a configuration change applies to the next strategy. */
    StrategyRunner(LongSupplier limitSeconds) {
        this.limitSeconds = limitSeconds;
    }

    /** {@code what} completes "did not ... within": "finish its check", "plan". */
    <T> T run(Registered r, String what, StrategyCall<T> call) throws Exception {
        ExecutorService one = Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, "xfstage strategy " + r.structure());
            t.setDaemon(true);
            return t;
        });
        Future<T> f = one.submit(call::call);
        long limit = limitSeconds.getAsLong();
        try {
            return f.get(limit, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new RepairException("strategy '" + r.structure() + "' from " + r.bundle() + " did not " + what + " within "
                    + limit + " s (strategyTimeoutSeconds of " + RepairEngineImpl.PID + "); nothing was written");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancelledException("cancelled while strategy '" + r.structure() + "' ran");
        } finally {
            one.shutdownNow();
        }
    }
}
