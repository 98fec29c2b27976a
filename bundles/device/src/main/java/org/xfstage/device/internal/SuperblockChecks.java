package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Every plausibility check of a v5 superblock: the union of the kernel's read verifier (xfs_validate_sb_common, the
 * v5 feature checks of xfs_sb_good_version), xfs_repair's verify_sb (inode alignment, stripe unit against the AG
 * size, a log that is not empty) and what xfs_repair's phase 2 rewrites in every superblock (secondary_sb_whack:
 * garbage past the last field, sb_flags, sector fields without the SECTOR bit, bad_features2). Each failed check is a
 * {@link Problem}; those xfs_repair's verify_sb also fails are marked, because only they keep a copy from voting on
 * the geometry (xfs_repair counts a copy that passes verify_sb, and we must not refuse a filesystem it accepts).
 */
final class SuperblockChecks {
    static final long MAGIC = Headers.SB_MAGIC;

    /** sb_versionnum bits (xfs_format.h). */
    static final int VERSION_NUMBITS = 0x000f;
    static final int VERSION_NLINK = 0x0020;
    static final int VERSION_QUOTA = 0x0040;
    static final int VERSION_ALIGN = 0x0080;
    static final int VERSION_DALIGN = 0x0100;
    static final int VERSION_SHARED = 0x0200;
    static final int VERSION_LOGV2 = 0x0400;
    static final int VERSION_SECTOR = 0x0800;
    static final int VERSION_EXTFLG = 0x1000;
    static final int VERSION_DIRV2 = 0x2000;
    static final int VERSION_MOREBITS = 0x8000;
    /** The bits every v5 superblock has (xfs_sb_validate_v5_features: V5_VERS_FLAGS). */
    private static final int V5_VERSION_REQUIRED = VERSION_NLINK | VERSION_ALIGN | VERSION_LOGV2 | VERSION_EXTFLG | VERSION_DIRV2
            | VERSION_MOREBITS;

    /** sb_features2 bits. */
    private static final int F2_LAZYSBCOUNT = 0x2;
    private static final int F2_ATTR2 = 0x8;
    private static final int F2_PROJID32 = 0x80;
    private static final int F2_CRC = 0x100;
    private static final int F2_FTYPE = 0x200;
    private static final int F2_ALLOWED = F2_LAZYSBCOUNT | F2_ATTR2 | F2_PROJID32 | F2_CRC | F2_FTYPE;
    private static final int V5_F2_REQUIRED = F2_LAZYSBCOUNT | F2_ATTR2 | F2_PROJID32 | F2_CRC;

    /** sb_qflags OQUOTA_ENFD and OQUOTA_CHKD: v4 only. */
    private static final int QFLAGS_V4_ONLY = 0x0010 | 0x0020;

    /** XFS_AG_MIN_BYTES and XFS_AG_MAX_BYTES. */
    static final long AG_MIN_BYTES = 16L << 20;
    static final long AG_MAX_BYTES = 1L << 40;
    /** XFS_MIN_AG_BLOCKS: the last AG is at least this long. */
    private static final long MIN_AG_BLOCKS = 64;
    /** XFS_MAX_LOG_BLOCKS and XFS_MAX_LOG_BYTES (2 GiB less XFS_MIN_LOG_BYTES). */
    private static final long MAX_LOG_BLOCKS = 1024 * 1024;
    private static final long MAX_LOG_BYTES = (2L << 30) - (10L << 20);
    /** XLOG_MAX_RECORD_BSIZE: the largest log stripe unit. */
    private static final long MAX_LOG_SUNIT = 256 * 1024;
    /** XFS_MIN_RTEXTSIZE and XFS_MAX_RTEXTSIZE, in bytes. */
    private static final long MIN_RTEXT_BYTES = 4096;
    private static final long MAX_RTEXT_BYTES = 1L << 30;
    /** XFS_INODE_BIG_CLUSTER_SIZE and the smallest inode (XFS_DINODE_MIN_SIZE), for the inode alignment. */
    private static final long BIG_CLUSTER = 8192;
    private static final long DINODE_MIN = 256;
    private static final long INODES_PER_CHUNK = 64;
    private static final long NEEDSREPAIR = Geometry.FEAT_INCOMPAT_NEEDSREPAIR;
    /** NULLFSINO: no inode. */
    static final long NULLFSINO = -1;
    /** The quota inode fields; 0 reads as NULLFSINO on v5 (xfs_sb_quota_from_disk). */
    static final List<String> QUOTA_INODES = List.of("uquotino", "gquotino", "pquotino");

