package org.xfstage.api.repair;

import java.util.List;
import java.util.Map;

/**
 * The result of a scrub.
 *
 * @param image      what was scrubbed
 * @param findings   what is wrong (empty when clean)
 * @param strategies the structure of each strategy that ran, with the bundle that provided it
 * @param figures    counts of the run (records staged, blocks walked, ...) for logs and benchmarks
 */
public record ScrubReport(String image, List<Finding> findings, Map<String, String> strategies, Map<String, Long> figures) {

    /** Whether nothing was found. */
    public boolean clean() {
        return findings.isEmpty();
    }
}
