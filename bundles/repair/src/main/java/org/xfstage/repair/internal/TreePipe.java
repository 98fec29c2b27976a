package org.xfstage.repair.internal;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.staging.CancelledException;

/**
 * The tree walk's events handed to the tree-walk checks on a thread of their own, in the walk's order: the walking
 * thread reads the directories and the inodes they name and stages the link counts, while the directory check (a third
 * of the tree walk's CPU in a profile of the 4M image: its names held, hashed and sorted per directory) keeps up on the
 * other core. The checks see one ordered stream of events, as on the walking thread. Events go in batches of
 * {@value #BATCH} through a queue of {@value #QUEUED} batches, so the heap held is bounded and the walk waits when the
 * checks fall behind; batches are reused.
 */
final class TreePipe implements DirectorySink, AutoCloseable {
    static final int BATCH = 4096;
    static final int QUEUED = 4;
    private static final byte DIRECTORY = 1;
    private static final byte ENTRY = 2;
    private static final byte CHILD = 3;
    private static final byte PROBLEM = 4;

    /** Events of the walk, each a kind with its numbers and object (path, entry, type, problem). */
    private static final class Batch {
        final byte[] kind = new byte[BATCH];
        final long[] a = new long[BATCH];
        final long[] b = new long[BATCH];
        final Object[] o = new Object[BATCH];
        int n;
        boolean last;
    }

    private final DirectorySink checks;
    private final BlockingQueue<Batch> full = new ArrayBlockingQueue<>(QUEUED + 1);
    private final BlockingQueue<Batch> empty = new ArrayBlockingQueue<>(QUEUED + 2);
    private final Thread consumer;
    private Batch filling = new Batch();
    /** Set when the walking thread was interrupted while the checks' queue was full: the events stop, the run is cancelled. */
    private boolean interrupted;
    private volatile Throwable died;

    /** Starts the thread that tells {@code checks} the events, named after {@code run}. */
    TreePipe(DirectorySink checks, String run) {
        this.checks = checks;
        for (int i = 0; i < QUEUED + 1; i++) {
            empty.add(new Batch());
        }
        consumer = new Thread(this::consume, "xfstage tree checks " + run);
        consumer.setDaemon(true); // a check that blocks must not keep the JVM up
        consumer.start();
    }

    private void consume() {
        try {
            while (true) {
                Batch batch = full.take();
                for (int i = 0; i < batch.n; i++) {
                    switch (batch.kind[i]) {
                        case DIRECTORY -> checks.directory(batch.a[i], (String) batch.o[i], batch.b[i]);
                        case ENTRY -> checks.entry((DirectoryEntry) batch.o[i]);
                        case CHILD -> checks.child(batch.a[i], (FileType) batch.o[i], batch.b[i]);
                        default -> checks.problem((DirectoryProblem) batch.o[i]);
                    }
                    batch.o[i] = null;
                }
                if (batch.last) {
                    return;
                }
                batch.n = 0;
                empty.put(batch);
            }
        } catch (InterruptedException e) {
            // the run stopped: the checks' events end here
        } catch (RuntimeException | Error e) { // the checks are guarded (WholeWalk.Guarded): this is the engine's own fault
            died = e;
        }
    }

    private void add(byte kind, long a, long b, Object o) {
        Batch f = filling;
        if (f == null) {
            return; // the walking thread was interrupted, or the checks' thread ended: no event is told any more
        }
        int i = f.n++;
        f.kind[i] = kind;
        f.a[i] = a;
        f.b[i] = b;
        f.o[i] = o;
        if (f.n == BATCH) {
            filling = hand(f) ? next() : null;
        }
    }

    /** Hands a batch to the checks' thread; false when it cannot be (interrupted, or that thread is gone). */
    private boolean hand(Batch f) {
        try {
            // bounded waits: a checks' thread that ended takes no more, and the walk must not wait for it for ever
            while (!full.offer(f, 100, TimeUnit.MILLISECONDS)) {
                if (!consumer.isAlive()) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            interrupted = true;
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Batch next() {
        try {
            while (true) {
                Batch b = empty.poll(100, TimeUnit.MILLISECONDS);
                if (b != null) {
                    return b;
                }
                if (!consumer.isAlive()) {
                    return null;
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void directory(long ino, String path, long nlink) {
        add(DIRECTORY, ino, nlink, path);
    }

    @Override
    public void entry(DirectoryEntry entry) {
        add(ENTRY, 0, 0, entry);
    }

    @Override
    public void child(long ino, FileType type, long nlink) {
        add(CHILD, ino, nlink, type);
    }

    @Override
    public void problem(DirectoryProblem problem) {
        add(PROBLEM, 0, 0, problem);
    }

    /**
     * After the walk: the last events handed over and the checks' thread waited for, so that they have been told
     * everything before the engine goes on; a run interrupted meanwhile ends cancelled.
     */
    void finish() throws CancelledException {
        Batch f = filling;
        filling = null;
        if (f != null) {
            f.last = true;
            if (hand(f)) {
                try {
                    consumer.join(); // bounded: the events of one batch queue at most, each of bounded work (TreeWalkCheck)
                } catch (InterruptedException e) {
                    interrupted = true;
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (interrupted || consumer.isAlive()) {
            close();
            throw new CancelledException("tree walk cancelled while its checks were told it");
        }
        if (died instanceof Error err) {
            throw err; // as it would have been thrown on the walking thread
        }
        if (died instanceof RuntimeException e) {
            throw e;
        }
    }

    /** Stops the checks' thread (a walk that failed or was cancelled) and waits a bounded grace for it. */
    @Override
    public void close() {
        filling = null;
        consumer.interrupt();
        boolean again = Thread.interrupted(); // so that the grace wait is not cut short; set again below
        try {
            consumer.join(StrategyRunner.GRACE_MILLIS);
        } catch (InterruptedException e) {
            again = true;
        }
        if (again) {
            Thread.currentThread().interrupt();
        }
    }
}
