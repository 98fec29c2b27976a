package org.xfstage.api.device;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives what the device's verifying directory reader finds: every entry it could decode and every problem, in the
 * order it reads them ({@link XfsDevice#directory}, {@link XfsDevice#directoryTree}).
 */
@ConsumerType
public interface DirectorySink {

    /**
     * In a tree walk, before the entries and problems of each directory: which directory follows.
     *
     * @param ino  its inode number
     * @param path its path from the root, as the walk reached it
     */
    default void directory(long ino, String path) {
    }

    /** One entry. */
    void entry(DirectoryEntry entry);

    /** One problem. */
    void problem(DirectoryProblem problem);

    /**
     * In a tree walk, right after each entry other than ".": the inode it names as read.
     *
     * @param ino  the inode number the entry names
     * @param type its file type from its mode, or null when it is no inode in use (free, outside the filesystem, or
     *             unreadable: the inode walk reports those)
     */
    default void child(long ino, FileType type) {
    }
}
