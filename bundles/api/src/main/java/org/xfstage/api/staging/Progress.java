package org.xfstage.api.staging;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Progress and cancellation of a long call (a sort, a scrub, a repair). The callee
 * announces the units of work with {@link #total(String, long, String)}, reports done units with {@link #increment}, and polls
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

    /**
     * A phase begins, counted in {@code unit}: what a person reads beside the figures ("AGs", "inodes", "records").
     * Callers that know their unit call this one; the default passes the phase and units on to
     * {@link #total(String, long)}, so that progress written before units existed keeps working.
     *
     * @param phase the phase as a user knows it (walk, link counts, sort, checks, plan, write)
     * @param units how much work it has, or -1 when unknown
     * @param unit  what one unit is, plural ("AGs", "inodes", "records")
     */
    default void total(String phase, long units, String unit) {
        total(phase, units);
    }

    /**
     * A line for the person waiting for the call, given before its result (a run's staging estimate, say). The
     * default ignores it.
     */
    default void note(String line) {
    }

    /** {@code units} more of the current phase are done. */
    void increment(long units);

    /** Whether the caller wants the call to stop. */
    boolean isCancelled();
}
