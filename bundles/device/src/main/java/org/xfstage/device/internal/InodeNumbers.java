package org.xfstage.device.internal;

/**
 * Which numbers can name an inode of this filesystem from a directory entry (xfs_verify_dir_ino): inside an AG,
 * between the first inode cluster after the AG headers and the last whole cluster of the AG (xfs_agino_range), and
 * not one of the inodes the superblock keeps for itself (realtime bitmap and summary, quotas). Whether an inode
 * chunk really holds the number is not known here: the inode btrees say that.
 */
final class InodeNumbers {
    /** XFS_SB_VERSION_ALIGNBIT: inode chunks are aligned to sb_inoalignmt blocks. */
    private static final long VERSION_ALIGNBIT = 0x0080;
    /** XFS_INODE_BIG_CLUSTER_SIZE: bytes of inodes read at once, for 256-byte inodes (scaled for larger ones on v5). */
    private static final long BIG_CLUSTER_SIZE = 8192;
    private static final long MIN_INODE_SIZE = 256;
    /** NULLFSINO: a superblock inode pointer that points nowhere. */
    private static final long NULL_INO = -1L;

    private final Geometry g;
    private final long firstAgino;
    private final long lastAgino;
    private final long lastAgLastAgino;
    private final long[] reserved;

    InodeNumbers(Struct sb, Geometry g) {
        this.g = g;
        long clusterSize = BIG_CLUSTER_SIZE;
        long inoalign = sb.get("inoalignmt");
        long scaled = BIG_CLUSTER_SIZE * g.inodeSize / MIN_INODE_SIZE;
        if (inoalign >= scaled / g.blockSize) {
            clusterSize = scaled;
        }
        long blocksPerCluster = Math.max(1, clusterSize / g.blockSize);
        boolean aligned = (sb.get("versionnum") & VERSION_ALIGNBIT) != 0 && inoalign >= blocksPerCluster;
        long align = aligned ? inoalign : 1;
        long agflBlock = 3L * g.sectorSize / g.blockSize; // XFS_AGFL_BLOCK: the AGFL is the fourth sector
        long firstBlock = roundUp(agflBlock + 1, align);
        firstAgino = firstBlock << g.inopbLog;
        lastAgino = (roundDown(g.agBlocks, align) << g.inopbLog) - 1;
        long lastAgLength = g.dataBlocks - (long) (g.agCount - 1) * g.agBlocks;
        lastAgLastAgino = (roundDown(lastAgLength, align) << g.inopbLog) - 1;
        reserved = new long[] {sb.get("rbmino"), sb.get("rsumino"), sb.get("uquotino"), sb.get("gquotino"), sb.get("pquotino")};
    }

    private static long roundUp(long v, long align) {
        return (v + align - 1) / align * align;
    }

    private static long roundDown(long v, long align) {
        return v / align * align;
    }

    /** Whether {@code ino} may be named by a directory entry. */
    boolean validForEntry(long ino) {
        if (ino <= 0) {
            return false;
        }
        for (long r : reserved) {
            if (r != 0 && r != NULL_INO && r == ino) {
                return false;
            }
        }
        int shift = g.agBlkLog + g.inopbLog;
        long agno = ino >>> shift;
        if (agno >= g.agCount) {
            return false;
        }
        long agino = ino & ((1L << shift) - 1);
        long last = agno == g.agCount - 1 ? lastAgLastAgino : lastAgino;
        return agino >= firstAgino && agino <= last;
    }
}
