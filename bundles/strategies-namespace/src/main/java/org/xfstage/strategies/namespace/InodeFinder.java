package org.xfstage.strategies.namespace;

import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * Looks inodes up in the sorted inode map, starting from the last one found: the entries of a directory mostly name
 * inodes made one after the other, so a short gallop forward from there usually finds the next one in two or three
 * loads where a binary search of the whole map would take twenty.
 */
final class InodeFinder {
    private final XfArray map;
    private final InodeMapRecord rec = new InodeMapRecord();
    private final long length;
    private long last = -1;

    InodeFinder(XfArray sortedInodeMap) {
        this.map = sortedInodeMap;
        this.length = sortedInodeMap.length();
    }

    /** The state of inode {@code ino}, or null when no chunk holds it. */
    InodeMapRecord.State state(long ino) throws StagingException {
        long lo = 0;
        long hi = length - 1;
        if (last >= 0 && rec.load(map, last).ino() <= ino) {
            // gallop forward from the last find until the bracket holds ino
            lo = last;
            long step = 1;
            while (lo + step <= hi && rec.load(map, lo + step).ino() <= ino) {
                lo += step;
                step <<= 1;
            }
            hi = Math.min(hi, lo + step);
        }
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long at = rec.load(map, mid).ino();
            if (at < ino) {
                lo = mid + 1;
            } else if (at > ino) {
                hi = mid - 1;
            } else {
                last = mid;
                return rec.state();
            }
        }
        return null;
    }
}
