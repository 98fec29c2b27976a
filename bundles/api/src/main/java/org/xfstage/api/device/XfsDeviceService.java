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

    /**
     * Restores an image from the undo journal of a commit, bit for bit. Refuses a journal made for another image
     * (identity and size), and an image whose journaled blocks hold neither the old nor the new contents.
     *
     * @return the number of blocks restored
     */
    int undo(Path journal, Path image, OpenOptions options) throws XfsException;
}
