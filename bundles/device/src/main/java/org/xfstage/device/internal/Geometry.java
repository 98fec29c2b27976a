package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.device.XfsFormatException;

/**
 * What the superblock says about addressing: sizes, shifts, features. Also turns block and inode numbers into
 * byte offsets, refusing any that lie outside the filesystem.
 */
final class Geometry {
    static final int FEAT_RO_FINOBT = 0x1;
    static final int FEAT_RO_RMAPBT = 0x2;
    static final int FEAT_RO_REFLINK = 0x4;
    static final int FEAT_RO_INOBTCNT = 0x8;
    static final int FEAT_INCOMPAT_FTYPE = 0x1;
    static final int FEAT_INCOMPAT_SPINODES = 0x2;
    static final int FEAT_INCOMPAT_META_UUID = 0x4;
    static final int FEAT_INCOMPAT_BIGTIME = 0x8;
    static final int FEAT_INCOMPAT_NEEDSREPAIR = 0x10;
    static final int FEAT_INCOMPAT_NREXT64 = 0x20;
    /** XFS_SB_VERSION_BORGBIT in sb_versionnum: directory names hash and compare without regard to ASCII case. */
    static final int VERSION_BORGBIT = 0x4000;
    /** Incompatible features this reader understands; any other bit makes the filesystem unreadable for us. */
    static final int FEAT_INCOMPAT_KNOWN = 0x3f;

    final int blockSize;
    final int blockLog;
    final int sectorSize;
    final int inodeSize;
    final int inodeLog;
    final int inopbLog;
    final int agCount;
    final long agBlocks;
    final int agBlkLog;
    final long dataBlocks;
    final int dirBlockSize;
    final int dirBlkLog;
    final long rootIno;
    final long logStart;
    final long logBlocks;
    final long metaUuid0;
    final long metaUuid1;
    final int roCompat;
    final int incompat;
    /** Blocks an inode chunk's start is aligned to (sb_inoalignmt; v5 always has the ALIGN feature). */
    final long inoAlignBlocks;
    /** Blocks a sparse inode allocation takes and is aligned to (sb_spino_align; 0 without sparse inodes). */
    final long spinoAlignBlocks;
    final boolean asciiCi;

    Geometry(Struct sb) {
        blockSize = (int) sb.get("blocksize");
        blockLog = (int) sb.get("blocklog");
        sectorSize = (int) sb.get("sectsize");
        inodeSize = (int) sb.get("inodesize");
        inodeLog = (int) sb.get("inodelog");
        inopbLog = (int) sb.get("inopblog");
        agCount = (int) sb.get("agcount");
        agBlocks = sb.get("agblocks");
        agBlkLog = (int) sb.get("agblklog");
        dataBlocks = sb.get("dblocks");
        dirBlkLog = (int) sb.get("dirblklog");
        dirBlockSize = blockSize << Math.min(dirBlkLog, 16);
        rootIno = sb.get("rootino");
        logStart = sb.get("logstart");
        logBlocks = sb.get("logblocks");
        roCompat = (int) sb.get("features_ro_compat");
        incompat = (int) sb.get("features_incompat");
        inoAlignBlocks = sb.get("inoalignmt");
        spinoAlignBlocks = sb.get("spino_align");
        asciiCi = (sb.get("versionnum") & VERSION_BORGBIT) != 0;
        boolean metaUuid = (incompat & FEAT_INCOMPAT_META_UUID) != 0;
        metaUuid0 = sb.get(metaUuid ? "meta_uuid0" : "uuid0");
        metaUuid1 = sb.get(metaUuid ? "meta_uuid1" : "uuid1");
    }

    boolean hasFtype() {
        return (incompat & FEAT_INCOMPAT_FTYPE) != 0;
    }

    boolean hasSparseInodes() {
        return (incompat & FEAT_INCOMPAT_SPINODES) != 0;
    }

