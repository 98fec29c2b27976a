package org.xfstage.api.repair;

/** What the engine's one walk of the filesystem can stage for strategies. */
public enum Observation {
    /**
     * Every block in use, as 24-byte records sorted by (agno, agbno): agno u32, agbno u32, length u32, 4 zero
     * bytes, owner u64 (an inode number, or one of the OWNER_ constants of {@link ScrubContext}); big-endian.
     */
    SPACE_MAP,
    /**
     * Every inode of every inode chunk, as 16-byte records sorted by inode number: ino + 1 u64 (so that inode 0 is
     * not a null record), state u64 (1 in use, 0 free, 2 unreadable: already reported as a finding).
     */
    INODE_MAP,
    /**
     * What link counts should be, from the tree walk, as 24-byte records sorted by inode: ino + 1 u64, kind u64,
     * value u64. Kind 0: the inode itself, value = its di_nlink, plus 2^32 when it is a directory; kind 1: a
     * directory entry names it; kind 2: a subdirectory's ".." names it (a directory's own "." is not counted).
     */
    LINK_COUNTS
}