    /** End of the last field of a v5 superblock without META_UUID (sb_lsn) and with it (sb_meta_uuid). */
    static final int END_WITHOUT_META_UUID = Layouts.SB.get("lsn").offset() + 8;
    static final int END_WITH_META_UUID = Layouts.SB.size;

    private SuperblockChecks() {
    }

    /**
     * One failed check.
     *
     * @param text   what is wrong, in words
     * @param repair whether xfs_repair's verify_sb fails it too (then the superblock does not vote)
     */
    record Problem(String text, boolean repair) {
    }

    /**
     * The geometry a superblock votes with (xfs_repair's fs_geometry_t): two superblocks agree when these are equal.
     */
    record Tuple(long blockSize, long dblocks, long rblocks, long rextents, long logStart, long rextSize, long agBlocks,
            long agCount, long rbmBlocks, long logBlocks, long sectSize, long inodeSize, boolean align, boolean dalign,
            boolean extflg) {
        static Tuple of(Struct sb) {
            long v = sb.get("versionnum");
            return new Tuple(sb.get("blocksize"), sb.get("dblocks"), sb.get("rblocks"), sb.get("rextents"), sb.get("logstart"),
                    sb.get("rextsize"), sb.get("agblocks"), sb.get("agcount"), sb.get("rbmblocks"), sb.get("logblocks"),
                    sb.get("sectsize"), sb.get("inodesize"), (v & VERSION_ALIGN) != 0, (v & VERSION_DALIGN) != 0,
                    (v & VERSION_EXTFLG) != 0);
        }
    }

    /** The superblock fields of the geometry tuple, for reporting which of them differ. */
    static final List<String> TUPLE_FIELDS = List.of("blocksize", "dblocks", "rblocks", "rextents", "logstart", "rextsize",
            "agblocks", "agcount", "rbmblocks", "logblocks", "sectsize", "inodesize");

    /** The superblock at the start of {@code sector} (which holds at least its sector size when that is sane). */
    static Struct decode(byte[] sector) {
        return new Struct(Layouts.SB, sector, 0);
    }

    /** The sector size a superblock claims, when it is one the format allows; else 512 (the smallest). */
    static int claimedSectorSize(byte[] first512) {
        long ss = decode(first512).get("sectsize");
        return powerOfTwo(ss, 512, 32768) ? (int) ss : 512;
    }

