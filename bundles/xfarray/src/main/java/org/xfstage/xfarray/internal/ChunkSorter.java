package org.xfstage.xfarray.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.xfstage.api.staging.RecordComparator;

/**
 * Sorts the records of one chunk held in a direct buffer, using a second buffer of the same size. With a
 * key prefix: LSD radix passes over the prefix bytes not yet used by the MSD levels above (at most
 * {@link #MAX_RADIX_BYTES}), then the comparator on runs of equal prefix. Without one: an introsort of
 * record indexes by the comparator, then one permutation pass. The heap used is the histogram and the index
 * array, both bounded by constants ({@link ExternalSort#MAX_CHUNK_RECORDS}).
 *
 * <p>One instance per worker thread; not thread-safe.
 */
final class ChunkSorter {
    /** Radix passes cover at most this many prefix bytes; longer prefixes tie-break by the comparator. */
    static final int MAX_RADIX_BYTES = 8;
    /** Below this many records, insertion sort beats partitioning (the JDK's threshold for primitives is 44). */
    private static final int INSERTION_THRESHOLD = 24;

    private final int recordSize;
    private final RecordComparator comparator;
    private final int prefixOffset;
    private final int prefixLength; // effective, capped to MAX_RADIX_BYTES; 0 without a prefix
    private final int[] counts = new int[MAX_RADIX_BYTES * 256];
    private final int[] index;
    private ByteBuffer a;
    private ByteBuffer b;
    long compares;

