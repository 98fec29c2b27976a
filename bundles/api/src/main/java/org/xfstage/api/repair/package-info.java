/**
 * Scrub (and later repair) of XFS filesystems: the engine service, the strategy SPI that third parties implement,
 * and the findings they report.
 */
@Version("1.0.0")
@Export
package org.xfstage.api.repair;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
