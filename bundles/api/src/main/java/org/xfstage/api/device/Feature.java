package org.xfstage.api.device;

/**
 * Filesystem features a strategy may need to know about, by the names {@code mkfs.xfs} gives them (as
 * {@code xfs_has_*} in libxfs). {@link FsInfo#has(Feature)} says whether a filesystem has one.
 */
public enum Feature {
    /** Metadata checksums and self-describing headers (v5). */
    CRC("crc"),
    /** The free inode btree. */
    FINOBT("finobt"),
    /** The reverse-mapping btree. */
    RMAPBT("rmapbt"),
    /** Shared extents and the refcount btree. */
    REFLINK("reflink"),
    /** Inode btree block counts in the AGI. */
    INOBTCOUNT("inobtcount"),
    /** File types in directory entries. */
    FTYPE("ftype"),
    /** Sparse inode chunks. */
    SPARSE("sparse"),
    /** Timestamps past 2038. */
    BIGTIME("bigtime"),
    /** 64-bit extent counters. */
    NREXT64("nrext64"),
    /** Directory names hashed and looked up without regard to ASCII (and Latin-1) case. */
    ASCII_CI("ascii-ci");

    private final String mkfsName;

    Feature(String mkfsName) {
        this.mkfsName = mkfsName;
    }

    /** The name {@code mkfs.xfs} and {@code xfs_info} use. */
    public String mkfsName() {
        return mkfsName;
    }
}
