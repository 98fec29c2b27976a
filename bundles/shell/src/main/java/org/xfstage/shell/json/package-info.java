/**
 * The JSON writer of the commands' {@code --json} output, exported so that other command bundles (the fleet's) write
 * the same JSON as the xfs: commands.
 */
@Version("1.0.0")
@Export
package org.xfstage.shell.json;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
