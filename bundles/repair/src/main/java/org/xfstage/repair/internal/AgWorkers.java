package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;

/**
 * The AGs of a walk handed to worker threads, as xfs_repair's phases hand AGs to its threads (ag_stride) with a bounded
 * prefetch: each worker takes the next AG not yet taken, but never more than {@code 2 * threads - 1} AGs past the one the
 * calling thread is merging, so that the AGs read ahead, and what they buffer, stay bounded.
 * <p>
 * The calling thread merges the AGs in AG order, so that what the walk stages, its findings and its progress are
 * exactly those of a walk of one AG after another: the AG being merged is told to write straight into the run's
 * arrays ({@link Stage#goDirect}); an AG that finished before its turn is appended from its buffer
 * ({@link Stage#merge}). Progress and cancellation stay on the calling thread, whose interruption is how a run is
 * cancelled (Progress#isCancelled reads the thread that asks).
 */
final class AgWorkers {
    /** AGs a worker may walk ahead of the merge, per thread: enough that a worker rarely waits for a slow AG. */
    private static final int AHEAD_PER_THREAD = 2;
    /** How often the merging thread looks for cancellation while it waits for an AG. */
    private static final long POLL_MILLIS = 50;
    /** How long a stopped walk waits for its workers to end their AG (they look at {@link #stopped} per inode chunk). */
    private static final long JOIN_GRACE_MILLIS = 10_000;

    /** One AG's walk: made and walked on a worker, merged on the calling thread. */
    interface Stage {
        /** Walks the AG (on a worker thread). */
        void walk() throws StagingException;

        /** From its next record on, this AG writes straight into the run's arrays: every AG before it is merged. */
        void goDirect();

        /** After {@link #walk}: what it buffered appended to the run's arrays, its findings and counts to the walk's. */
        void merge() throws StagingException;

        /** What it buffered given back, unmerged (the walk failed or was stopped). */
        void discard();
    }

    private final int threads;
    private final Progress progress;
    private final Object lock = new Object();
    private volatile boolean stopped;
    // guarded by lock
    private int head;
    private int next;
    private Stage[] stages;
    private boolean[] done;
    private Throwable[] failures;

    AgWorkers(int threads, Progress progress) {
        this.threads = threads;
        this.progress = progress;
    }

    /** Whether the walk was stopped (cancelled or failed): a worker's stage ends its AG early, its work is dropped. */
    boolean stopped() {
        return stopped;
    }

    /** Walks AGs 0 .. {@code agCount - 1}, each made by {@code make} on the worker that takes it, merged in AG order. */
    void run(int agCount, IntFunction<Stage> make) throws StagingException {
        synchronized (lock) {
            stages = new Stage[agCount];
            done = new boolean[agCount];
            failures = new Throwable[agCount];
        }
        List<Thread> workers = new ArrayList<>();
        String caller = Thread.currentThread().getName();
        try {
            for (int i = 0; i < Math.min(threads, agCount); i++) {
                Thread t = new Thread(() -> work(agCount, make), caller + " walk " + (i + 1));
                t.setDaemon(true); // a worker left past the grace (see stop) never keeps the JVM up
                workers.add(t);
                t.start();
            }
            for (int h = 0; h < agCount; h++) {
                Stage s = await(h);
                s.merge();
                progress.increment(1);
            }
        } finally {
            stop(workers, agCount);
        }
    }

    /** Waits until AG {@code h} is walked (telling it to go direct once it has started); its worker's failure thrown. */
    private Stage await(int h) throws StagingException {
        Stage s;
        Throwable failed;
        if (progress.isCancelled()) { // asked at every AG, as the walk of one thread does, even when it is walked already
            throw new CancelledException("scrub cancelled during the walk of AG " + h);
        }
        synchronized (lock) {
            head = h;
            lock.notifyAll(); // the window moved: workers waiting for it may take the next AGs
            boolean toldDirect = false;
            while (!done[h]) {
                if (!toldDirect && stages[h] != null) {
                    stages[h].goDirect();
                    toldDirect = true;
                }
                waitOnLock(h);
            }
            s = stages[h];
            failed = failures[h];
            stages[h] = null; // merged below: the walk keeps no AG it is done with
        }
        if (failed != null) {
            if (s != null) {
                s.discard();
            }
            rethrow(failed);
        }
        return s;
    }

    private void waitOnLock(int h) throws CancelledException {
        if (progress.isCancelled()) {
            throw new CancelledException("scrub cancelled during the walk of AG " + h);
        }
        try {
            lock.wait(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // kept: the run reports the cancellation by it too
            throw new CancelledException("scrub cancelled during the walk of AG " + h);
        }
    }

    /** A worker: the next AG inside the window, walked, until none is left or the walk is stopped. */
    private void work(int agCount, IntFunction<Stage> make) {
        while (true) {
            int agno;
            synchronized (lock) {
                while (!stopped && next < agCount && next >= head + AHEAD_PER_THREAD * threads) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return; // only stop() interrupts a worker
                    }
                }
                if (stopped || next >= agCount) {
                    return;
                }
                agno = next++;
            }
            Stage s = null;
            Throwable failed = null;
            try {
                s = make.apply(agno);
                synchronized (lock) {
                    stages[agno] = s; // the merging thread may now tell it to go direct
                    if (agno == head) {
                        s.goDirect();
                    }
                }
                s.walk();
            } catch (Throwable t) { // handed to the calling thread, which throws it in AG order
                failed = t;
            }
            synchronized (lock) {
                if (s != null) {
                    stages[agno] = s;
                }
                failures[agno] = failed;
                done[agno] = true;
                lock.notifyAll();
            }
        }
    }

    /** Ends the workers (at once after a failure or cancellation) and gives back what AGs not merged buffered. */
    private void stop(List<Thread> workers, int agCount) {
        synchronized (lock) {
            stopped = true;
            lock.notifyAll();
        }
        boolean interrupted = Thread.interrupted(); // a cancelled run: join anyway, then say so again
        long deadline = System.nanoTime() + JOIN_GRACE_MILLIS * 1_000_000;
        for (Thread t : workers) {
            while (t.isAlive()) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    break; // its buffers are closed below: its next record fails and it ends
                }
                try {
                    t.join(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        synchronized (lock) {
            for (int a = 0; a < agCount; a++) {
                if (stages[a] != null) {
                    stages[a].discard();
                    stages[a] = null;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void rethrow(Throwable t) throws StagingException {
        if (t instanceof StagingException e) {
            throw e;
        }
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t); // walk() throws nothing else
    }
}
