package org.xfstage.api.repair;

/** What the engine's one walk of the filesystem can stage for strategies. */
public enum Observation {
    /** Every block in use, sorted by (agno, agbno): {@link SpaceMapRecord}s (where, what for, who owns it). */
    SPACE_MAP,
    /** Every inode of every inode chunk, sorted by inode number: {@link InodeMapRecord}s (in use, free, unreadable). */
    INODE_MAP,
    /** What link counts should be, from the tree walk, sorted by inode: {@link LinkCountRecord}s. */
    LINK_COUNTS,
    /**
     * What the device found wrong in the inodes the walk read (in the same read), in walk order:
     * {@link InodeProblemRecord}s, one per problem; empty on a healthy filesystem.
     */
    INODE_PROBLEMS
}
