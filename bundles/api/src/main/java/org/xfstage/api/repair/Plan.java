package org.xfstage.api.repair;

import java.util.List;

import org.xfstage.api.device.BlockImage;

/**
 * What a strategy would write to repair its structure: block images made by the device's encoders, and the
 * changes in words for the operator.
 *
 * @param structure the structure it repairs
 * @param blocks    new block contents
 * @param changes   one line per change ("AG 1 agf_longest: 7 -> 32744")
 * @param covers    what else the plan puts right (a rebuilt bnobt also rebuilds the cntbt and the AGF of that AG):
 *                  the engine does not ask other strategies to plan for those findings
 */
public record Plan(String structure, List<BlockImage> blocks, List<String> changes, java.util.Set<Coverage> covers) {

    /** Whether this plan is about the finding: its own structure, or one it covers. */
    public boolean puts(Finding f) {
        return structure.equals(f.structure()) || covers.stream().anyMatch(c -> c.covers(f));
    }

    /** A plan that covers only its own findings. */
    public Plan(String structure, List<BlockImage> blocks, List<String> changes) {
        this(structure, blocks, changes, java.util.Set.of());
    }
}
