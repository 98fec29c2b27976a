package org.xfstage.xfile.internal;

import java.util.concurrent.atomic.AtomicLong;

import org.xfstage.api.staging.XFileFullException;

/** Bytes allocated by all live files of one factory, held against the configured total limit. */
final class StagingBudget {
    private final AtomicLong used = new AtomicLong();
    /** The highest {@link #used} since the factory started or {@link #resetPeak}: what a run really staged at once. */
    private final AtomicLong peak = new AtomicLong();
    private volatile long maxTotalBytes;

    StagingBudget(long maxTotalBytes) {
        this.maxTotalBytes = maxTotalBytes;
    }

    void setLimit(long maxTotalBytes) {
        this.maxTotalBytes = maxTotalBytes;
    }

    long limit() {
        return maxTotalBytes;
    }

    long used() {
        return used.get();
    }

    /** Takes {@code bytes} from the budget or fails naming the total limit. */
    void reserve(String fileName, long bytes) throws XFileFullException {
        while (true) {
            long now = used.get();
            long limit = maxTotalBytes;
            if (now + bytes > limit) {
                throw new XFileFullException("staging is full: xfile '" + fileName + "' needs " + bytes
                        + " more bytes but all xfiles together already use " + now + " of maxTotalBytes=" + limit
                        + " (configuration org.xfstage.xfile)");
            }
            if (used.compareAndSet(now, now + bytes)) {
                peak.accumulateAndGet(now + bytes, Math::max);
                return;
            }
        }
    }

    long peak() {
        return peak.get();
    }

    /** Starts a new peak from what is used now. */
    void resetPeak() {
        peak.set(used.get());
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }
}
