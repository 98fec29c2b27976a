package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfArrayInfo;

/**
 * The xfarray service as strategies see it through their context. An array made on a thread the {@link StrategyRunner}
 * started for a strategy call (or on a thread that thread started) belongs to that call's {@link Scope}, so that a run
 * that stops the strategy can take its staging away: every array it made is closed under it, and every array it asks
 * for afterwards is refused, so that its next staging call fails even when it ignores interrupts. Arrays made on the
 * engine's own threads are the service's, as before.
 */
final class StrategyStaging implements XfArrayFactory {
    /** The strategy call whose thread this is, if any; threads a strategy starts inherit it. */
    private static final InheritableThreadLocal<Scope> CURRENT = new InheritableThreadLocal<>();

    private final XfArrayFactory arrays;

    StrategyStaging(XfArrayFactory arrays) {
        this.arrays = arrays;
    }

    @Override
    public XfArray create(String name, int recordSize) throws StagingException {
        Scope scope = CURRENT.get();
        if (scope != null) {
            scope.refuseIfClosed();
        }
        XfArray a = arrays.create(name, recordSize);
        if (scope != null) {
            scope.adopt(a);
        }
        return a;
    }

    @Override
    public java.util.List<XfArrayInfo> liveArrays() {
        return arrays.liveArrays();
    }

    /** The arrays of one strategy call. */
    static final class Scope implements AutoCloseable {
        private final String owner;
        private final List<XfArray> made = new ArrayList<>();
        private boolean closed;

        /** {@code owner} names the strategy in the message of a refused array. */
        Scope(String owner) {
            this.owner = owner;
        }

        /** Runs {@code call} on this thread as this scope's: the arrays it makes through a context are this scope's. */
        <T> T run(StrategyRunner.StrategyCall<T> call) throws Exception {
            CURRENT.set(this);
            try {
                return call.call();
            } finally {
                CURRENT.remove();
            }
        }

        private synchronized void refuseIfClosed() throws StagingClosedException {
            if (closed) {
                throw closedException();
            }
        }

        /** Keeps {@code a}; closes it at once when the scope was closed while it was being made. */
        private synchronized void adopt(XfArray a) throws StagingClosedException {
            if (closed) {
                a.close();
                throw closedException();
            }
            made.add(a);
        }

        private StagingClosedException closedException() {
            return new StagingClosedException("the run stopped strategy '" + owner + "': its staging is closed");
        }

        /** Closes every array made in this scope (those the strategy closed already are closed again, harmlessly) and refuses new ones. */
        @Override
        public synchronized void close() {
            closed = true;
            for (XfArray a : made) {
                a.close();
            }
            made.clear();
        }
    }
}
