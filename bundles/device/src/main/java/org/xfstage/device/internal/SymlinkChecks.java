package org.xfstage.device.internal;

import java.util.List;

import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsException;

/**
 * A symlink's target (repair/dinode.c process_symlink_extlist, process_symlink, process_symlink_remote; the kernel's
 * xfs_symlink_verify and xfs_symlink_hdr_ok): 1 to 1023 bytes, inline when it fits the data fork, otherwise in
 * remote blocks mapped contiguously from file block 0, each extent headed by one XSLM header that says which bytes
 * of the target it holds; no NUL byte anywhere in it. A short target may legally sit in extents format (an
 * attribute fork was added and removed).
 */
final class SymlinkChecks {
    /** XFS_SYMLINK_MAXLEN: the kernel makes targets of at most 1023 bytes. */
    static final int MAXLEN = 1024;
    private static final int HDR = 56;
    private final InodeChecks c;
    /** xfs_symlink_blocks(XFS_SYMLINK_MAXLEN): blocks a target of the largest size needs. */
    private final int maxBlocks;

    SymlinkChecks(InodeChecks c) {
        this.c = c;
        int perBlock = c.g.blockSize - HDR;
        this.maxBlocks = (MAXLEN + perBlock - 1) / perBlock;
    }

    void check(InodeChecks.Run run, int dataFork, List<Inode.Extent> map, boolean mapComplete) throws XfsException {
        Inode inode = run.inode;
        long size = inode.size;
        if (size == 0 || size >= MAXLEN) {
            run.core(Kind.SYMLINK_LENGTH, size, MAXLEN - 1);
            return;
        }
        if (inode.format == Inode.FMT_LOCAL) {
            if (size > dataFork) {
                run.core(Kind.SYMLINK_FORMAT, size, dataFork);
                return;
            }
            nul(run, inode.core.raw(), Inode.CORE_SIZE, (int) size, 0);
            return;
        }
        if (!mapComplete) {
            return; // the extent map's own problems are reported; its blocks cannot be trusted to hold the target
        }
        if (size > dataFork && map.size() > maxBlocks) {
            run.add(new InodeProblem(inode.ino, Kind.SYMLINK_MAPPING, false, maxBlocks, map.size(), maxBlocks));
            return;
        }
        long expectedOffset = 0;
        for (int i = 0; i < map.size(); i++) {
            Inode.Extent e = map.get(i);
            if (e.startOff() != expectedOffset || e.count() > maxBlocks - expectedOffset) {
                run.add(new InodeProblem(inode.ino, Kind.SYMLINK_MAPPING, false, i, e.startOff(), expectedOffset));
                return;
            }
            expectedOffset += e.count();
        }
        long done = 0;
        for (Inode.Extent e : map) {
            if (done >= size) {
                break;
            }
            long fsb = e.startBlock();
            long offset = c.g.fsbOffset(fsb);
            byte[] buf = c.image.read(offset, (int) e.count() * c.g.blockSize);
            Struct h = new Struct(Layouts.SYMLINK, buf, 0);
            if (h.get("magic") != Contents.SYMLINK_MAGIC) {
                run.add(new InodeProblem(inode.ino, Kind.SYMLINK_MAGIC, false, fsb, h.get("magic"), Contents.SYMLINK_MAGIC));
                return;
            }
            if (!h.crcValid(0, buf.length)) {
                run.add(new InodeProblem(inode.ino, Kind.SYMLINK_CRC, false, fsb, -1, -1)); // the bytes may still be right
            }
            if (h.get("owner") != inode.ino) {
                run.add(new InodeProblem(inode.ino, Kind.SYMLINK_OWNER, false, fsb, h.get("owner"), inode.ino));
                return;
            }
            if (h.get("blkno") != offset >> 9 || !Headers.sameUuid(h, c.g)) {
                run.add(new InodeProblem(inode.ino, Kind.SYMLINK_HEADER, false, fsb, h.get("blkno"), offset >> 9));
                return;
            }
            if (h.get("offset") != done) {
                run.add(new InodeProblem(inode.ino, Kind.SYMLINK_OFFSET, false, fsb, h.get("offset"), done));
                return;
            }
            long holds = Math.min(size - done, buf.length - HDR);
            if (h.get("bytes") != holds) {
                run.add(new InodeProblem(inode.ino, Kind.SYMLINK_BYTES, false, fsb, h.get("bytes"), holds));
                return;
            }
            if (nul(run, buf, HDR, (int) holds, done)) {
                return;
            }
            done += holds;
        }
        if (done != size) {
            run.add(new InodeProblem(inode.ino, Kind.SYMLINK_TARGET, false, -1, done, size));
        }
    }

    /** Reports the first NUL byte of {@code b[from, from+len)} (at its place in the target); whether there was one. */
    private static boolean nul(InodeChecks.Run run, byte[] b, int from, int len, long targetOffset) {
        for (int i = 0; i < len; i++) {
            if (b[from + i] == 0) {
                run.add(new InodeProblem(run.inode.ino, Kind.SYMLINK_NUL, false, targetOffset + i, 0, -1));
                return true;
            }
        }
        return false;
    }
}
