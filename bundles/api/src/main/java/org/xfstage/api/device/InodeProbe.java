package org.xfstage.api.device;

/**
 * What the bytes at an inode number hold, read from the inode alone (no fork is followed): the evidence a rebuild of
 * the inode btrees takes from the inodes themselves.
 */
public enum InodeProbe {
    /**
     * Not an inode of this filesystem at this number: the magic, version, checksum, the inode number it records or
     * the filesystem uuid is wrong (free space, a file's data, a damaged inode), or the number is outside the
     * filesystem.
     */
    NONE,
    /** A v3 inode of this filesystem that records this number, with mode zero: a free inode. */
    FREE,
    /** A v3 inode of this filesystem that records this number, with a mode: an inode in use. */
    IN_USE;

    /** Whether an inode core of this filesystem is there (free or in use). */
    public boolean isInode() {
        return this != NONE;
    }
}
