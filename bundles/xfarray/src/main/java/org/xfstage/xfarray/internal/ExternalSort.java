package org.xfstage.xfarray.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XFile;

/**
 * The sort of one {@link StagedArray}: external, on xfiles, with a heap bounded by constants.
 *
 * <ul>
 * <li>An array that fits one chunk is loaded into a direct buffer, sorted there ({@link ChunkSorter}) and
 * stored back.</li>
 * <li>With a key prefix: MSD radix. One pass counts the first prefix byte, a second scatters the records into
 * a new xfile in 256 buckets (through small bucket buffers); each bucket that fits a chunk is sorted in
 * memory by LSD radix on the remaining prefix bytes and the comparator on ties, in parallel; a larger bucket
 * recurses on the next byte. When the new file is complete it replaces the array's file.</li>
 * <li>Without one: every chunk is sorted in place (in parallel), then merge passes with a loser tree of up to
 * {@link #MERGE_FAN_IN} runs write a new xfile per pass, which replaces the array's file when complete.</li>
 * </ul>
 * Because the array's own file is only ever rewritten whole-chunk by whole-chunk, or replaced by a complete
 * file, a cancelled sort leaves it a permutation of its input.
 */
final class ExternalSort {
    /** Bytes of one in-memory chunk (each worker holds two): large enough that a 10^8-record sort has few runs. */
    static final int CHUNK_BYTES = 4 << 20;
    /** Cap on records per chunk, which bounds the heap of the index sort (an int per record). */
    static final int MAX_CHUNK_RECORDS = 1 << 20;
    /** Runs merged at once; 64 keeps the loser tree shallow and the read buffers at 4 MiB. */
    static final int MERGE_FAN_IN = 64;
    private static final int READ_BUFFER_BYTES = 64 << 10;
    private static final int SCATTER_BUFFER_BYTES = 16 << 10;
    private static final int STREAM_BUFFER_BYTES = 1 << 20;
    /** Records between two cancellation checks in the streaming passes. */
    private static final int CANCEL_CHECK_RECORDS = 1 << 16;

    private final StagedArray array;
    private final int r;
    private final RecordComparator comparator;
    private final int prefixOffset;
    private final int prefixLength;
    private final long n;
    private final int chunkRecords;
    private final Progress progress;
    private final int parallelism;
    private final BlockingQueue<ChunkSorter> sorters;
    private ExecutorService pool;
    private ByteBuffer stream;

    final LongAdder compares = new LongAdder();
    final LongAdder partitions = new LongAdder();
    final LongAdder loads = new LongAdder();
    final LongAdder stores = new LongAdder();

    ExternalSort(StagedArray array, RecordComparator comparator, SortOptions options, Progress progress) {
        this(array, comparator, options, progress, CHUNK_BYTES);
    }

    /** With a smaller {@code chunkBytes}, tests drive the radix and merge paths with little data. */
    ExternalSort(StagedArray array, RecordComparator comparator, SortOptions options, Progress progress, int chunkBytes) {
        this.array = array;
        this.r = array.recordSize();
        this.comparator = comparator;
        RecordComparator.KeyPrefix p = comparator.keyPrefix();
        if (p != null && (long) p.offset() + p.length() > r) {
            throw new IllegalArgumentException("key prefix " + p + " does not fit records of " + r + " bytes");
        }
        this.prefixOffset = p == null ? 0 : p.offset();
        this.prefixLength = p == null ? 0 : Math.min(p.length(), ChunkSorter.MAX_RADIX_BYTES);
        this.n = array.length();
        long perChunk = Math.min(MAX_CHUNK_RECORDS, chunkBytes / r);
        this.chunkRecords = (int) Math.max(1, Math.min(perChunk, n));
        this.progress = progress == null ? Progress.NONE : progress;
        this.parallelism = n > chunkRecords ? options.parallelism() : 1;
        this.sorters = new ArrayBlockingQueue<>(parallelism);
    }

