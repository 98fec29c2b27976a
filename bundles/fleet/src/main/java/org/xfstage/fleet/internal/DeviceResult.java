package org.xfstage.fleet.internal;

import java.io.Serializable;
import java.util.List;

/**
 * The outcome of one fleet run on one device, as kept in the cluster's results map and printed by the commands.
 * Serializable because it crosses the wire from the owning member; it holds only strings and numbers, so that no
 * member needs another's classes beyond this bundle.
 *
 * @param device        the device id ({@code node:path})
 * @param node          the member that owns it
 * @param path          the image or device on that member
 * @param startMillis   when the run started (epoch ms)
 * @param verdict       what came out ({@link Verdict})
 * @param findings      what the scrub found, one line each
 * @param durationMillis how long the run took on its member
 * @param detail        a line for verdicts that need one (why it failed, who holds the lease), or null
 * @param journal       the undo journal of an applied repair, on the owning member, or null
 * @param lastCompletedMillis when the device last got a clean or damaged verdict (0: never): what "overdue" counts from
 */
record DeviceResult(String device, String node, String path, long startMillis, Verdict verdict, List<String> findings,
        long durationMillis, String detail, String journal, long lastCompletedMillis) implements Serializable {
    private static final long serialVersionUID = 1L;

    DeviceResult {
        findings = List.copyOf(findings);
    }

    /** What a fleet run can say about a device. */
    enum Verdict {
        /** Scrubbed, nothing found. */
        CLEAN("clean"),
        /** Scrubbed, findings listed. */
        DAMAGED("damaged"),
        /** Its member left the cluster (or stopped) before the run answered. */
        MEMBER_LEFT("member left"),
        /** Another run holds the device's lease. */
        BUSY("busy"),
        /** The scrub or repair could not run (the detail says why). */
        FAILED("failed"),
        /** No member of the cluster owns a device of that name. */
        UNKNOWN("unknown device"),
        /** A repair wrote its plans and the image is clean. */
        REPAIRED("repaired"),
        /** A repair was planned but nothing was written (no --apply). */
        DRY_RUN("dry run"),
        /** A repair left damage: unrepaired structures, or still damaged after writing. */
        NOT_REPAIRED("not repaired");

        final String text;

        Verdict(String text) {
            this.text = text;
        }

        /** Whether this is a scrub's answer about the image (what the schedule counts as done). */
        boolean completed() {
            return this == CLEAN || this == DAMAGED;
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
