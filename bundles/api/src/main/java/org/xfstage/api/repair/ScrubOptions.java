package org.xfstage.api.repair;

import java.util.Set;

/**
 * What a scrub checks.
 *
 * @param structures the structures to check (strategy names); empty means all
 */
public record ScrubOptions(Set<String> structures) {

    public static ScrubOptions all() {
        return new ScrubOptions(Set.of());
    }
}