    boolean hasRmapbt() {
        return (roCompat & FEAT_RO_RMAPBT) != 0;
    }

    boolean hasFinobt() {
        return (roCompat & FEAT_RO_FINOBT) != 0;
    }

    List<String> featureNames() {
        List<String> f = new ArrayList<>(List.of("crc"));
        if (hasFinobt()) {
            f.add("finobt");
        }
        if ((roCompat & FEAT_RO_RMAPBT) != 0) {
            f.add("rmapbt");
        }
        if ((roCompat & FEAT_RO_REFLINK) != 0) {
            f.add("reflink");
        }
        if ((roCompat & FEAT_RO_INOBTCNT) != 0) {
            f.add("inobtcount");
        }
        if (hasFtype()) {
            f.add("ftype");
        }
        if (hasSparseInodes()) {
            f.add("sparse");
        }
        if ((incompat & FEAT_INCOMPAT_BIGTIME) != 0) {
            f.add("bigtime");
        }
        if ((incompat & FEAT_INCOMPAT_NREXT64) != 0) {
            f.add("nrext64");
        }
        if ((incompat & FEAT_INCOMPAT_META_UUID) != 0) {
            f.add("meta_uuid");
        }
        if (asciiCi) {
            f.add("ascii-ci");
        }
        return f;
    }

    /** Byte offset of block {@code agbno} of AG {@code agno}. */
    long agBlockOffset(int agno, long agbno) throws XfsFormatException {
        if (agno < 0 || agno >= agCount || agbno < 0 || agbno >= agBlocks) {
            throw new XfsFormatException("block " + agno + "/" + agbno + " is outside the filesystem (" + agCount
                    + " AGs of " + agBlocks + " blocks)");
        }
        long offset = ((long) agno * agBlocks + agbno) * blockSize;
        if (offset / blockSize >= dataBlocks) {
            throw new XfsFormatException("block " + agno + "/" + agbno + " is past the end of the data section");
        }
        return offset;
    }

    /** Byte offset of a filesystem block number (agno in the high bits, agbno below agblklog). */
    long fsbOffset(long fsb) throws XfsFormatException {
        // XFS_FSB_TO_AGNO keeps 32 bits of the AG number of the unsigned 64-bit number: bits above them (the sign bit
        // of a bmbt pointer too) are ignored by the kernel and xfs_repair, which read the block the low bits name; so
        // is it read here (InodeChecks#canonical reports nothing for it). A hole's -1 still names no AG.
        long agno = (fsb >>> agBlkLog) & 0xffffffffL;
        if (agno >= agCount) {
            throw new XfsFormatException("block number " + fsb + " names AG " + agno + " of " + agCount);
        }
        return agBlockOffset((int) agno, fsb & ((1L << agBlkLog) - 1));
    }

    /** Byte offset of inode {@code ino}. */
    long inodeOffset(long ino) throws XfsFormatException {
        int shift = agBlkLog + inopbLog;
        long agno = ino >>> shift;
        if (ino < 0 || agno >= agCount) {
            throw new XfsFormatException("inode " + ino + " is outside the filesystem");
        }
        long agbno = (ino >>> inopbLog) & ((1L << agBlkLog) - 1);
        long index = ino & ((1L << inopbLog) - 1);
        return agBlockOffset((int) agno, agbno) + index * inodeSize;
    }

    /** Blocks in AG {@code agno}: agblocks, less for a last AG that the data section cuts short. */
    long agLength(int agno) {
        return Math.min(agBlocks, dataBlocks - (long) agno * agBlocks);
    }

    boolean hasReflink() {
        return (roCompat & FEAT_RO_REFLINK) != 0;
    }

    /** agi_iblocks and agi_fblocks are kept (INOBTCNT). */
    boolean hasInobtCounts() {
        return (roCompat & FEAT_RO_INOBTCNT) != 0;
    }

    long agOf(long fsb) {
        return fsb >>> agBlkLog;
    }
}
