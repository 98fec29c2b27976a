package org.xfstage.device.internal;

/**
 * Every fixed layout of the v5 format that xfstage reads and writes (from xfs_format.h and xfs_da_format.h;
 * see FORMAT.md in this bundle). Field names are the C names without their struct prefix.
 */
final class Layouts {
    private Layouts() {
    }

    /** struct xfs_dsb: the superblock, 264 bytes (CRC over the whole sector). */
    static final Layout SB = new Layout("superblock", 224)
            .field("magicnum", 4).field("blocksize", 4).field("dblocks", 8).field("rblocks", 8).field("rextents", 8)
            .field("uuid0", 8).field("uuid1", 8).field("logstart", 8).field("rootino", 8).field("rbmino", 8)
            .field("rsumino", 8).field("rextsize", 4).field("agblocks", 4).field("agcount", 4).field("rbmblocks", 4)
            .field("logblocks", 4).field("versionnum", 2).field("sectsize", 2).field("inodesize", 2)
            .field("inopblock", 2).field("fname0", 8).field("fname1", 4).field("blocklog", 1).field("sectlog", 1)
            .field("inodelog", 1).field("inopblog", 1).field("agblklog", 1).field("rextslog", 1)
            .field("inprogress", 1).field("imax_pct", 1).field("icount", 8).field("ifree", 8).field("fdblocks", 8)
            .field("frextents", 8).field("uquotino", 8).field("gquotino", 8).field("qflags", 2).field("flags", 1)
            .field("shared_vn", 1).field("inoalignmt", 4).field("unit", 4).field("width", 4).field("dirblklog", 1)
            .field("logsectlog", 1).field("logsectsize", 2).field("logsunit", 4).field("features2", 4)
            .field("bad_features2", 4).field("features_compat", 4).field("features_ro_compat", 4)
            .field("features_incompat", 4).field("features_log_incompat", 4).field("crc", 4)
            .field("spino_align", 4).field("pquotino", 8).field("lsn", 8).field("meta_uuid0", 8)
            .field("meta_uuid1", 8).done();

    /** struct xfs_agf, 224 bytes (CRC over the whole sector). */
    static final Layout AGF = new Layout("AGF", 216)
            .field("magicnum", 4).field("versionnum", 4).field("seqno", 4).field("length", 4).field("bno_root", 4)
            .field("cnt_root", 4).field("rmap_root", 4).field("bno_level", 4).field("cnt_level", 4)
            .field("rmap_level", 4).field("flfirst", 4).field("fllast", 4).field("flcount", 4).field("freeblks", 4)
            .field("longest", 4).field("btreeblks", 4).field("uuid0", 8).field("uuid1", 8).field("rmap_blocks", 4)
            .field("refcount_blocks", 4).field("refcount_root", 4).field("refcount_level", 4)
            .field("spare0", 8).field("spare1", 8).field("spare2", 8).field("spare3", 8).field("spare4", 8)
            .field("spare5", 8).field("spare6", 8).field("spare7", 8).field("spare8", 8).field("spare9", 8)
            .field("spare10", 8).field("spare11", 8).field("spare12", 8).field("spare13", 8).field("lsn", 8)
            .field("crc", 4).field("spare_2", 4).done();

    /** struct xfs_agi, 344 bytes (CRC over the whole sector); the 64 unlinked buckets are fields too. */
    static final Layout AGI;

    static {
        Layout agi = new Layout("AGI", 312).field("magicnum", 4).field("versionnum", 4).field("seqno", 4)
                .field("length", 4).field("count", 4).field("root", 4).field("level", 4).field("freecount", 4)
                .field("newino", 4).field("dirino", 4);
        for (int i = 0; i < 64; i++) {
            agi.field("unlinked" + i, 4);
        }
        AGI = agi.field("uuid0", 8).field("uuid1", 8).field("crc", 4).field("pad32", 4).field("lsn", 8)
                .field("free_root", 4).field("free_level", 4).field("iblocks", 4).field("fblocks", 4).done();
    }

