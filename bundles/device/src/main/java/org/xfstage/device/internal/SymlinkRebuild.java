package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * The XSLM headers of a remote symlink's blocks written again when the target they hold still reads and agrees with
 * the inode's size: each block keeps its magic, the part of the target it says it holds (offset and byte count, which
 * must be where the previous block's bytes end and what the size leaves for it) and the target bytes (no NUL); the
 * owner, the place (blkno), the uuid and the checksum are set. xfs_repair 6.1 only rewrites a bad checksum ("Correcting
 * CRC, but symlink may be bad") and clears the inode for a wrong owner or place; the target itself proves those fields,
 * so the link is kept here. Anything that makes the target doubtful (no magic, another offset or byte count, a NUL, a
 * mapping with holes) is refused: the caller clears the inode as xfs_repair does.
 */
final class SymlinkRebuild {
    private static final int HDR = 56;
    private static final int MAXLEN = 1024;

    private final XfsImage fs;
    private final Geometry g;

    SymlinkRebuild(XfsImage fs) {
        this.fs = fs;
        this.g = fs.geometry;
    }

    List<BlockImage> rebuild(long ino) throws XfsException {
        Inode inode = Inode.read(fs.image, g, ino);
        check(inode.mode != 0 && inode.checkedType() == FileType.SYMLINK, ino, "is not a symlink");
        check(inode.format == Inode.FMT_EXTENTS, ino, "keeps its target in the inode: it has no remote blocks");
        long size = inode.size;
        check(size > 0 && size < MAXLEN, ino, "has a target length of " + size + ", out of range");
        List<Inode.Extent> map = inode.extents(fs.image, g);
        int maxBlocks = (MAXLEN + g.blockSize - HDR - 1) / (g.blockSize - HDR); // xfs_symlink_blocks(XFS_SYMLINK_MAXLEN)
        List<BlockImage> out = new ArrayList<>();
        long expectedOff = 0;
        long done = 0;
        for (Inode.Extent e : map) {
            if (done >= size) {
                break;
            }
            check(e.startOff() == expectedOff && e.count() <= maxBlocks - expectedOff, ino,
                    "maps its target with a hole or too many blocks");
            expectedOff += e.count();
            long offset = g.fsbOffset(e.startBlock());
            byte[] buf = fs.image.read(offset, (int) e.count() * g.blockSize);
            Struct h = new Struct(Layouts.SYMLINK, buf, 0);
            long holds = Math.min(size - done, buf.length - HDR);
            check(h.get("magic") == Contents.SYMLINK_MAGIC, ino, "block " + e.startBlock() + " has no XSLM magic: it may hold anything");
            check(h.get("offset") == done && h.get("bytes") == holds, ino, "block " + e.startBlock() + " holds target bytes "
                    + h.get("offset") + "+" + h.get("bytes") + ", the size wants " + done + "+" + holds);
            for (int i = 0; i < holds; i++) {
                check(buf[HDR + i] != 0, ino, "has a NUL byte in its target");
            }
            h.set("owner", ino);
            h.set("blkno", offset >> 9);
            h.set("uuid0", g.metaUuid0);
            h.set("uuid1", g.metaUuid1);
            byte[] fixed = h.encode(0, buf.length);
            if (!Arrays.equals(fixed, buf)) {
                out.add(new BlockImage(offset, fixed, "remote symlink block " + e.startBlock() + " of inode " + ino));
            }
            done += holds;
        }
        check(done == size, ino, "maps " + done + " bytes of target, the size says " + size);
        check(!out.isEmpty(), ino, "has remote blocks that need nothing");
        // read back: the link as it would be written must break no rule of its target
        List<String> left = new ArrayList<>();
        try (XfsDevice view = fs.withPlanned(out)) {
            view.checkInode(ino, (InodeProblem p) -> {
                if (p.kind().structure() == InodeProblem.Structure.SYMLINK) {
                    left.add(p.describe());
                }
            });
        }
        check(left.isEmpty(), ino, "still breaks a rule with its headers written: " + left);
        return out;
    }

    private static void check(boolean ok, long ino, String what) throws XfsFormatException {
        if (!ok) {
            throw new XfsFormatException("symlink inode " + ino + " " + what, "symlink");
        }
    }
}
