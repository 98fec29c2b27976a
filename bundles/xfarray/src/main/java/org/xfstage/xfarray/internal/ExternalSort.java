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
 * <li>With a key prefix: MSD radix on 11-bit digits of the key. One pass counts each record's leading digit (a
 * digit every record shares is skipped: nothing moves, the next one is counted), a second scatters the records
 * into a new xfile in up to 2048 buckets (through bucket buffers); each bucket that fits a chunk is sorted in
 * memory by LSD radix on the remaining key bits and the comparator on ties, in parallel; a larger bucket recurses
 * on the next digit. When the new file is complete it replaces the array's file.</li>
 * <li>Without one, a sort past one chunk looks for a prefix the comparator keeps to without saying so (most orders of staged
 * records start with a big-endian number): it sorts a sample of {@link #SAMPLE_RECORDS} records spread over the array
 * by the comparator, and takes the 8-byte field (or a record shorter than 8 bytes whole) that never decreases along
 * that order and tells most of the sample apart. The radix path above then sorts by it, and one pass over the
 * result checks every neighbouring pair with the comparator: a sorted sequence is proof of the order whatever the
 * field was; a pair out of order (the field agreed with the comparator on the sample only) sends the result, a
 * permutation of the input, to the merge sort below.</li>
 * <li>Otherwise: every chunk is sorted in place (in parallel), then merge passes with a loser tree of up to
 * {@link #ONE_PASS_FAN_IN} runs (then {@link #MERGE_FAN_IN} per pass) write a new xfile per pass, which replaces the array's file when complete.</li>
 * </ul>
 * Because the array's own file is only ever rewritten whole-chunk by whole-chunk, or replaced by a complete
 * file, a cancelled sort leaves it a permutation of its input. Unless the caller lets the sort consume it
 * ({@link SortOptions#consumeInput}): then the radix pass gives the array's whole pages back as it reads them and
 * the new file is not reserved ahead, so that the two together hold about one array's worth (and a page per bucket
 * being filled) instead of two; a cancelled sort then loses records.
 */
final class ExternalSort {
    /** Bytes of one in-memory chunk (each worker holds two): large enough that a 10^8-record sort has few runs. */
    static final int CHUNK_BYTES = 4 << 20;
    /** Cap on records per chunk, which bounds the heap of a chunk sort (24 bytes of arrays per record: 6 MiB). */
    static final int MAX_CHUNK_RECORDS = 1 << 18;
    /** Runs merged at once when they are too many for one pass; 64 keeps the loser tree shallow. */
    static final int MERGE_FAN_IN = 64;
    /**
     * Runs merged in one pass when there are no more than this: a 10^8-record sort of 16-byte records has 382 runs,
     * which two passes of 64 merge with as many comparisons (log2 382 = log2 64 + log2 6) but twice the copying of
     * every record through the xfiles; one pass of 382 makes the same comparisons and copies once. Each run's read
     * buffer is then {@link #MERGE_READ_BYTES} / 512 = 8 KiB, still two pages.
     */
    static final int ONE_PASS_FAN_IN = 512;
    /**
     * Read buffers of one merge together (split among its runs, at least a page each). Measured on 10^7
     * records: smaller chunks with a wider fan-in (256 KiB / 512 runs) were no faster than 4 MiB / 64.
     */
    private static final int MERGE_READ_BYTES = 4 << 20;
    /** Bytes of all bucket buffers of one scatter slice together (one slice per worker). */
    private static final int SCATTER_BYTES = 4 << 20;
    /**
     * Bits of the key one MSD pass splits on: 2048 buckets, so that 10^8 random keys leave buckets of about
     * 50,000 records, which the in-memory chunk sort takes whole.
     */
    private static final int MSD_DIGIT_BITS = 11;
    private static final int STREAM_BUFFER_BYTES = 1 << 20;
    /** The xfile's page: what a discard frees whole. */
    private static final int PAGE = 4096;
    /** Records between two cancellation checks in the streaming passes. */
    private static final int CANCEL_CHECK_RECORDS = 1 << 16;
    /**
     * Records sampled to find a prefix the comparator does not declare: 4096 random keys that agree with the
     * comparator's order are all but proof (the check of the result is the proof); sorting them is 50,000 calls.
     */
    static final int SAMPLE_RECORDS = 4096;
    /** Bound on the sample's buffers (two of them) for wide records. */
    private static final int SAMPLE_BYTES = 1 << 20;
    /** Fewer sampled records than this prove too little about an order to bet a radix pass on it. */
    private static final int MIN_SAMPLE_RECORDS = 64;
    /**
     * A found prefix must have at least a quarter as many values as the sample has records: a field with few values
     * (a type, a flag) that the comparator happens to sort first leaves long runs of equal keys to merge, no faster
     * than the comparator alone.
     */
    private static final int MIN_DISTINCT_FRACTION = 4;
    /** The depth passed to chunk sorts that must order by the comparator alone (past any key's bits). */
    private static final int COMPARATOR_ONLY = Integer.MAX_VALUE;

    private final StagedArray array;
    private final int r;
    private final RecordComparator comparator;
    /** The radix key: the comparator's declared prefix, or the one {@link #findPrefix} found (then checked). */
    private RadixKey key;
    /** Whether {@link #key} was found, not declared: the result is then checked pair by pair. */
    private boolean keyFound;
    private final long n;
    private final int chunkRecords;
    private final Progress progress;
    private final int parallelism;
    /** SortOptions#consumeInput: the radix pass gives the array's pages back as it reads them. */
    private final boolean consume;
    private final BlockingQueue<ChunkSorter> sorters;
    private ExecutorService pool;
    private ByteBuffer stream;

    /** How a sort went; tests tell the paths apart by it. */
    enum Path {
        /** n/a: fewer than two records. */
        NONE,
        /** One chunk, sorted in memory. */
        IN_MEMORY,
        /** Radix on the comparator's declared prefix. */
        DECLARED_PREFIX,
        /** Radix on a prefix found on a sample, the result checked in order. */
        FOUND_PREFIX,
        /** Radix on a found prefix whose result was out of order, then the merge sort. */
        FOUND_PREFIX_THEN_MERGE,
        /** Chunks sorted by the comparator, then merged. */
        MERGE
    }

    /** The path {@link #run} took (set as it goes: a failed sort shows where it was). */
    Path path = Path.NONE;

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
        this.key = RadixKey.of(comparator, r);
        this.n = array.length();
        long perChunk = Math.min(MAX_CHUNK_RECORDS, chunkBytes / r);
        this.chunkRecords = (int) Math.max(1, Math.min(perChunk, n));
        this.progress = progress == null ? Progress.NONE : progress;
        this.parallelism = n > chunkRecords ? options.parallelism() : 1;
        this.consume = options.consumeInput();
        this.sorters = new ArrayBlockingQueue<>(parallelism);
    }

    void run() throws StagingException {
        if (n < 2) {
            return;
        }
        if (key == null && n > chunkRecords) {
            key = findPrefix(array.file());
            keyFound = key != null;
        }
        for (int i = 0; i < parallelism; i++) {
            sorters.add(new ChunkSorter(r, comparator, key, chunkRecords));
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
                path = Path.IN_MEMORY;
                progress.total("sort: in memory", n);
                sortChunk(take(), file, 0, (int) n, 0);
            } else if (key != null) {
                path = keyFound ? Path.FOUND_PREFIX : Path.DECLARED_PREFIX;
                XFile out = array.newFile("sort");
                try {
                    if (!consume) { // consuming, the new file grows as the old one is given back: never both whole
                        out.reserve(0, n * r);
                    }
                    msd(file, 0, out, 0, n, 0, consume);
                } catch (StagingException | RuntimeException e) {
                    out.close();
                    throw e;
                }
                array.replaceFile(out);
                if (keyFound && !inOrder(array.file())) {
                    path = Path.FOUND_PREFIX_THEN_MERGE;
                    mergeSort(array.file()); // the field agreed with the comparator on the sample only
                }
            } else {
                path = Path.MERGE;
                mergeSort(file);
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

    /** Sorts the array's file by the comparator alone: chunks in place, then merge passes into new files. */
    private void mergeSort(XFile file) throws StagingException {
        progress.total("sort: chunks", n);
        sortChunks(file, 0, n, COMPARATOR_ONLY);
        int fanIn = fanIn(n);
        for (long run = chunkRecords; run < n; run = Math.multiplyExact(run, (long) fanIn)) {
            checkCancelled();
            XFile out = array.newFile("merge");
            try {
                out.reserve(0, n * r);
                progress.total("sort: merge runs of " + run, n);
                mergePass(array.file(), 0, out, 0, n, run, fanIn);
            } catch (StagingException | RuntimeException e) {
                out.close();
                throw e;
            }
            array.replaceFile(out);
        }
    }

    /**
     * A radix key the comparator keeps to on a sample of the array, or null: {@link #SAMPLE_RECORDS} records taken at
     * even steps, sorted by the comparator; the candidates are the record's 8-byte fields at multiples of 8 (a record
     * under 8 bytes: the whole record), read unsigned big-endian as the radix path reads a declared prefix. The one
     * that never decreases along the sorted sample and has the most distinct values wins (the lowest offset on a tie),
     * if it tells apart at least 1/{@link #MIN_DISTINCT_FRACTION} of the sample.
     */
    private RadixKey findPrefix(XFile file) throws StagingException {
        int s = (int) Math.min(n, Math.min(SAMPLE_RECORDS, SAMPLE_BYTES / r));
        if (s < MIN_SAMPLE_RECORDS) {
            return null;
        }
        progress.total("sort: sample", s);
        ChunkSorter sorter = new ChunkSorter(r, comparator, null, s);
        ByteBuffer in = sorter.input();
        for (int i = 0; i < s; i++) {
            in.clear().position(i * r).limit((i + 1) * r);
            file.load(n * i / s * r, in);
        }
        loads.add(s);
        ByteBuffer sorted = sorter.sort(s, 0);
        compares.add(sorter.compares);
        progress.increment(s);
        RadixKey best = null;
        int bestDistinct = 0;
        int candidates = r < RadixKey.MAX_BYTES ? 1 : r / RadixKey.MAX_BYTES;
        for (int c = 0; c < candidates; c++) {
            RadixKey k = RadixKey.at(c * RadixKey.MAX_BYTES, Math.min(r, RadixKey.MAX_BYTES));
            int distinct = distinctIfInOrder(k, sorted, s);
            if (distinct > bestDistinct) {
                best = k;
                bestDistinct = distinct;
            }
        }
        return bestDistinct >= s / MIN_DISTINCT_FRACTION ? best : null;
    }

    /** Distinct values of key k along the s sorted records of b, or 0 when one is less than the one before. */
    private int distinctIfInOrder(RadixKey k, ByteBuffer b, int s) {
        int distinct = 1;
        long prev = k.read(b, 0);
        for (int i = 1; i < s; i++) {
            long x = k.read(b, i * r);
            int c = Long.compareUnsigned(prev, x);
            if (c > 0) {
                return 0;
            }
            if (c < 0) {
                distinct++;
            }
            prev = x;
        }
        return distinct;
    }

    /**
     * Whether every record of f is not after the next one by the comparator: the proof that a sort by a found prefix
     * is a sort by the comparator. Slices are checked in parallel, each also against the record before it.
     */
    private boolean inOrder(XFile f) throws StagingException {
        progress.total("sort: check order", n);
        int slices = pool == null ? 1 : (int) Math.max(1, Math.min(parallelism, n / chunkRecords));
        long per = (n + slices - 1) / slices;
        java.util.concurrent.atomic.AtomicBoolean ordered = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<ChunkTask> checks = new ArrayList<>();
        for (int t = 0; t < slices; t++) {
            long from = t * per;
            long len = Math.min(per, n - from);
            checks.add(unused -> {
                if (!inOrder(f, from, len, ordered)) {
                    ordered.set(false);
                }
            });
        }
        runAll(checks);
        return ordered.get();
    }

    /** Whether records [from - 1, from + len) of f are in order; stops early once another slice found one that is not. */
    private boolean inOrder(XFile f, long from, long len, java.util.concurrent.atomic.AtomicBoolean ordered)
            throws StagingException {
        ByteBuffer buf = ByteBuffer.allocateDirect(streamBytes()).order(ByteOrder.BIG_ENDIAN);
        ByteBuffer last = ByteBuffer.allocateDirect(r).order(ByteOrder.BIG_ENDIAN);
        boolean haveLast = from > 0;
        if (haveLast) {
            f.load((from - 1) * r, last);
        }
        int perRead = buf.capacity() / r;
        long compared = 0;
        try {
            for (long i = 0; i < len; i += perRead) {
                int k = (int) Math.min(perRead, len - i);
                buf.clear().limit(k * r);
                f.load((from + i) * r, buf);
                loads.add(k);
                if (haveLast) {
                    compared++;
                    if (comparator.compare(last, 0, buf, 0) > 0) {
                        return false;
                    }
                }
                for (int j = 1, at = r; j < k; j++, at += r) {
                    if (comparator.compare(buf, at - r, buf, at) > 0) {
                        compared += j;
                        return false;
                    }
                }
                compared += k - 1;
                Records.copy(buf, (k - 1) * r, last, 0, r);
                haveLast = true;
                progress.increment(k);
                if (!ordered.get()) {
                    return false;
                }
                checkCancelled();
            }
            return true;
        } finally {
            compares.add(compared);
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
     * Scatters region [s0, s0+count) of src by the radix digit after {@code depthBits} key bits into region
     * [d0, d0+count) of dst, then sorts every bucket there.
     */
    private void msd(XFile src, long s0, XFile dst, long d0, long count, int depthBits) throws StagingException {
        msd(src, s0, dst, d0, count, depthBits, false);
    }

    /** With {@code discardSrc}, the scatter gives src's whole pages back once it has read them. */
    private void msd(XFile src, long s0, XFile dst, long d0, long count, int depthBits, boolean discardSrc)
            throws StagingException {
        int width = Math.min(MSD_DIGIT_BITS, key.bits - depthBits);
        int buckets = 1 << width;
        progress.total("sort: radix bits " + depthBits + "-" + (depthBits + width - 1), count);
        // the input is cut into slices that count and scatter in parallel, each into its own part of every bucket
        int slices = pool == null ? 1 : (int) Math.max(1, Math.min(parallelism, count / chunkRecords));
        long per = (count + slices - 1) / slices;
        long[][] sliceCounts = new long[slices][buckets];
        List<ChunkTask> counting = new ArrayList<>();
        for (int t = 0; t < slices; t++) {
            long from = s0 + t * per;
            long len = Math.min(per, count - t * per);
            long[] counts = sliceCounts[t];
            counting.add(unused -> countDigits(src, from, len, depthBits, width, counts));
        }
        runAll(counting);
        int deeper = depthBits + width;
        if (deeper < key.bits && oneBucket(sliceCounts, count)) {
            // every record has the same digit here (small numbers in a wide key): nothing moves; the next digit decides
            msd(src, s0, dst, d0, count, deeper, discardSrc);
            return;
        }
        long[] bucketCount = new long[buckets];
        long[] bucketStart = new long[buckets];
        long[][] cursor = new long[slices][buckets];
        long sum = 0;
        for (int v = 0; v < buckets; v++) {
            bucketStart[v] = sum;
            for (int t = 0; t < slices; t++) {
                cursor[t][v] = sum;
                sum += sliceCounts[t][v];
                bucketCount[v] += sliceCounts[t][v];
            }
        }
        List<ChunkTask> scattering = new ArrayList<>();
        for (int t = 0; t < slices; t++) {
            long from = s0 + t * per;
            long len = Math.min(per, count - t * per);
            long[] next = cursor[t];
            scattering.add(unused -> scatter(src, from, len, dst, d0, depthBits, width, next, discardSrc));
        }
        runAll(scattering);
        List<ChunkTask> small = new ArrayList<>();
        for (int v = 0; v < buckets; v++) {
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
                small.add(sorter -> sortChunk(sorter, dst, at, (int) c, deeper));
            } else {
                sortRegion(dst, at, c, deeper);
            }
        }
        runAll(small);
    }

    /** Whether the counts of all slices put all {@code count} records into one bucket. */
    private static boolean oneBucket(long[][] sliceCounts, long count) {
        for (int v = 0; v < sliceCounts[0].length; v++) {
            long n = 0;
            for (long[] c : sliceCounts) {
                n += c[v];
            }
            if (n != 0) {
                return n == count;
            }
        }
        return false;
    }

    /** Counts the radix digits of records [from, from+len) of src into {@code counts}. */
    private void countDigits(XFile src, long from, long len, int depthBits, int width, long[] counts)
            throws StagingException {
        ByteBuffer buf = ByteBuffer.allocateDirect(streamBytes()).order(ByteOrder.BIG_ENDIAN);
        int perRead = buf.capacity() / r;
        for (long i = 0; i < len; i += perRead) {
            int k = (int) Math.min(perRead, len - i);
            buf.clear().limit(k * r);
            src.load((from + i) * r, buf);
            for (int j = 0, at = 0; j < k; j++, at += r) {
                counts[RadixKey.digit(key.read(buf, at), depthBits, width)]++;
            }
            checkCancelled();
        }
    }

    /** Moves records [from, from+len) of src into their buckets in dst, at the cursors {@code next}. */
    private void scatter(XFile src, long from, long len, XFile dst, long d0, int depthBits, int width, long[] next,
            boolean discardSrc) throws StagingException {
        // whole pages of this slice only: a page it shares with the next slice is that slice's to read too
        long discarded = (from * r + PAGE - 1) / PAGE * PAGE;
        int buckets = 1 << width;
        ByteBuffer buf = ByteBuffer.allocateDirect(streamBytes()).order(ByteOrder.BIG_ENDIAN);
        int perRead = buf.capacity() / r;
        int perBucket = Math.max(1, SCATTER_BYTES / buckets / r);
        ByteBuffer scatter = ByteBuffer.allocateDirect(buckets * perBucket * r).order(ByteOrder.BIG_ENDIAN);
        int[] filled = new int[buckets];
        for (long i = 0; i < len; i += perRead) {
            int k = (int) Math.min(perRead, len - i);
            buf.clear().limit(k * r);
            src.load((from + i) * r, buf);
            for (int j = 0, at = 0; j < k; j++, at += r) {
                int v = RadixKey.digit(key.read(buf, at), depthBits, width);
                int slot = filled[v]++;
                Records.copy(buf, at, scatter, (v * perBucket + slot) * r, r);
                if (filled[v] == perBucket) {
                    flushBucket(scatter, v, perBucket, filled, dst, d0, next);
                }
            }
            loads.add(k);
            progress.increment(k);
            if (discardSrc) {
                long upTo = (from + i + k) * r / PAGE * PAGE;
                if (upTo > discarded) {
                    src.discard(discarded, upTo - discarded);
                    discarded = upTo;
                }
            }
            checkCancelled();
        }
        for (int v = 0; v < buckets; v++) {
            if (filled[v] > 0) {
                flushBucket(scatter, v, perBucket, filled, dst, d0, next);
            }
        }
    }

    private int streamBytes() {
        return Math.max(r, STREAM_BUFFER_BYTES / r * r);
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
            tmp.reserve(0, count * r);
            if (key != null && depth < key.bits) {
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
            int fanIn = fanIn(count);
            for (long run = chunkRecords; run < count; run = Math.multiplyExact(run, (long) fanIn)) {
                mergePass(from, fromStart, to, toStart, count, run, fanIn);
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
            stream = ByteBuffer.allocateDirect(streamBytes()).order(ByteOrder.BIG_ENDIAN);
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

    /** Runs merged at once for {@code count} records in chunk-sized runs: all of them when they fit one pass. */
    private int fanIn(long count) {
        long runs = (count + chunkRecords - 1) / chunkRecords;
        return runs <= ONE_PASS_FAN_IN ? (int) Math.max(2, runs) : MERGE_FAN_IN;
    }

    /** Merges sorted runs of {@code run} records of src's region into dst's region, up to {@code fanIn} at a time. */
    private void mergePass(XFile src, long s0, XFile dst, long d0, long count, long run, int fanIn) throws StagingException {
        long group = Math.multiplyExact(run, (long) fanIn);
        for (long g = 0; g < count; g += group) {
            long len = Math.min(group, count - g);
            int k = (int) ((len + run - 1) / run);
            if (k == 1) {
                copy(src, s0 + g, dst, d0 + g, len);
                progress.increment(len);
                continue;
            }
            long[] starts = new long[k];
            long[] ends = new long[k];
            for (int i = 0; i < k; i++) {
                starts[i] = s0 + g + i * run;
                ends[i] = Math.min(s0 + g + (i + 1) * run, s0 + g + len);
            }
            mergeGroup(src, starts, ends, dst, d0 + g, len);
        }
    }

    /**
     * Merges runs [starts[i], ends[i]) of src into dst from {@code out}. With several workers the output is cut
     * into parts at splitter records (the median of samples taken at the same fraction of every run, so the
     * splitters never decrease), each run is cut at the splitter by binary search, and the parts merge in
     * parallel. Records equal to a splitter all go to the part after it, so the cut is exact.
     */
    private void mergeGroup(XFile src, long[] starts, long[] ends, XFile dst, long out, long len) throws StagingException {
        int parts = pool == null ? 1 : (int) Math.min(parallelism, len / chunkRecords);
        if (parts <= 1) {
            new Merge(src, starts, ends, dst, out).run();
            return;
        }
        int k = starts.length;
        long[][] cuts = new long[parts + 1][];
        cuts[0] = starts;
        cuts[parts] = ends;
        for (int j = 1; j < parts; j++) {
            ByteBuffer splitter = splitter(src, starts, ends, j, parts);
            cuts[j] = new long[k];
            for (int i = 0; i < k; i++) {
                cuts[j][i] = lowerBound(src, Math.max(starts[i], cuts[j - 1][i]), ends[i], splitter);
            }
        }
        List<ChunkTask> tasks = new ArrayList<>();
        long partOut = out;
        for (int j = 0; j < parts; j++) {
            long[] from = cuts[j];
            long[] to = cuts[j + 1];
            long at = partOut;
            tasks.add(unused -> new Merge(src, from, to, dst, at).run());
            for (int i = 0; i < k; i++) {
                partOut += to[i] - from[i];
            }
        }
        runAll(tasks);
    }

    /** The median of the records found {@code j/parts} of the way into each run. */
    private ByteBuffer splitter(XFile src, long[] starts, long[] ends, int j, int parts) throws StagingException {
        int k = starts.length;
        ByteBuffer[] samples = new ByteBuffer[k];
        for (int i = 0; i < k; i++) {
            long at = starts[i] + (ends[i] - starts[i]) * j / parts;
            samples[i] = ByteBuffer.allocate(r);
            if (at < ends[i]) {
                src.load(at * r, samples[i]);
            }
        }
        for (int i = 1; i < k; i++) { // at most ONE_PASS_FAN_IN samples, once per part: insertion sort is enough
            ByteBuffer v = samples[i];
            int x = i - 1;
            while (x >= 0 && comparator.compare(samples[x], 0, v, 0) > 0) {
                samples[x + 1] = samples[x];
                x--;
            }
            samples[x + 1] = v;
        }
        return samples[k / 2];
    }

    /** The first index in [lo, hi) of src whose record is not before {@code value} (hi when there is none). */
    private long lowerBound(XFile src, long lo, long hi, ByteBuffer value) throws StagingException {
        ByteBuffer probe = ByteBuffer.allocate(r);
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            probe.clear();
            src.load(mid * r, probe);
            if (comparator.compare(probe, 0, value, 0) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * One k-way merge with a loser tree (Knuth, TAOCP 5.4.1): log2(k) comparisons per record. All runs' read buffers
     * are parts of one buffer, and a run's current record is known by its offset there: a comparison in the tree
     * hands the comparator that one buffer and two offsets, where a buffer per run cost two more dependent loads (the
     * run's buffer, then its address and limit) on every level, and made a merge comparison cost twice one of the chunk
     * sort (16.7 against 8.6 ns, JFR and phase times of a 2*10^7-record opaque sort).
     */
    private final class Merge {
        /** {@link #cur} of a run with no records left: it loses to every run. */
        private static final int EXHAUSTED = -1;
        private final XFile src;
        private final XFile dst;
        private final long d0;
        private final long count;
        private final int k;
        /** Every run's read buffer, one after the other. */
        private final ByteBuffer all;
        /** A second view of {@link #all} that refills move through (position and limit set per refill). */
        private final ByteBuffer fill;
        /** Bytes of one run's part of {@link #all}. */
        private final int part;
        /** The offset in {@link #all} of each run's current record, or {@link #EXHAUSTED}, while the tree is built. */
        private final int[] cur;
        /** The offset in {@link #all} one past each run's last loaded record. */
        private final int[] lim;
        /** The next record of each run still in src, and its end. */
        private final long[] next;
        private final long[] end;
        private final int[] tree;
        private final ByteBuffer out;
        private long merged;

        Merge(XFile src, long[] starts, long[] ends, XFile dst, long d0) {
            this.src = src;
            this.dst = dst;
            this.d0 = d0;
            this.k = starts.length;
            this.next = starts.clone();
            this.end = ends.clone();
            long c = 0;
            for (int i = 0; i < k; i++) {
                c += ends[i] - starts[i];
            }
            this.count = c;
            int per = Math.max(1, Math.max(4096, MERGE_READ_BYTES / k) / r);
            part = per * r;
            all = ByteBuffer.allocateDirect(k * part).order(ByteOrder.BIG_ENDIAN);
            fill = all.duplicate().order(ByteOrder.BIG_ENDIAN);
            cur = new int[k];
            lim = new int[k];
            tree = new int[k];
            out = ByteBuffer.allocateDirect(Math.max(r, STREAM_BUFFER_BYTES / r * r)).order(ByteOrder.BIG_ENDIAN);
        }

        void run() throws StagingException {
            for (int i = 0; i < k; i++) {
                cur[i] = refill(i);
            }
            java.util.Arrays.fill(tree, k); // k is a virtual leaf that beats everything
            for (int s = k - 1; s >= 0; s--) {
                build(s);
            }
            // each node also keeps its loser's current offset: a level reads the two side by side, not one after the other
            int[] off = new int[k];
            for (int x = 1; x < k; x++) {
                off[x] = cur[tree[x]];
            }
            ByteBuffer a = all;
            RecordComparator cmp = comparator;
            int[] t = tree;
            out.clear();
            int outRecords = out.capacity() / r;
            int inOut = 0;
            long compared = 0;
            int w = t[0];
            int o = cur[w];
            for (long m = 0; m < count; m++) {
                Records.copy(a, o, out, inOut * r, r);
                inOut++;
                o += r;
                if (o == lim[w]) {
                    o = refill(w);
                }
                // the winner's run replays its path to the root against the losers kept there
                int s = w;
                for (int x = (s + k) >> 1; x > 0; x >>= 1) {
                    int lo = off[x];
                    boolean loserFirst;
                    if (o == EXHAUSTED || lo == EXHAUSTED) {
                        loserFirst = o == EXHAUSTED;
                    } else {
                        compared++;
                        loserFirst = cmp.compare(a, lo, a, o) <= 0;
                    }
                    if (loserFirst) {
                        int l = t[x];
                        t[x] = s;
                        off[x] = o;
                        s = l;
                        o = lo;
                    }
                }
                t[0] = s;
                w = s;
                if (inOut == outRecords) {
                    flush(inOut);
                    inOut = 0;
                }
            }
            flush(inOut);
            compares.add(compared);
        }

        private void flush(int records) throws StagingException {
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

        /** Loads run i's next records into its part of {@link #all}: the offset of the first, or {@link #EXHAUSTED}. */
        private int refill(int i) throws StagingException {
            long left = end[i] - next[i];
            if (left <= 0) {
                return EXHAUSTED;
            }
            int k1 = (int) Math.min(part / r, left);
            int from = i * part;
            fill.limit(from + k1 * r).position(from);
            src.load(next[i] * r, fill);
            next[i] += k1;
            lim[i] = from + k1 * r;
            loads.add(k1);
            return from;
        }

        /** Whether leaf x beats leaf y (comes first) while the tree is built; exhausted runs lose to all. */
        private boolean beats(int x, int y) {
            if (x == k) {
                return true;
            }
            if (y == k) {
                return false;
            }
            if (cur[x] == EXHAUSTED) {
                return false;
            }
            if (cur[y] == EXHAUSTED) {
                return true;
            }
            return comparator.compare(all, cur[x], all, cur[y]) <= 0;
        }

        /** Puts leaf s into the tree being built (virtual leaves k still in it). */
        private void build(int s) {
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
