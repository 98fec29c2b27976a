package org.xfstage.device.internal;

import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;

import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;

/**
 * A directory tree walk read on a thread of its own while the caller's thread tells the sink the events, in exactly the
 * walk's order. The order depends only on what is read (DirectoryTree never asks the sink anything), so the reader may
 * run ahead: it records the events in flat batches (the entries and problems the reader made anyway, the numbers in
 * primitive arrays, so no event costs an object of its own) and hands them over through a queue of a few batches, which
 * bounds the heap whatever a directory's size. A profile of the scrub of a repair of the 200k-inode benchmark image had
 * about half the walk's samples in telling (link counting, the directory check) and half in reading.
 * <p>
 * Everything but the reading happens on the caller's thread as in a walk on one thread: the sink's events, the progress
 * and the cancellation point before each directory (recorded as events of their own, so they fall where they did). An
 * exception thrown by the sink, or a cancellation, ends the walk on the caller's thread and stops the reader; anything
 * thrown on the reading thread is thrown on the caller's after the events read before it. The reader is never
 * interrupted: an interrupt during a read would close the image's channel for every reader. It is stopped by a flag,
 * which it reads after each batch handed over and before each directory, and the queue is emptied so that it is never
 * left waiting; the caller joins it before returning.
 */
final class TreeWalkPipe {
    /** Events per batch: few hand-overs between the threads (a few hundred in a walk of 200k inodes), small batches. */
    static final int BATCH = 2048;
    /** Batches handed over and not yet told: enough for the reader to run ahead of a burst of slow events. */
    static final int QUEUED = 4;

    private static final byte DIRECTORY = 0;
    private static final byte ENTRY = 1;
    private static final byte CHILD = 2;
    private static final byte PROBLEM = 3;
    /** Before each directory taken from the walk's stack: where the walk may be cancelled. */
    private static final byte NEXT = 4;
    /** After each directory read: one unit of progress. */
    private static final byte DONE = 5;

    /** Events in recording order; {@code ref}: the path, entry, child's type or problem. */
    private static final class Batch {
        final byte[] kind = new byte[BATCH];
        final long[] ino = new long[BATCH];
        final long[] nlink = new long[BATCH];
        final Object[] ref = new Object[BATCH];
        int size;
        /** The walk's last batch: it ended, with {@code failure} when the reader threw. */
        boolean last;
        Throwable failure;
    }

    /** Thrown on the reading thread, through the walk, when the caller has stopped telling. */
    private static final class Stopped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stopped() {
            super(null, null, false, false);
        }
    }

    /** What the reading thread runs: the walk, telling its events to the sink and steps given (DirectoryTree::read). */
    interface Walk {
        void read(DirectoryTree.Steps steps, DirectorySink sink) throws CancelledException;
    }

    private final Walk walk;
    private final ArrayBlockingQueue<Batch> full = new ArrayBlockingQueue<>(QUEUED);
    /** Batches told, for the reader to fill again. */
    private final ArrayBlockingQueue<Batch> free = new ArrayBlockingQueue<>(QUEUED + 2);
    /** Set by the caller when it stops telling (done, failed or cancelled). */
    private volatile boolean stop;
    /** The reader's batch being filled (the reading thread's only). */
    private Batch filling;

    TreeWalkPipe(Walk walk) {
        this.walk = walk;
    }

    void walk(Progress p, DirectorySink sink) throws CancelledException {
        Thread reader = new Thread(this::read, "xfstage directory tree reader");
        reader.setDaemon(true); // never keeps a JVM up, should a join ever be cut short
        reader.start();
        try {
            tell(p, sink);
        } finally {
            stop = true;
            full.clear(); // a reader waiting for room goes on, reads stop, and ends
            boolean interrupted = false;
            while (true) {
                try {
                    reader.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the reader ends within a batch or a directory's read: wait for it
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The caller's side: every event of every batch, in order, until the last. */
    private void tell(Progress p, DirectorySink sink) throws CancelledException {
        while (true) {
            Batch b = take();
            for (int i = 0; i < b.size; i++) {
                switch (b.kind[i]) {
                    case DIRECTORY -> sink.directory(b.ino[i], (String) b.ref[i], b.nlink[i]);
                    case ENTRY -> sink.entry((DirectoryEntry) b.ref[i]);
                    case CHILD -> sink.child(b.ino[i], (FileType) b.ref[i], b.nlink[i]);
                    case PROBLEM -> sink.problem((DirectoryProblem) b.ref[i]);
                    case NEXT -> {
                        if (p.isCancelled()) {
                            throw new CancelledException("directory walk cancelled");
                        }
                    }
                    default -> p.increment(1);
                }
            }
            if (b.last) {
                Throwable f = b.failure;
                if (f instanceof RuntimeException r) {
                    throw r;
                }
                if (f instanceof Error e) {
                    throw e;
                }
                return; // nothing else is thrown by the walk: CancelledException is the caller's own, above
            }
            Arrays.fill(b.ref, 0, b.size, null); // the entries told are garbage now, as on one thread
            b.size = 0;
            free.offer(b);
        }
    }

    private Batch take() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return full.take();
                } catch (InterruptedException e) {
                    interrupted = true; // as a walk on one thread, which ignores interrupts: the reader always ends
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The reading thread: the walk, recorded, then the last batch (with what the walk threw, if it threw). */
    private void read() {
        filling = fresh();
        try {
            walk.read(new DirectoryTree.Steps() {
                @Override
                public void next() {
                    if (stop) {
                        throw new Stopped();
                    }
                    add(NEXT, 0, 0, null);
                }

                @Override
                public void done() {
                    add(DONE, 0, 0, null);
                }
            }, new DirectorySink() {
                @Override
                public void directory(long ino, String path, long nlink) {
                    add(DIRECTORY, ino, nlink, path);
                }

                @Override
                public void entry(DirectoryEntry entry) {
                    add(ENTRY, 0, 0, entry);
                }

                @Override
                public void problem(DirectoryProblem problem) {
                    add(PROBLEM, 0, 0, problem);
                }

                @Override
                public void child(long ino, FileType type, long nlink) {
                    add(CHILD, ino, nlink, type);
                }
            });
        } catch (Stopped s) {
            return; // the caller told all it will: nothing more is handed over
        } catch (Throwable t) { // for the caller to throw, after the events read before it
            filling.failure = t;
        }
        filling.last = true;
        try {
            hand(filling);
        } catch (Stopped s) {
            // the caller stopped first
        }
    }

    private void add(byte kind, long ino, long nlink, Object ref) {
        Batch b = filling;
        int i = b.size;
        b.kind[i] = kind;
        b.ino[i] = ino;
        b.nlink[i] = nlink;
        b.ref[i] = ref;
        b.size = i + 1;
        if (b.size == BATCH) {
            Batch next = fresh(); // first: should it fail, the full batch is still the one a failure is recorded in
            hand(b);
            filling = next;
        }
    }

    private Batch fresh() {
        Batch b = free.poll();
        return b != null ? b : new Batch();
    }

    /** Hands {@code b} over, waiting for room; throws Stopped when the caller has stopped telling. */
    private void hand(Batch b) {
        while (true) {
            try {
                full.put(b);
                break;
            } catch (InterruptedException e) {
                // nothing interrupts the reader; should something, the caller still takes every batch or stops
            }
        }
        if (stop) {
            throw new Stopped();
        }
    }
}
