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
 */
public record Plan(String structure, List<BlockImage> blocks, List<String> changes) {
}
