package org.xfstage.api.device;

/** The inode core fields {@link XfsDevice#updateInode} can set. */
public enum InodeField {
    /** di_nlink: the link count. */
    NLINK
}
