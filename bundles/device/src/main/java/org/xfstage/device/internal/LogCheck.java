package org.xfstage.device.internal;

import org.xfstage.api.device.XfsException;

/**
 * Whether the internal log is clean, decided the way xfs_repair and xfs_logprint decide it (xlog_find_head,
 * xlog_find_tail): find the head by cycle numbers, find the last record header before it, and check that this
 * record is a lone unmount record that ends exactly at the head.
 */
final class LogCheck {
    private static final long RECORD_MAGIC = 0xFEEDBABEL;
    private static final int BB = 512;
    private static final int UNMOUNT_FLAG = 0x20;

    private LogCheck() {
    }

    /** Null when the log is clean (or external), else why it is not. */
    static String dirtyReason(Image image, Geometry g) throws XfsException {
        if (g.logStart == 0) {
            return null; // external log: not on this device
        }
        long start = g.fsbOffset(g.logStart);
        long logBBs = g.logBlocks << (g.blockLog - 9);
        if (logBBs < 2) {
            return "the log is too small (" + logBBs + " sectors)";
        }
        g.fsbOffset(g.logStart + g.logBlocks - 1);
        long c0 = cycle(image, start, 0);
        if (c0 == 0) {
            return null; // a zeroed log (xfs_repair -L leaves one): nothing to replay
        }
        // head: first sector whose cycle differs from sector 0's (the log is written in order), else 0
        long lo = 0;
        long hi = logBBs;
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (cycle(image, start, mid) == c0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        long head = lo % logBBs;
        // last record header before the head
        for (long k = 1; k <= logBBs; k++) {
            long i = Math.floorMod(head - k, logBBs);
            byte[] bb = image.read(start + i * BB, BB);
            if (Inode.u32(bb, 0) != RECORD_MAGIC) {
                continue;
            }
            long version = Inode.u32(bb, 8);
            long len = Inode.u32(bb, 12);
            long numLogops = Inode.u32(bb, 40);
            long hSize = Inode.u32(bb, 320);
            long hblks = version == 2 && hSize > 32768 ? (hSize + 32767) / 32768 : 1;
            long end = (i + hblks + (len + BB - 1) / BB) % logBBs;
            byte[] op = image.read(start + ((i + hblks) % logBBs) * BB, BB);
            int flags = op[9] & 0xff;
            if (end == head && numLogops == 1 && (flags & UNMOUNT_FLAG) != 0) {
                return null;
            }
            return "the log needs recovery (its last record is not a clean unmount): mount the filesystem to replay it, "
                    + "or run xfs_repair -L to zero it (losing its changes)";
        }
        return "the log has no record header: it is damaged; run xfs_repair -L";
    }

    private static long cycle(Image image, long start, long bb) throws XfsException {
        byte[] b = image.read(start + bb * BB, 8);
        long w0 = Inode.u32(b, 0);
        return w0 == RECORD_MAGIC ? Inode.u32(b, 4) : w0;
    }
}
