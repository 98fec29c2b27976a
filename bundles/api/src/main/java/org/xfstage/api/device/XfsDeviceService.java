package org.xfstage.api.device;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/** Opens XFS filesystems in image files or unmounted block devices. */
@ProviderType
public interface XfsDeviceService {

    /**
     * Opens a filesystem after checking that it is a readable v5 XFS, not mounted, with a clean log, and not
     * opened by another run.
     *
     * @throws XfsException with one clear line when it cannot (missing, not XFS, truncated, mounted, dirty log, locked)
     */
    XfsDevice open(Path source, OpenOptions options) throws XfsException;
}