    /** struct xfs_agfl header, 36 bytes; the block list follows (CRC over the whole sector). */
    static final Layout AGFL = new Layout("AGFL", 32)
            .field("magicnum", 4).field("seqno", 4).field("uuid0", 8).field("uuid1", 8).field("lsn", 8).field("crc", 4)
            .done();

    /** Short-form btree block header (per-AG btrees), 56 bytes (CRC over the whole block). */
    static final Layout SBLOCK = new Layout("short btree block", 52)
            .field("magic", 4).field("level", 2).field("numrecs", 2).field("leftsib", 4).field("rightsib", 4)
            .field("blkno", 8).field("lsn", 8).field("uuid0", 8).field("uuid1", 8).field("owner", 4).field("crc", 4)
            .done();

    /** Long-form btree block header (bmbt), 72 bytes (CRC over the whole block). */
    static final Layout LBLOCK = new Layout("long btree block", 64)
            .field("magic", 4).field("level", 2).field("numrecs", 2).field("leftsib", 8).field("rightsib", 8)
            .field("blkno", 8).field("lsn", 8).field("uuid0", 8).field("uuid1", 8).field("owner", 8).field("crc", 4)
            .field("pad", 4).done();

    /** struct xfs_dinode, the v3 inode core, 176 bytes (CRC over the whole inode). */
    static final Layout DINODE = new Layout("inode", 100)
            .field("magic", 2).field("mode", 2).field("version", 1).field("format", 1).field("onlink", 2)
            .field("uid", 4).field("gid", 4).field("nlink", 4).field("projid_lo", 2).field("projid_hi", 2)
            .field("big_nextents", 8).field("atime", 8).field("mtime", 8).field("ctime", 8).field("size", 8)
            .field("nblocks", 8).field("extsize", 4).field("nextents", 4).field("anextents", 2).field("forkoff", 1)
            .field("aformat", 1).field("dmevmask", 4).field("dmstate", 2).field("flags", 2).field("gen", 4)
            .field("next_unlinked", 4).field("crc", 4).field("changecount", 8).field("lsn", 8).field("flags2", 8)
            .field("cowextsize", 4).field("pad2_0", 8).field("pad2_1", 4).field("crtime", 8).field("ino", 8)
            .field("uuid0", 8).field("uuid1", 8).done();

    /** struct xfs_dir3_data_hdr: block header of dir3 data and single-block directories, 64 bytes. */
    static final Layout DIR3_DATA = new Layout("directory data block", 4)
            .field("magic", 4).field("crc", 4).field("blkno", 8).field("lsn", 8).field("uuid0", 8).field("uuid1", 8)
            .field("owner", 8).field("bf0_offset", 2).field("bf0_length", 2).field("bf1_offset", 2)
            .field("bf1_length", 2).field("bf2_offset", 2).field("bf2_length", 2).field("pad", 4).done();

    /** struct xfs_da3_blkinfo + count/stale or count/level: dir3 leaf and da node blocks, 64 bytes. */
    static final Layout DA3_NODE = new Layout("directory leaf/node block", 12)
            .field("forw", 4).field("back", 4).field("magic", 2).field("pad", 2).field("crc", 4).field("blkno", 8)
            .field("lsn", 8).field("uuid0", 8).field("uuid1", 8).field("owner", 8).field("count", 2)
            .field("level_or_stale", 2).field("pad32", 4).done();

    /** struct xfs_dir3_free_hdr: directory free-index blocks, 64 bytes. */
    static final Layout DIR3_FREE = new Layout("directory free block", 4)
            .field("magic", 4).field("crc", 4).field("blkno", 8).field("lsn", 8).field("uuid0", 8).field("uuid1", 8)
            .field("owner", 8).field("firstdb", 4).field("nvalid", 4).field("nused", 4).field("pad", 4).done();

    /** struct xfs_dsymlink_hdr: head of each remote symlink mapping, 56 bytes. */
    static final Layout SYMLINK = new Layout("remote symlink block", 12)
            .field("magic", 4).field("offset", 4).field("bytes", 4).field("crc", 4).field("uuid0", 8).field("uuid1", 8)
            .field("owner", 8).field("blkno", 8).field("lsn", 8).done();
}