    ChunkSorter(int recordSize, RecordComparator comparator, int chunkRecords) {
        this.recordSize = recordSize;
        this.comparator = comparator;
        RecordComparator.KeyPrefix p = comparator.keyPrefix();
        this.prefixOffset = p == null ? 0 : p.offset();
        this.prefixLength = p == null ? 0 : Math.min(p.length(), MAX_RADIX_BYTES);
        this.index = new int[chunkRecords];
        int bytes = chunkRecords * recordSize;
        this.a = ByteBuffer.allocateDirect(bytes).order(ByteOrder.BIG_ENDIAN);
        this.b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.BIG_ENDIAN);
    }

    /** The buffer to fill before {@link #sort}; after it, {@link #sort} returns the buffer holding the result. */
    ByteBuffer input() {
        return a;
    }

    /**
     * Sorts {@code n} records in {@link #input()}, whose prefix bytes before {@code depth} are known equal.
     *
     * @return the buffer that holds the sorted records (the input buffer or its twin)
     */
    ByteBuffer sort(int n, int depth) {
        a.clear(); // absolute access below is checked against the limit, which the caller's load moved
        b.clear();
        if (n > 1) {
            if (depth < prefixLength) {
                radix(n, depth);
                tieBreak(n);
            } else {
                sortRange(0, n);
            }
        }
        return a;
    }

    private void radix(int n, int depth) {
        int digits = prefixLength - depth;
        java.util.Arrays.fill(counts, 0, digits * 256, 0);
        int base = prefixOffset + depth;
        for (int i = 0, at = base; i < n; i++, at += recordSize) {
            for (int d = 0; d < digits; d++) {
                counts[(d << 8) + (a.get(at + d) & 0xff)]++;
            }
        }
        for (int d = digits - 1; d >= 0; d--) {
            int off = d << 8;
            if (singleBucket(off, n)) {
                continue; // every record has the same byte here: the pass would change nothing
            }
            int sum = 0;
            for (int v = 0; v < 256; v++) {
                int c = counts[off + v];
                counts[off + v] = sum;
                sum += c;
            }
            for (int i = 0, at = 0; i < n; i++, at += recordSize) {
                int v = a.get(at + base + d) & 0xff;
                int slot = counts[off + v]++;
                Records.copy(a, at, b, slot * recordSize, recordSize);
            }
            ByteBuffer t = a;
            a = b;
            b = t;
        }
    }

    private boolean singleBucket(int off, int n) {
        for (int v = 0; v < 256; v++) {
            int c = counts[off + v];
            if (c != 0) {
                return c == n;
            }
        }
        return true;
    }

    /** After radix passes, sorts each run of records with equal radix bytes by the comparator. */
    private void tieBreak(int n) {
        int from = 0;
        while (from < n) {
            int to = from + 1;
            while (to < n && samePrefix(from, to)) {
                to++;
            }
            if (to - from > 1) {
                sortRange(from, to);
            }
            from = to;
        }
    }

    private boolean samePrefix(int i, int j) {
        int x = i * recordSize + prefixOffset;
        int y = j * recordSize + prefixOffset;
        for (int k = 0; k < prefixLength; k++) {
            if (a.get(x + k) != a.get(y + k)) {
                return false;
            }
        }
        return true;
    }

    /** Sorts records [from, to) of {@code a} by the comparator: index introsort, then a permutation pass. */
    private void sortRange(int from, int to) {
        int n = to - from;
        for (int i = 0; i < n; i++) {
            index[i] = from + i;
        }
        introsort(0, n, 2 * (32 - Integer.numberOfLeadingZeros(n)));
        boolean moved = false;
        for (int i = 0; i < n; i++) {
            if (index[i] != from + i) {
                moved = true;
                break;
            }
        }
        if (!moved) {
            return;
        }
        for (int i = 0; i < n; i++) {
            Records.copy(a, index[i] * recordSize, b, (from + i) * recordSize, recordSize);
        }
        int bytes = n * recordSize;
        a.put(from * recordSize, b, from * recordSize, bytes);
    }

    private int cmp(int i, int j) {
        compares++;
        return comparator.compare(a, i * recordSize, a, j * recordSize);
    }

    private void introsort(int lo, int hi, int depthLimit) {
        while (hi - lo > INSERTION_THRESHOLD) {
            if (depthLimit-- == 0) {
                heapsort(lo, hi);
                return;
            }
            // median of three as pivot, then a three-way partition so that many equal keys cost nothing
            int mid = (lo + hi) >>> 1;
            int p = median(lo, mid, hi - 1);
            int pivot = index[p];
            int lt = lo;
            int gt = hi - 1;
            int i = lo;
            while (i <= gt) {
                int c = cmp(index[i], pivot);
                if (c < 0) {
                    swap(lt++, i++);
                } else if (c > 0) {
                    swap(i, gt--);
                } else {
                    i++;
                }
            }
            // recurse into the smaller side, loop on the larger: stack depth stays logarithmic
            if (lt - lo < hi - gt - 1) {
                introsort(lo, lt, depthLimit);
                lo = gt + 1;
            } else {
                introsort(gt + 1, hi, depthLimit);
                hi = lt;
            }
        }
        insertion(lo, hi);
    }

    private int median(int x, int y, int z) {
        int a1 = index[x];
        int b1 = index[y];
        int c1 = index[z];
        if (cmp(a1, b1) < 0) {
            return cmp(b1, c1) < 0 ? y : (cmp(a1, c1) < 0 ? z : x);
        }
        return cmp(a1, c1) < 0 ? x : (cmp(b1, c1) < 0 ? z : y);
    }

    private void insertion(int lo, int hi) {
        for (int i = lo + 1; i < hi; i++) {
            int v = index[i];
            int j = i - 1;
            while (j >= lo && cmp(index[j], v) > 0) {
                index[j + 1] = index[j];
                j--;
            }
            index[j + 1] = v;
        }
    }

    private void heapsort(int lo, int hi) {
        int n = hi - lo;
        for (int i = n / 2 - 1; i >= 0; i--) {
            sift(lo, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            swap(lo, lo + end);
            sift(lo, 0, end);
        }
    }

    private void sift(int lo, int i, int n) {
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) {
                return;
            }
            if (child + 1 < n && cmp(index[lo + child + 1], index[lo + child]) > 0) {
                child++;
            }
            if (cmp(index[lo + i], index[lo + child]) >= 0) {
                return;
            }
            swap(lo + i, lo + child);
            i = child;
        }
    }

    private void swap(int i, int j) {
        int t = index[i];
        index[i] = index[j];
        index[j] = t;
    }
}