    /**
     * Every check {@code sector} fails as a superblock, in the order xfs_repair makes them. A primary must also not
     * be marked as unfinished by mkfs (sb_inprogress); copies are.
     */
    static List<Problem> problems(byte[] sector, boolean primary) {
        List<Problem> out = new ArrayList<>();
        if (sector.length < Layouts.SB.size) {
            out.add(new Problem("too short for a superblock", true));
            return out;
        }
        Struct sb = decode(sector);
        if (sb.get("magicnum") != MAGIC) {
            out.add(new Problem("no XFS superblock magic (XFSB)", true));
            return out; // anything else would be noise read from a sector that is no superblock
        }
        long versionnum = sb.get("versionnum");
        long version = versionnum & VERSION_NUMBITS;
        if (version == 4) {
            out.add(new Problem("XFS v4 (without metadata checksums) is not supported; xfstage reads v5 filesystems", true));
            return out;
        }
        if (version != 5) {
            out.add(new Problem("unknown superblock version " + version, true));
            return out;
        }
        long features2 = sb.get("features2");
        if ((versionnum & VERSION_SHARED) != 0 || (versionnum & V5_VERSION_REQUIRED) != V5_VERSION_REQUIRED
                || (features2 & ~F2_ALLOWED) != 0 || (features2 & V5_F2_REQUIRED) != V5_F2_REQUIRED) {
            out.add(new Problem("bad version or feature bits (versionnum 0x" + Long.toHexString(versionnum) + ", features2 0x"
                    + Long.toHexString(features2) + ")", true));
        }
        if (primary && sb.get("inprogress") != 0) {
            out.add(new Problem("marked as unfinished by mkfs (sb_inprogress)", true));
        }
        long ss = sb.get("sectsize");
        boolean sectorOk = powerOfTwo(ss, 512, 32768) && (1L << sb.get("sectlog")) == ss;
        if (!sectorOk) {
            out.add(new Problem("bad sector size " + ss + " (sectlog " + sb.get("sectlog") + ")", true));
        } else if (sector.length < ss) {
            out.add(new Problem("shorter than its sector size " + ss, true));
            sectorOk = false;
        } else if (!Checksums.valid(sector, 0, (int) ss, Layouts.SB.crcOffset)) {
            out.add(new Problem("checksum mismatch", true));
        }
        long bs = sb.get("blocksize");
        long blocklog = sb.get("blocklog");
        boolean blockOk = blocklog >= 9 && blocklog <= 16 && bs == 1L << blocklog;
        if (!blockOk) {
            out.add(new Problem("bad block size " + bs + " (blocklog " + blocklog + ")", true));
        } else {
            if (bs < 1024) {
                out.add(new Problem("block size " + bs + " is below the v5 minimum of 1024", false));
            }
            if (sectorOk && ss > bs) {
                out.add(new Problem("sector size " + ss + " is larger than the block size " + bs, false));
            }
        }
        long agblocks = sb.get("agblocks");
        long agcount = sb.get("agcount");
        long dblocks = sb.get("dblocks");
        // agcount and agblocks are 32-bit and dblocks 64-bit unsigned: products saturate instead of wrapping
        if (agcount == 0 || agblocks == 0 || dblocks <= 0 || dblocks > times(agcount, agblocks)
                || dblocks < times(agcount - 1, agblocks) + MIN_AG_BLOCKS) {
            out.add(new Problem(agcount + " AGs of " + agblocks + " blocks do not add up to " + dblocks + " blocks", true));
        } else if (agcount != (dblocks + agblocks - 1) / agblocks) {
            out.add(new Problem("agcount " + agcount + " is not the AGs that " + dblocks + " blocks make", false));
        }
        if (agblocks == 0 || sb.get("agblklog") != 64 - Long.numberOfLeadingZeros(agblocks - 1)) {
            out.add(new Problem("agblklog " + sb.get("agblklog") + " does not match agblocks " + agblocks, true));
        }
        if (blockOk && (agblocks * bs < AG_MIN_BYTES || agblocks * bs > AG_MAX_BYTES)) {
            // also what bounds the AGs a lying superblock can make us visit
            out.add(new Problem("AGs of " + agblocks + " blocks are outside 16 MiB to 1 TiB", false));
        }
        long is = sb.get("inodesize");
        long inodelog = sb.get("inodelog");
        boolean inodeOk = inodelog >= 8 && inodelog <= 11 && is == 1L << inodelog;
        if (!inodeOk || sb.get("logsunit") > MAX_LOG_SUNIT || !blockOk || sb.get("inopblock") != (bs + is - 1) / is
                || blocklog - inodelog != sb.get("inopblog")) {
            out.add(new Problem("bad inode size " + is + " or inconsistent with inodes per block (inopblock "
                    + sb.get("inopblock") + ", inopblog " + sb.get("inopblog") + ")", true));
        }
        long logblocks = sb.get("logblocks");
        if (logblocks == 0 || logblocks > MAX_LOG_BLOCKS || blockOk && logblocks << blocklog > MAX_LOG_BYTES
                || blockOk && sb.get("logsunit") > 1 && sb.get("logsunit") % bs != 0) {
            out.add(new Problem("bad log geometry (logblocks " + logblocks + ", logsunit " + sb.get("logsunit") + ")", true));
        } else if (logblocks >= dblocks) {
            out.add(new Problem("log of " + logblocks + " blocks is not smaller than the filesystem", false));
        }
        long logsectsize = sb.get("logsectsize");
        long logsectlog = sb.get("logsectlog");
        if ((versionnum & VERSION_SECTOR) != 0) {
            if (!powerOfTwo(logsectsize, 512, 32768) || (1L << logsectlog) != logsectsize) {
                out.add(new Problem("bad log sector size " + logsectsize + " (logsectlog " + logsectlog + ")", true));
            }
        } else if (logsectsize != 0 || logsectlog != 0 || ss != 512 || sb.get("sectlog") != 9) {
            out.add(new Problem("bad log/data device sector size fields (logsectlog " + logsectlog + ", logsectsize "
                    + logsectsize + ") without the SECTOR feature bit", false));
        }
        long rextsize = sb.get("rextsize");
        if (!blockOk || rextsize * bs > MAX_RTEXT_BYTES || rextsize * bs < MIN_RTEXT_BYTES) {
            out.add(new Problem("bad realtime extent size " + rextsize, true));
        } else if (!realtimeOk(sb, bs)) {
            out.add(new Problem("bad realtime geometry (rblocks " + sb.get("rblocks") + ", rextents " + sb.get("rextents") + ")", true));
        }
        if (blockOk && inodeOk && !inodeAlignmentOk(sb, versionnum, blocklog, is)) {
            out.add(new Problem("bad inode alignment " + sb.get("inoalignmt") + " (spino_align " + sb.get("spino_align") + ")", true));
        } else if ((sb.get("features_incompat") & Geometry.FEAT_INCOMPAT_SPINODES) == 0 && sb.get("spino_align") != 0) {
            out.add(new Problem("spino_align " + sb.get("spino_align") + " without sparse inodes", false));
        }
        if (sb.get("imax_pct") > 100) {
            out.add(new Problem("imax_pct " + sb.get("imax_pct") + " is over 100", true));
        }
        String stripe = stripeProblem(sb, versionnum, bs);
        if (stripe != null) {
            out.add(new Problem(stripe, true));
        }
        if (blocklog + sb.get("dirblklog") > 16) {
            out.add(new Problem("directory blocks over 64 KiB (dirblklog " + sb.get("dirblklog") + ")", true));
        }
        if (sb.get("shared_vn") != 0) {
            out.add(new Problem("shared_vn " + sb.get("shared_vn") + " is not 0", false));
        }
        if ((sb.get("qflags") & QFLAGS_V4_ONLY) != 0) {
            out.add(new Problem("v4 quota flags 0x" + Long.toHexString(sb.get("qflags")) + " on a v5 filesystem", false));
        }
        if (sb.get("flags") != 0) {
            out.add(new Problem("bad flags field " + sb.get("flags"), false));
        }
        if (primary) {
            out.addAll(inodeProblems(sb, versionnum));
        } else if (sb.get("inprogress") == 1) {
            // a copy as mkfs wrote it never has quota inodes or flags (growfs, which copies the primary, clears
            // inprogress): xfs_repair's secondary_sb_quota warns of each and rewrites the copy
            for (String f : QUOTA_INODES) {
                if (!noInode(sb.get(f))) {
                    out.add(new Problem("non-null " + f + " " + Long.toUnsignedString(sb.get(f)) + " in a copy mkfs made", false));
                }
            }
            if (sb.get("qflags") != 0) {
                out.add(new Problem("non-null quota flags 0x" + Long.toHexString(sb.get("qflags")) + " in a copy mkfs made", false));
            }
        }
        if (sb.get("bad_features2") != features2) {
            out.add(new Problem("bad_features2 0x" + Long.toHexString(sb.get("bad_features2")) + " differs from features2 0x"
                    + Long.toHexString(features2), false));
        }
        if (sectorOk) {
            int end = (sb.get("features_incompat") & Geometry.FEAT_INCOMPAT_META_UUID) != 0 ? END_WITH_META_UUID : END_WITHOUT_META_UUID;
            for (int i = end; i < ss; i++) {
                if (sector[i] != 0) {
                    out.add(new Problem("garbage past its last field (byte " + i + " of the sector is not zero)", false));
                    break;
                }
            }
        }
        return out;
    }

