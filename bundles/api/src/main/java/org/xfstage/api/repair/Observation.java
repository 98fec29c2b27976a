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
    INODE_PROBLEMS,
    /**
     * What the tree walk read of every directory reached from the root, in walk order: {@link DirectoryWalkRecord}s
     * (each directory, each entry with the type of the inode it names, each problem the verifying reader found), their
     * names, paths and details in the observation's blob ({@link ScrubContext#observationBlob}). The walk that counts
     * links reads each directory once and stages this, so the directory check needs no second read.
     */
    DIRECTORY_WALK,
    /**
     * On a filesystem with an rmapbt: every extent of every inode in use the walk read, with its file offset, fork and
     * flags, as {@link MappingRecord}s sorted in the rmapbt's order ({@link MappingRecord#ORDER}), from the same read
     * that fills the space map. Staged when a strategy needs it, so that the reverse mappings it expects need no second
     * read of every inode.
     */
    FILE_MAPPINGS,
    /**
     * On a filesystem with an rmapbt: the rmapbt's records as the walk read them, as {@link MappingRecord}s in tree
     * order, AG after AG, of the AGs whose rmapbt the walk read whole only. An AG without records here was not read
     * whole (or holds none): a strategy that needs its records walks that AG's tree itself, and finds out which. Staged
     * when a strategy needs it, so that the checks need no walk of the rmapbt of their own.
     */
    RMAPBT_RECORDS
}
