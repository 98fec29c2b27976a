package org.xfstage.api.repair;

import java.nio.file.Path;

/**
 * How to repair.
 *
 * @param apply   write the plans (otherwise a dry run that only reports them)
 * @param journal where the undo journal goes (required with apply)
 */
public record RepairOptions(boolean apply, Path journal) {
}
