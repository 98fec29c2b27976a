package org.xfstage.repair.internal;

import java.util.Arrays;
import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.ReadSink;

/**
 * The byte ranges of the image one check read through its recording view of the device ({@link KeptChecks}), merged,
 * and whether a planned block lies in any of them. Bounded: past {@link #MAX_RANGES} disjoint ranges it stops recording
 * and says it {@link #overflowed()}, and such a check always runs again (a check that reads that much scattered
 * space reads it all again cheaper than the proof would be kept).
 * <p>
 * The ranges come in as the check reads them, mostly one after the other (a btree's blocks, an inode chunk's inodes):
 * a read that starts in or right after the last range extends it; the others are gathered and merged when the buffer
 * fills, and once more when the check has ended ({@link #finish()}).
 */
final class ReadRanges implements ReadSink {
    /** Disjoint ranges kept at most (two longs each: 512 KB); the big benchmark's checks read at most a few thousand. */
    static final int MAX_RANGES = 32_768;

    private long[] starts = new long[64];
    private long[] ends = new long[64];
    private int n;
    private boolean overflowed;
    private boolean finished;

    @Override
    public synchronized void read(long offset, int length) {
        if (overflowed || finished) {
            overflowed |= finished; // a read after the check ended: what it read is no longer known whole
            return;
        }
        long end = offset + Math.max(0, length);
        if (n > 0 && offset >= starts[n - 1] && offset <= ends[n - 1]) {
            ends[n - 1] = Math.max(ends[n - 1], end);
            return;
        }
        if (n == starts.length) {
            merge();
            if (n > starts.length / 2) { // still more than half full: grow, up to the bound
                if (starts.length >= MAX_RANGES) {
                    overflowed = true;
                    starts = ends = null;
                    n = 0;
                    return;
                }
                starts = Arrays.copyOf(starts, starts.length * 2);
                ends = Arrays.copyOf(ends, ends.length * 2);
            }
        }
        starts[n] = offset;
        ends[n++] = end;
    }

    /** The check has ended: the ranges merged for the lookups; a read told after this overflows them. */
    synchronized void finish() {
        if (!overflowed && !finished) {
            merge();
            starts = Arrays.copyOf(starts, n);
            ends = Arrays.copyOf(ends, n);
        }
        finished = true;
    }

    /** Whether more was read than is kept: then nothing can be told of what was read. */
    synchronized boolean overflowed() {
        return overflowed;
    }

    /** Disjoint ranges kept. */
    synchronized int size() {
        return n;
    }

    /** Whether any of {@code blocks} overlaps a range read (true when it cannot be told: overflowed, or not finished). */
    synchronized boolean touches(List<BlockImage> blocks) {
        if (overflowed || !finished) {
            return true;
        }
        for (BlockImage b : blocks) {
            if (touches(b.offset(), b.offset() + b.bytes().length)) {
                return true;
            }
        }
        return false;
    }

    /** Whether [{@code from}, {@code to}) overlaps a range read; the ranges are sorted and disjoint. */
    private boolean touches(long from, long to) {
        // the last range that starts before the block ends: the only one that may reach into it
        int lo = 0;
        int hi = n - 1;
        int at = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] < to) {
                at = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return at >= 0 && ends[at] > from;
    }

    /**
     * The ranges as their union, sorted and disjoint (touching ones joined): the starts and the ends sorted each on
     * its own, then swept in order (a start before an end at the same offset), a range of the union opening when none
     * is open and closing when the last open one ends.
     */
    private void merge() {
        long[] s = Arrays.copyOf(starts, n);
        long[] e = Arrays.copyOf(ends, n);
        Arrays.sort(s);
        Arrays.sort(e);
        int out = 0;
        int open = 0;
        int i = 0;
        int j = 0;
        long from = 0;
        while (j < e.length) { // bounded: i or j grows every pass
            if (i < s.length && s[i] <= e[j]) {
                if (open++ == 0) {
                    from = s[i];
                }
                i++;
            } else {
                if (--open == 0) {
                    starts[out] = from;
                    ends[out++] = e[j];
                }
                j++;
            }
        }
        n = out;
    }
}
