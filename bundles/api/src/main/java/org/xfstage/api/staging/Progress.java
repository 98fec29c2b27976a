package org.xfstage.api.staging;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Progress and cancellation of a long call (a sort here; scans, scrubs and repairs later). The callee
 * announces the units of work with {@link #total}, reports done units with {@link #increment}, and polls
 * {@link #isCancelled} between steps; when it returns true the callee stops at the next safe point and
 * throws {@link CancelledException}. Implementations must tolerate calls from several threads.
 */
@ConsumerType
public interface Progress {

    /** A progress that ignores reports and never cancels. */
    Progress NONE = new Progress() {
        @Override
        public void total(String phase, long units) {
        }

        @Override
        public void increment(long units) {
        }

        @Override
        public boolean isCancelled() {
            return false;
        }
    };

    /** A phase begins; {@code units} is how much work it has (records, blocks), or -1 when unknown. */
    void total(String phase, long units);

    /** {@code units} more of the current phase are done. */
    void increment(long units);

    /** Whether the caller wants the call to stop. */
    boolean isCancelled();
}