    void run() throws StagingException {
        if (n < 2) {
            return;
        }
        for (int i = 0; i < parallelism; i++) {
            sorters.add(new ChunkSorter(r, comparator, chunkRecords));
        }
        if (parallelism > 1) {
            AtomicInteger id = new AtomicInteger();
            pool = Executors.newFixedThreadPool(parallelism, task -> {
                Thread t = new Thread(task, "xfarray-sort-" + array.name() + "-" + id.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        try {
            XFile file = array.file();
            if (n <= chunkRecords) {
                progress.total("sort: in memory", n);
                sortChunk(take(), file, 0, (int) n, 0);
            } else if (prefixLength > 0) {
                XFile out = array.newFile("sort");
                try {
                    msd(file, 0, out, 0, n, 0);
                } catch (StagingException | RuntimeException e) {
                    out.close();
                    throw e;
                }
                array.replaceFile(out);
            } else {
                progress.total("sort: chunks", n);
                sortChunks(file, 0, n, 0);
                for (long run = chunkRecords; run < n; run = Math.multiplyExact(run, (long) MERGE_FAN_IN)) {
                    checkCancelled();
                    XFile out = array.newFile("merge");
                    try {
                        progress.total("sort: merge runs of " + run, n);
                        mergePass(array.file(), 0, out, 0, n, run);
                    } catch (StagingException | RuntimeException e) {
                        out.close();
                        throw e;
                    }
                    array.replaceFile(out);
                }
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
            for (ChunkSorter s : sorters) {
                compares.add(s.compares);
            }
        }
    }

    private ChunkSorter take() {
        return sorters.remove();
    }

    private void checkCancelled() throws CancelledException {
        if (progress.isCancelled()) {
            throw new CancelledException("sort of xfarray '" + array.name() + "' cancelled; the array holds a permutation of its records");
        }
    }

    /** Loads records [start, start+count) of f, sorts them in memory, stores them back. */
    private void sortChunk(ChunkSorter s, XFile f, long start, int count, int depth) throws StagingException {
        ByteBuffer in = s.input();
        in.clear().limit(count * r);
        f.load(start * r, in);
        ByteBuffer out = s.sort(count, depth);
        out.clear().limit(count * r);
        f.store(start * r, out);
        loads.add(count);
        stores.add(count);
        partitions.increment();
        progress.increment(count);
    }

    private interface ChunkTask {
        void run(ChunkSorter sorter) throws StagingException;
    }

    /** Runs tasks on the pool (or here when sequential); each borrows a sorter. Fails with the first failure. */
    private void runAll(List<ChunkTask> tasks) throws StagingException {
        if (pool == null) {
            ChunkSorter s = take();
            try {
                for (ChunkTask t : tasks) {
                    checkCancelled();
                    t.run(s);
                }
            } finally {
                sorters.add(s);
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>(tasks.size());
        for (ChunkTask t : tasks) {
            futures.add(pool.submit(() -> {
                checkCancelled();
                ChunkSorter s = sorters.take();
                try {
                    t.run(s);
                } finally {
                    sorters.add(s);
                }
                return null;
            }));
        }
        StagingException failure = null;
        RuntimeException bug = null;
        for (Future<?> fu : futures) {
            try {
                fu.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                futures.forEach(x -> x.cancel(true));
                throw new CancelledException("sort of xfarray '" + array.name() + "' interrupted");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof StagingException se) {
                    failure = failure == null || failure instanceof CancelledException ? se : failure;
                } else if (c instanceof RuntimeException re) {
                    bug = re;
                } else if (c instanceof Error err) {
                    throw err;
                }
            }
        }
        if (bug != null) {
            throw bug;
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Sorts each chunk of region [start, start+count) of f in place. */
    private void sortChunks(XFile f, long start, long count, int depth) throws StagingException {
        List<ChunkTask> tasks = new ArrayList<>();
        for (long s = 0; s < count; s += chunkRecords) {
            long from = start + s;
            int len = (int) Math.min(chunkRecords, count - s);
            tasks.add(sorter -> sortChunk(sorter, f, from, len, depth));
        }
        runAll(tasks);
    }

    /**
     * Scatters region [s0, s0+count) of src by prefix byte {@code depth} into region [d0, d0+count) of dst,
     * then sorts every bucket there.
     */
    private void msd(XFile src, long s0, XFile dst, long d0, long count, int depth) throws StagingException {
        long[] bucketCount = new long[256];
        int keyAt = prefixOffset + depth;
        ByteBuffer buf = streamBuffer();
        int perRead = buf.capacity() / r;
        progress.total("sort: radix byte " + depth, count);
        for (long i = 0; i < count; i += perRead) {
            int k = (int) Math.min(perRead, count - i);
            buf.clear().limit(k * r);
            src.load((s0 + i) * r, buf);
            for (int j = 0, at = keyAt; j < k; j++, at += r) {
                bucketCount[buf.get(at) & 0xff]++;
            }
            checkCancelled();
        }
        long[] next = new long[256];
        long[] bucketStart = new long[256];
        long sum = 0;
        for (int v = 0; v < 256; v++) {
            bucketStart[v] = sum;
            next[v] = sum;
            sum += bucketCount[v];
        }
        int perBucket = Math.max(1, SCATTER_BUFFER_BYTES / r);
        ByteBuffer scatter = ByteBuffer.allocateDirect(256 * perBucket * r);
        int[] filled = new int[256];
        for (long i = 0; i < count; i += perRead) {
            int k = (int) Math.min(perRead, count - i);
            buf.clear().limit(k * r);
            src.load((s0 + i) * r, buf);
            for (int j = 0, at = 0; j < k; j++, at += r) {
                int v = buf.get(at + keyAt) & 0xff;
                int slot = filled[v]++;
                Records.copy(buf, at, scatter, (v * perBucket + slot) * r, r);
                if (filled[v] == perBucket) {
                    flushBucket(scatter, v, perBucket, filled, dst, d0, next);
                }
            }
            loads.add(k);
            progress.increment(k);
            checkCancelled();
        }
        for (int v = 0; v < 256; v++) {
            if (filled[v] > 0) {
                flushBucket(scatter, v, perBucket, filled, dst, d0, next);
            }
        }
        List<ChunkTask> small = new ArrayList<>();
        for (int v = 0; v < 256; v++) {
            long c = bucketCount[v];
            if (c == 0) {
                continue;
            }
            partitions.increment();
            long at = d0 + bucketStart[v];
            if (c == 1) {
                continue;
            }
            if (c <= chunkRecords) {
                small.add(sorter -> sortChunk(sorter, dst, at, (int) c, depth + 1));
            } else {
                sortRegion(dst, at, c, depth + 1);
            }
        }
        runAll(small);
    }

    private void flushBucket(ByteBuffer scatter, int v, int perBucket, int[] filled, XFile dst, long d0, long[] next)
            throws StagingException {
        int k = filled[v];
        ByteBuffer view = scatter.duplicate();
        view.limit((v * perBucket + k) * r).position(v * perBucket * r);
        dst.store((d0 + next[v]) * r, view);
        next[v] += k;
        stores.add(k);
        filled[v] = 0;
    }

    /** Sorts region [start, start+count) of f (not the array's own file), leaving the result in place. */
    private void sortRegion(XFile f, long start, long count, int depth) throws StagingException {
        XFile tmp = array.newFile("sort bucket");
        try {
            if (depth < prefixLength) {
                msd(f, start, tmp, 0, count, depth);
                copy(tmp, 0, f, start, count);
                return;
            }
            // the whole prefix is equal: order by the comparator, with merge passes between f and tmp
            sortChunks(f, start, count, depth);
            XFile from = f;
            long fromStart = start;
            XFile to = tmp;
            long toStart = 0;
            for (long run = chunkRecords; run < count; run = Math.multiplyExact(run, (long) MERGE_FAN_IN)) {
                mergePass(from, fromStart, to, toStart, count, run);
                XFile t = from;
                from = to;
                to = t;
                long ts = fromStart;
                fromStart = toStart;
                toStart = ts;
            }
            if (from != f) {
                copy(from, fromStart, f, start, count);
            }
        } finally {
            tmp.close();
        }
    }

    private ByteBuffer streamBuffer() {
        if (stream == null) {
            stream = ByteBuffer.allocateDirect(Math.max(r, STREAM_BUFFER_BYTES / r * r)).order(ByteOrder.BIG_ENDIAN);
        }
        return stream;
    }

    private void copy(XFile src, long s0, XFile dst, long d0, long count) throws StagingException {
        ByteBuffer buf = streamBuffer();
        int per = buf.capacity() / r;
        for (long i = 0; i < count; i += per) {
            int k = (int) Math.min(per, count - i);
            buf.clear().limit(k * r);
            src.load((s0 + i) * r, buf);
            buf.flip();
            dst.store((d0 + i) * r, buf);
            checkCancelled();
        }
    }

    /** Merges sorted runs of {@code run} records of src's region into dst's region, up to MERGE_FAN_IN at a time. */
    private void mergePass(XFile src, long s0, XFile dst, long d0, long count, long run) throws StagingException {
        long group = Math.multiplyExact(run, (long) MERGE_FAN_IN);
        for (long g = 0; g < count; g += group) {
            long len = Math.min(group, count - g);
            int k = (int) ((len + run - 1) / run);
            if (k == 1) {
                copy(src, s0 + g, dst, d0 + g, len);
                progress.increment(len);
            } else {
                new Merge(src, s0 + g, dst, d0 + g, len, run, k).run();
            }
        }
    }

    /** One k-way merge with a loser tree (Knuth, TAOCP 5.4.1): log2(k) comparisons per record. */
    private final class Merge {
        private final XFile src;
        private final XFile dst;
        private final long d0;
        private final long count;
        private final int k;
        private final ByteBuffer[] in;
        private final long[] next;
        private final long[] end;
        private final int[] pos;
        private final int[] lim;
        private final int[] tree;
        private long merged;
        private long compared;

        Merge(XFile src, long s0, XFile dst, long d0, long count, long run, int k) {
            this.src = src;
            this.dst = dst;
            this.d0 = d0;
            this.count = count;
            this.k = k;
            int per = Math.max(1, READ_BUFFER_BYTES / r);
            ByteBuffer all = ByteBuffer.allocateDirect(k * per * r).order(ByteOrder.BIG_ENDIAN);
            in = new ByteBuffer[k];
            next = new long[k];
            end = new long[k];
            pos = new int[k];
            lim = new int[k];
            tree = new int[k];
            for (int i = 0; i < k; i++) {
                in[i] = all.slice(i * per * r, per * r).order(ByteOrder.BIG_ENDIAN);
                next[i] = s0 + i * run;
                end[i] = Math.min(s0 + (i + 1) * run, s0 + count);
            }
        }

        void run() throws StagingException {
            for (int i = 0; i < k; i++) {
                refill(i);
            }
            java.util.Arrays.fill(tree, k); // k is a virtual leaf that beats everything
            for (int s = k - 1; s >= 0; s--) {
                adjust(s);
            }
            ByteBuffer out = streamBuffer();
            out.clear();
            int outRecords = out.capacity() / r;
            int inOut = 0;
            for (long m = 0; m < count; m++) {
                int w = tree[0];
                Records.copy(in[w], pos[w], out, inOut * r, r);
                inOut++;
                pos[w] += r;
                if (pos[w] == lim[w]) {
                    refill(w);
                }
                adjust(w);
                if (inOut == outRecords) {
                    flush(out, inOut);
                    inOut = 0;
                }
            }
            flush(out, inOut);
            compares.add(compared);
        }

        private void flush(ByteBuffer out, int records) throws StagingException {
            if (records == 0) {
                return;
            }
            out.clear().limit(records * r);
            dst.store((d0 + merged) * r, out);
            merged += records;
            stores.add(records);
            progress.increment(records);
            checkCancelled();
        }

        private void refill(int i) throws StagingException {
            long left = end[i] - next[i];
            if (left <= 0) {
                lim[i] = -1; // exhausted
                pos[i] = 0;
                return;
            }
            int k1 = (int) Math.min(in[i].capacity() / r, left);
            ByteBuffer b = in[i];
            b.clear().limit(k1 * r);
            src.load(next[i] * r, b);
            next[i] += k1;
            pos[i] = 0;
            lim[i] = k1 * r;
            loads.add(k1);
        }

        /** Whether leaf x beats leaf y (comes first); exhausted runs lose to all. */
        private boolean beats(int x, int y) {
            if (x == k) {
                return true;
            }
            if (y == k) {
                return false;
            }
            if (lim[x] < 0) {
                return false;
            }
            if (lim[y] < 0) {
                return true;
            }
            compared++;
            return comparator.compare(in[x], pos[x], in[y], pos[y]) <= 0;
        }

        private void adjust(int s) {
            for (int t = (s + k) >> 1; t > 0; t >>= 1) {
                if (beats(tree[t], s)) {
                    int tmp = tree[t];
                    tree[t] = s;
                    s = tmp;
                }
            }
            tree[0] = s;
        }
    }
}