    /**
     * The inode numbers of a primary. mkfs allocates the root directory, then the realtime bitmap and summary inodes,
     * as the first three inodes of the first chunk, and xfs_repair resets rbmino and rsumino to the root's next two
     * (calc_mkfs: "inconsistent with calculated value"); a damaged rootino breaks the same relation. Without the
     * quota bit no quota inode exists, so each quota field is 0 or NULLFSINO, as xfs_repair accepts (it clears any
     * other value: "quota information would be cleared", or a directory entry naming it is cut).
     */
    private static List<Problem> inodeProblems(Struct sb, long versionnum) {
        List<Problem> out = new ArrayList<>();
        long root = sb.get("rootino");
        if (sb.get("rbmino") != root + 1 || sb.get("rsumino") != root + 2) {
            out.add(new Problem("root, realtime bitmap and summary inodes " + ino(root) + ", " + ino(sb.get("rbmino")) + ", "
                    + ino(sb.get("rsumino")) + " are not the three consecutive inodes mkfs allocates", false));
        }
        if ((versionnum & VERSION_QUOTA) == 0) {
            for (String f : QUOTA_INODES) {
                if (!noInode(sb.get(f))) {
                    out.add(new Problem(f + " " + ino(sb.get(f)) + " without the quota feature (must be 0 or NULLFSINO)", false));
                }
            }
        }
        return out;
    }

