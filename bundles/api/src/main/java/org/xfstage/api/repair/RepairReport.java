package org.xfstage.api.repair;

import java.util.List;

/**
 * The result of a repair run.
 *
 * @param before     the scrub that found the damage
 * @param plans      what the strategies would write (written when {@code applied})
 * @param unrepaired structures with findings that no strategy repairs (then nothing is written)
 * @param applied    whether the plans were written
 * @param journal    the undo journal, when applied
 * @param after      the scrub after writing, when applied
 */
public record RepairReport(ScrubReport before, List<Plan> plans, List<String> unrepaired, boolean applied, String journal,
        ScrubReport after) {
}
