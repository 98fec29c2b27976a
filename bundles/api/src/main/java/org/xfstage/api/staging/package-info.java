/**
 * Staging memory for repairs: pageable files outside the Java heap ({@link org.xfstage.api.staging.XFile})
 * and the services that hand them out.
 */
@Version("1.6.0")
@Export
package org.xfstage.api.staging;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
