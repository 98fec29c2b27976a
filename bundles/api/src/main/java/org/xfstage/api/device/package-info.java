/**
 * Access to XFS filesystems (image files and unmounted block devices): opening them safely, their geometry and
 * counters, and a walk of every file. All knowledge of the on-disk format lives in the bundle that provides
 * {@link org.xfstage.api.device.XfsDeviceService}; nothing here exposes byte layouts.
 */
@Version("2.9.0")
@Export
package org.xfstage.api.device;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
