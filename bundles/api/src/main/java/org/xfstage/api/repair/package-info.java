/**
 * Scrub and repair of XFS filesystems: the engine service, the strategy SPI that third parties implement, the
 * findings and plans they return, and typed views of the observations the engine stages for them.
 */
@Version("2.6.0")
@Export
package org.xfstage.api.repair;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
