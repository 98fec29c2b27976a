package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * Where a repair's planned blocks lie, per the first scrub's space map: which part of that scrub's walk still holds
 * on a view with them in it. The inode walk reads inode chunks, bmbt blocks and the blocks of symlinks and of
 * attribute forks, never a directory's data fork (the tree walk reads those); the metadata is walked again by every
 * re-check, and free space is read by no walk.
 */
final class PlannedSpace {
    /** What the planned blocks reach. */
    enum Reach {
        /** Metadata and free space only: the inodes and the directory tree read as the first walk read them. */
        METADATA,
        /** Besides those, blocks of directories' data forks: the inodes read as they did, the tree does not. */
        DIRECTORIES,
        /** An inode chunk, a bmbt block or a file's block the inode walk reads: everything is read again. */
        INODES
    }

    /** Inodes whose data forks are looked up at most (a directory rebuild writes at most 10,000; past this: INODES). */
    private static final int MAX_OWNERS = 20_000;

    private final XfArray space;
    private final FsInfo info;
    private final long maxExtent;
    private final XfsDevice original;
    /** By inode: its data fork's extents as {agno, agbno, length} when it is a directory, else an empty list. */
    private final Map<Long, List<long[]>> directoryData = new HashMap<>();

    /**
     * @param space     the first scrub's space map, sorted
     * @param maxExtent the longest extent a mapping may have: no record of a file is longer
     * @param original  the image as the first scrub read it (the repair's open, nothing planned in it)
     */
    PlannedSpace(XfArray space, FsInfo info, long maxExtent, XfsDevice original) {
        this.space = space;
        this.info = info;
        this.maxExtent = maxExtent;
        this.original = original;
    }

    /** What {@code blocks} reach; INODES when it cannot be told. */
    Reach of(List<BlockImage> blocks) {
        try {
            Reach reach = Reach.METADATA;
            for (BlockImage b : blocks) {
                Reach r = of(b);
                if (r == Reach.INODES) {
                    return r;
                }
                if (r == Reach.DIRECTORIES) {
                    reach = r;
                }
            }
            return reach;
        } catch (StagingException | XfsException | RuntimeException e) {
            return Reach.INODES; // cannot tell: the re-check reads everything again
        }
    }

    private Reach of(BlockImage b) throws StagingException, XfsException {
        long agBytes = info.agBlocks() * info.blockSize();
        int agno = (int) (b.offset() / agBytes);
        long first = (b.offset() % agBytes) / info.blockSize();
        long last = (b.offset() % agBytes + b.bytes().length - 1) / info.blockSize();
        SpaceMapRecord r = new SpaceMapRecord();
        // the last record starting at or before the block's last, and those before it that may reach it
        long lo = 0;
        long hi = space.length() - 1;
        long at = -1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            r.load(space, mid);
            if (Long.compareUnsigned(r.position(), SpaceMapRecord.position(agno, last)) <= 0) {
                at = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        Reach reach = Reach.METADATA;
        // no extent of inode space is longer than the longest mapping: only those that start so close may reach it
        for (long i = at; i >= 0; i--) {
            r.load(space, i);
            if (r.agno() != agno || r.agbno() + maxExtent < first) {
                break;
            }
            if (r.end() <= first || !(r.use().isFile() || r.use() == SpaceUse.INODES)) {
                continue;
            }
            if (r.use() != SpaceUse.FILE_DATA || !inDirectoryData(r.owner(), agno, Math.max(first, r.agbno()),
                    Math.min(last, r.end() - 1))) {
                return Reach.INODES;
            }
            reach = Reach.DIRECTORIES;
        }
        return reach;
    }

    /** Whether blocks {@code from}..{@code to} of AG {@code agno} lie in the data fork of {@code ino}, a directory. */
    private boolean inDirectoryData(long ino, int agno, long from, long to) throws XfsException {
        List<long[]> extents = directoryData.get(ino);
        if (extents == null) {
            if (directoryData.size() >= MAX_OWNERS) {
                return false;
            }
            List<long[]> found = new ArrayList<>();
            if (original.fileType(ino) == FileType.DIRECTORY) {
                original.inodeMappings(ino, (ag, m) -> {
                    if (!m.attrFork() && !m.bmbt()) {
                        found.add(new long[] {ag, m.start(), m.length()});
                    }
                });
            }
            extents = found;
            directoryData.put(ino, extents);
        }
        // extents of one fork never overlap: the range lies in one, or runs on through adjacent ones in block order
        long next = from;
        boolean moved = true;
        while (next <= to && moved) {
            moved = false;
            for (long[] e : extents) {
                if (e[0] == agno && e[1] <= next && next < e[1] + e[2]) {
                    next = e[1] + e[2];
                    moved = true;
                }
            }
        }
        return next > to;
    }
}
