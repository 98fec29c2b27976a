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

    /**
     * In a tree walk, before the entries and problems of each directory: which directory follows, with its link count
     * as read (so that a walk that counts links needs no second read of it). By default {@link #directory(long, String)}.
     *
     * @param ino   its inode number
     * @param path  its path from the root, as the walk reached it
     * @param nlink its link count on disk, or -1 when the inode could not be read
     */
    default void directory(long ino, String path, long nlink) {
        directory(ino, path);
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

    /**
     * In a tree walk, right after each entry other than ".": the inode it names as read, with its link count. By default
     * {@link #child(long, FileType)}.
     *
     * @param ino   the inode number the entry names
     * @param type  its file type from its mode, or null when it is no inode in use
     * @param nlink its link count on disk, or -1 when it is no inode in use
     */
    default void child(long ino, FileType type, long nlink) {
        child(ino, type);
    }
}
