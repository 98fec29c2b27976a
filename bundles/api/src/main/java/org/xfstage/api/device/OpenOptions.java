package org.xfstage.api.device;

import java.nio.file.Path;

/**
 * How to open a filesystem.
 *
 * @param writable      ask for write access (and an exclusive lock); read-only (a shared lock) otherwise
 * @param allowDirtyLog open even when the log needs recovery (only for reading what is there)
 * @param mountInfo     the mount table to check against; {@code /proc/self/mountinfo} unless a test gives another
 */
public record OpenOptions(boolean writable, boolean allowDirtyLog, Path mountInfo) {

    public static final Path PROC_MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** Read-only, refusing a dirty log, checked against the real mount table. */
    public static OpenOptions readOnly() {
        return new OpenOptions(false, false, PROC_MOUNTINFO);
    }

    /** Writable, refusing a dirty log, checked against the real mount table. */
    public static OpenOptions forWriting() {
        return new OpenOptions(true, false, PROC_MOUNTINFO);
    }
}