    /** Whether an inode field names no inode: 0 or NULLFSINO. */
    static boolean noInode(long ino) {
        return ino == 0 || ino == NULLFSINO;
    }

    private static String ino(long ino) {
        return ino == NULLFSINO ? "NULLFSINO" : Long.toUnsignedString(ino);
    }

    private static boolean realtimeOk(Struct sb, long bs) {
        long rblocks = sb.get("rblocks");
        long rextents = sb.get("rextents");
        if (rblocks == 0) {
            return rextents == 0 && sb.get("rbmblocks") == 0 && sb.get("rextslog") == 0 && sb.get("frextents") == 0;
        }
        long rextsize = sb.get("rextsize");
        long highbit = rextents == 0 ? -1 : 63 - Long.numberOfLeadingZeros(rextents & 0xffffffffL);
        return rblocks / rextsize == rextents && sb.get("rextslog") == highbit
                && sb.get("rbmblocks") == (rextents + 8 * bs - 1) / (8 * bs);
    }

    /** xfs_repair's sb_validate_ino_align, with the kernel's sparse inode rules. */
    private static boolean inodeAlignmentOk(Struct sb, long versionnum, long blocklog, long is) {
        long inoalignmt = sb.get("inoalignmt");
        long spino = sb.get("spino_align");
        boolean sparse = (sb.get("features_incompat") & Geometry.FEAT_INCOMPAT_SPINODES) != 0;
        if (sparse) {
            // the kernel: inode chunks aligned to their own size, sparse chunks to the scaled cluster size
            long scaled = (BIG_CLUSTER * is / DINODE_MIN) >> blocklog;
            return inoalignmt == (INODES_PER_CHUNK * is) >> blocklog && spino == scaled;
        }
        if ((versionnum & VERSION_ALIGN) == 0) {
            return inoalignmt == 0;
        }
        return inoalignmt == BIG_CLUSTER >> blocklog || inoalignmt == (BIG_CLUSTER * is / DINODE_MIN) >> blocklog;
    }

    private static String stripeProblem(Struct sb, long versionnum, long bs) {
        long unit = sb.get("unit");
        long width = sb.get("width");
        if ((versionnum & VERSION_DALIGN) == 0) {
            return unit != 0 || width != 0 ? "stripe unit " + unit + " and width " + width + " without the DALIGN bit" : null;
        }
        if (unit == 0 && width != 0 || unit != 0 && sb.get("agblocks") % unit != 0) {
            return "bad stripe unit " + unit;
        }
        if (unit != 0 && width == 0 || width != 0 && unit != 0 && width % unit != 0 || width * bs > Integer.MAX_VALUE) {
            return "bad stripe width " + width;
        }
        return null;
    }

    /** Whether {@code problems} keep a superblock from voting (xfs_repair's verify_sb would fail it). */
    static boolean votes(List<Problem> problems) {
        return problems.stream().noneMatch(Problem::repair);
    }

    /** The incompatible feature bits of a superblock less NEEDSREPAIR, which a repair sets in the primary alone. */
    static long incompatForVote(Struct sb) {
        return sb.get("features_incompat") & ~NEEDSREPAIR;
    }

    private static long times(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE - MIN_AG_BLOCKS : a * b;
    }

    private static boolean powerOfTwo(long v, long min, long max) {
        return v >= min && v <= max && Long.bitCount(v) == 1;
    }
}
