package org.xfstage.xfarray.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;
import org.xfstage.xfile.internal.XFileFactoryImpl;

class SortTest {
    /** Tiny chunks so that a few thousand records already take the radix and merge paths. */
    private static final int SMALL_CHUNK = 4096;

    private static XFileFactoryImpl xfiles;
    private static XfArrayFactoryImpl arrays;

    @BeforeAll
    static void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        arrays = new XfArrayFactoryImpl(xfiles);
    }

    @AfterAll
    static void stop() {
        arrays.deactivate();
        xfiles.deactivate();
    }

    enum Input { RANDOM, SORTED, REVERSED, ALL_EQUAL, MANY_DUPLICATES, ALL_NULL, SOME_NULL }

    /** Unsigned lexicographic order of whole records, optionally announcing the first bytes as a radix key. */
    static RecordComparator lexicographic(int recordSize, boolean withPrefix) {
        RecordComparator.KeyPrefix prefix = withPrefix ? new RecordComparator.KeyPrefix(0, Math.min(recordSize, 8)) : null;
        return new RecordComparator() {
            @Override
            public int compare(ByteBuffer a, int ao, ByteBuffer b, int bo) {
                for (int i = 0; i < recordSize; i++) {
                    int x = a.get(ao + i) & 0xff;
                    int y = b.get(bo + i) & 0xff;
                    if (x != y) {
                        return x - y;
                    }
                }
                return 0;
            }

            @Override
            public KeyPrefix keyPrefix() {
                return prefix;
            }
        };
    }

    /**
     * How a test's comparator orders: by a prefix it declares; lexicographically without declaring one (the sort finds
     * the leading 8 bytes on its sample); or by the bytes read from the last to the first, which no big-endian field
     * of the record follows (the sort must merge by the comparator alone).
     */
    enum Order { DECLARED, FOUND, OPAQUE }

    static RecordComparator comparator(int recordSize, Order order) {
        if (order != Order.OPAQUE) {
            return lexicographic(recordSize, order == Order.DECLARED);
        }
        return (a, ao, b, bo) -> {
            for (int i = recordSize - 1; i >= 0; i--) {
                int x = a.get(ao + i) & 0xff;
                int y = b.get(bo + i) & 0xff;
                if (x != y) {
                    return x - y;
                }
            }
            return 0;
        };
    }

    /** The order of {@link #comparator} on byte arrays, to sort the expected records on the heap. */
    static java.util.Comparator<byte[]> reference(Order order) {
        if (order != Order.OPAQUE) {
            return Arrays::compareUnsigned;
        }
        return (x, y) -> {
            for (int i = x.length - 1; i >= 0; i--) {
                int c = (x[i] & 0xff) - (y[i] & 0xff);
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        };
    }

    static List<byte[]> records(Input input, int n, int size, long seed) {
        Random rnd = new Random(seed);
        List<byte[]> out = new ArrayList<>(n);
        byte[][] few = new byte[5][size];
        for (byte[] f : few) {
            rnd.nextBytes(f);
            f[size - 1] |= 1;
        }
        for (int i = 0; i < n; i++) {
            byte[] rec = new byte[size];
            switch (input) {
                case ALL_EQUAL -> rec = few[0].clone();
                case MANY_DUPLICATES -> rec = few[rnd.nextInt(few.length)].clone();
                case ALL_NULL -> { }
                case SOME_NULL -> {
                    if (rnd.nextInt(4) != 0) {
                        rnd.nextBytes(rec);
                    }
                }
                default -> rnd.nextBytes(rec);
            }
            out.add(rec);
        }
        if (input == Input.SORTED || input == Input.REVERSED) {
            out.sort(Arrays::compareUnsigned);
            if (input == Input.REVERSED) {
                java.util.Collections.reverse(out);
            }
        }
        return out;
    }

    static XfArray fill(String name, List<byte[]> recs, int size) throws Exception {
        XfArray a = arrays.create(name, size);
        for (int i = 0; i < recs.size(); i++) {
            if (!Records.isZero(recs.get(i))) {
                a.store(i, recs.get(i));
            }
        }
        if (a.length() < recs.size()) { // trailing nulls: extend with a record, then unset it
            byte[] one = new byte[size];
            one[0] = 1;
            a.store(recs.size() - 1, one);
            a.unset(recs.size() - 1);
        }
        assertEquals(recs.size(), a.length());
        return a;
    }

    static List<byte[]> contents(XfArray a) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (long i = 0; i < a.length(); i++) {
            byte[] b = new byte[a.recordSize()];
            a.load(i, b);
            out.add(b);
        }
        return out;
    }

    static void assertSame(List<byte[]> expected, List<byte[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "record " + i);
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int size : new int[] {1, 8, 16, 24, 40, 64, 3000}) {
            for (Input input : Input.values()) {
                for (Order order : Order.values()) {
                    out.add(Arguments.of(size, input, order));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}-byte records, {1}, {2}")
    @MethodSource("cases")
    void sortsEveryShapeOfInputThroughRadixAndMergePaths(int size, Input input, Order order) throws Exception {
        int n = size >= 1000 ? 300 : 5000;
        List<byte[]> recs = records(input, n, size, size * 31L + input.ordinal());
        try (XfArray a = fill("sort " + size, recs, size)) {
            ((StagedArray) a).sort(comparator(size, order), new SortOptions(2), Progress.NONE,
                    Math.max(SMALL_CHUNK, 4 * size));
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort(reference(order));
            assertSame(expected, contents(a));
            if (input != Input.ALL_EQUAL && input != Input.ALL_NULL) {
                assertTrue(a.stats().partitions() > 1, "took an external path: " + a.stats());
            }
            // the keys of random records tell the sample apart; five distinct records or one do not; one byte has
            // too few values to be worth a radix pass
            boolean distinctKeys = size >= 8 && input != Input.ALL_EQUAL && input != Input.ALL_NULL
                    && input != Input.MANY_DUPLICATES;
            ExternalSort.Path expectedPath = switch (order) {
                case DECLARED -> ExternalSort.Path.DECLARED_PREFIX;
                case FOUND -> distinctKeys ? ExternalSort.Path.FOUND_PREFIX : ExternalSort.Path.MERGE;
                case OPAQUE -> ExternalSort.Path.MERGE;
            };
            assertEquals(expectedPath, ((StagedArray) a).lastSortPath);
        }
    }

    /**
     * A comparator that orders by the second long of the record and then the first, declaring nothing: the sort finds
     * the second long on its sample and sorts by it, the first long only breaking ties.
     */
    @Test
    void aPrefixPastTheRecordsStartIsFound() throws Exception {
        Random rnd = new Random(23);
        List<byte[]> recs = new ArrayList<>();
        for (int i = 0; i < 6000; i++) {
            ByteBuffer b = ByteBuffer.allocate(24);
            b.putLong(rnd.nextLong()).putLong(rnd.nextInt(3000)).putLong(rnd.nextLong());
            recs.add(b.array());
        }
        RecordComparator secondThenFirst = (x, xo, y, yo) -> {
            int c = Long.compareUnsigned(x.getLong(xo + 8), y.getLong(yo + 8));
            return c != 0 ? c : Long.compareUnsigned(x.getLong(xo), y.getLong(yo));
        };
        try (XfArray a = fill("second long", recs, 24)) {
            ((StagedArray) a).sort(secondThenFirst, new SortOptions(2), Progress.NONE, SMALL_CHUNK);
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort((x, y) -> {
                int c = Arrays.compareUnsigned(x, 8, 16, y, 8, 16);
                return c != 0 ? c : Arrays.compareUnsigned(x, 0, 8, y, 0, 8);
            });
            assertSame(expected, contents(a));
            assertEquals(ExternalSort.Path.FOUND_PREFIX, ((StagedArray) a).lastSortPath);
        }
    }

    /**
     * A comparator that follows the first long on every sampled record but not on a few others (records whose last
     * byte is 0xff sort before all, whatever their first long): the radix result fails the check of neighbouring
     * pairs and is merge sorted by the comparator, so the order is still the comparator's.
     */
    @ParameterizedTest(name = "consuming input {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aFoundPrefixTheComparatorDoesNotKeepToFallsBackToTheMerge(boolean consume) throws Exception {
        int n = 20_000;
        Random rnd = new Random(29);
        List<byte[]> recs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[16];
            rnd.nextBytes(b);
            b[15] = 0;
            recs.add(b);
        }
        // the sample takes records i * n / SAMPLE_RECORDS: mark a few records between those
        java.util.Set<Long> sampled = new java.util.HashSet<>();
        for (long i = 0; i < ExternalSort.SAMPLE_RECORDS; i++) {
            sampled.add(n * i / ExternalSort.SAMPLE_RECORDS);
        }
        int marked = 0;
        for (int i = 1; i < n; i += 997) {
            if (!sampled.contains((long) i)) {
                recs.get(i)[15] = (byte) 0xff;
                marked++;
            }
        }
        assertTrue(marked > 10, "records marked: " + marked);
        RecordComparator markedFirst = (x, xo, y, yo) -> {
            boolean mx = x.get(xo + 15) == (byte) 0xff;
            boolean my = y.get(yo + 15) == (byte) 0xff;
            if (mx != my) {
                return mx ? -1 : 1;
            }
            int c = Long.compareUnsigned(x.getLong(xo), y.getLong(yo));
            return c != 0 ? c : Long.compareUnsigned(x.getLong(xo + 8), y.getLong(yo + 8));
        };
        try (XfArray a = fill("marked", recs, 16)) {
            SortOptions options = consume ? new SortOptions(2).consumingInput() : new SortOptions(2);
            ((StagedArray) a).sort(markedFirst, options, Progress.NONE, SMALL_CHUNK);
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort((x, y) -> {
                boolean mx = x[15] == (byte) 0xff;
                boolean my = y[15] == (byte) 0xff;
                return mx != my ? (mx ? -1 : 1) : Arrays.compareUnsigned(x, y);
            });
            assertSame(expected, contents(a));
            assertEquals(ExternalSort.Path.FOUND_PREFIX_THEN_MERGE, ((StagedArray) a).lastSortPath);
        }
    }

    /**
     * Without a key prefix, up to ExternalSort.ONE_PASS_FAN_IN sorted chunks merge in one pass (each record stored
     * once by the chunk sort, once by the merge); more take passes of MERGE_FAN_IN (a third store of each), and both
     * come out in order.
     */
    @ParameterizedTest(name = "{0} chunks")
    @org.junit.jupiter.params.provider.ValueSource(ints = {ExternalSort.ONE_PASS_FAN_IN, ExternalSort.ONE_PASS_FAN_IN + 1})
    void chunksMergeInOnePassUpToTheOnePassFanInAndInPassesBeyond(int chunks) throws Exception {
        int size = 16;
        int perChunk = SMALL_CHUNK / size;
        List<byte[]> recs = records(Input.RANDOM, chunks * perChunk - perChunk / 2, size, chunks);
        try (XfArray a = fill("merge passes " + chunks, recs, size)) {
            long before = a.stats().stores();
            ((StagedArray) a).sort(comparator(size, Order.OPAQUE), new SortOptions(2), Progress.NONE, SMALL_CHUNK);
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort(reference(Order.OPAQUE));
            assertSame(expected, contents(a));
            long stores = a.stats().stores() - before;
            if (chunks <= ExternalSort.ONE_PASS_FAN_IN) {
                assertEquals(2L * recs.size(), stores, "stores of a chunk sort and one merge pass");
            } else { // (a group of one run is copied, not merged: the last chunk's records are not counted again)
                assertTrue(stores > 2L * recs.size(), "stores of a chunk sort and two merge passes: " + stores);
            }
        }
    }

    /**
     * The merge's edges: 3000-byte records in chunks of 4, 500 runs merged in one pass, so that each run's part of the
     * read buffer holds 2 records and is refilled twice per run; the last run holds one record. On one thread (one
     * merge) and two (the output cut in parts at a splitter), for inputs whose runs end in every way.
     */
    @ParameterizedTest(name = "{0}, {1} thread(s)")
    @MethodSource("mergeEdges")
    void theMergeRefillsEveryRunAndEndsWithARunOfOneRecord(Input input, int threads) throws Exception {
        int size = 3000;
        int perChunk = 4;
        int n = 499 * perChunk + 1;
        List<byte[]> recs = records(input, n, size, 11L * input.ordinal() + threads);
        if (input == Input.SORTED || input == Input.REVERSED) { // in the comparator's order: every merge step takes one run
            recs.sort(input == Input.SORTED ? reference(Order.OPAQUE) : reference(Order.OPAQUE).reversed());
        }
        try (XfArray a = fill("merge edges", recs, size)) {
            ((StagedArray) a).sort(comparator(size, Order.OPAQUE), new SortOptions(threads), Progress.NONE, perChunk * size);
            assertEquals(ExternalSort.Path.MERGE, ((StagedArray) a).lastSortPath);
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort(reference(Order.OPAQUE));
            assertSame(expected, contents(a));
        }
    }

    static Stream<Arguments> mergeEdges() {
        return Stream.of(Arguments.of(Input.RANDOM, 1), Arguments.of(Input.RANDOM, 2), Arguments.of(Input.SORTED, 1),
                Arguments.of(Input.REVERSED, 2), Arguments.of(Input.ALL_EQUAL, 1), Arguments.of(Input.SOME_NULL, 2));
    }

    @Test
    void defaultChunkSortIsInMemoryAndCorrect() throws Exception {
        List<byte[]> recs = records(Input.RANDOM, 20_000, 16, 7);
        try (XfArray a = fill("in memory", recs, 16)) {
            a.sort(lexicographic(16, true), SortOptions.DEFAULT, Progress.NONE);
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort(Arrays::compareUnsigned);
            assertSame(expected, contents(a));
        }
    }

    /**
     * Keys that are small numbers in a wide prefix (block and inode numbers: the top 40 bits all zero): the radix
     * passes over digits that are the same everywhere move nothing, and the order is still right; also with every
     * prefix equal, where the digits run out.
     */
    @ParameterizedTest(name = "all prefixes equal: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void smallKeysInAWidePrefixSkipTheDigitsTheyShare(boolean allEqual) throws Exception {
        Random rnd = new Random(5);
        List<byte[]> recs = new ArrayList<>();
        for (int i = 0; i < 6000; i++) {
            ByteBuffer b = ByteBuffer.allocate(24);
            b.putLong(allEqual ? 42 : rnd.nextInt(1 << 20)).putLong(rnd.nextLong()).putLong(i + 1);
            recs.add(b.array());
        }
        for (SortOptions options : List.of(SortOptions.SEQUENTIAL, new SortOptions(2))) {
            try (XfArray a = fill("small keys", recs, 24)) {
                ((StagedArray) a).sort(lexicographic(24, true), options, Progress.NONE, SMALL_CHUNK);
                List<byte[]> expected = new ArrayList<>(recs);
                expected.sort(Arrays::compareUnsigned);
                assertSame(expected, contents(a));
            }
        }
    }

    @Test
    void skewedPrefixRecursesAndFallsBackToMergeOnEqualPrefixes() throws Exception {
        // the 8-byte prefix is the same for half the records: the radix levels run out and the merge takes over
        Random rnd = new Random(3);
        List<byte[]> recs = new ArrayList<>();
        for (int i = 0; i < 6000; i++) {
            byte[] b = new byte[24];
            rnd.nextBytes(b);
            if (i % 2 == 0) {
                Arrays.fill(b, 0, 8, (byte) 7);
            }
            recs.add(b);
        }
        try (XfArray a = fill("skewed", recs, 24)) {
            ((StagedArray) a).sort(lexicographic(24, true), SortOptions.SEQUENTIAL, Progress.NONE, SMALL_CHUNK);
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort(Arrays::compareUnsigned);
            assertSame(expected, contents(a));
        }
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(Order.class)
    void cancellingMidSortLeavesAPermutation(Order order) throws Exception {
        List<byte[]> recs = records(Input.RANDOM, 20_000, 16, 11);
        try (XfArray a = fill("cancel", recs, 16)) {
            AtomicLong done = new AtomicLong();
            Progress cancelSoon = new Progress() {
                @Override
                public void total(String phase, long units) {
                }

                @Override
                public void increment(long units) {
                    done.addAndGet(units);
                }

                @Override
                public boolean isCancelled() {
                    return done.get() > 9_000;
                }
            };
            assertThrows(CancelledException.class, () -> ((StagedArray) a).sort(comparator(16, order),
                    new SortOptions(2), cancelSoon, SMALL_CHUNK));
            List<byte[]> after = contents(a);
            after.sort(Arrays::compareUnsigned);
            List<byte[]> expected = new ArrayList<>(recs);
            expected.sort(Arrays::compareUnsigned);
            assertSame(expected, after);
        }
    }

    /**
     * A consuming sort (SortOptions#consumeInput) past one chunk gives the array's pages back as its radix pass reads
     * them: sorted the same, with a staging peak near one array's bytes, where the sort that keeps its input holds two.
     */
    @Test
    void aConsumingSortStagesAboutOneArrayNotTwo() throws Exception {
        // records of a page each: a bucket's page is staged only when a record is scattered into it, so the new file
        // grows exactly as the old one is given back (with small records each bucket's first page comes at once)
        int size = 4096;
        List<byte[]> recs = records(Input.RANDOM, 2_000, size, 17);
        List<byte[]> expected = new ArrayList<>(recs);
        expected.sort(Arrays::compareUnsigned);
        long bytes = 2_000L * size;
        long[] peaks = new long[2];
        for (int k = 0; k < 2; k++) {
            try (XfArray a = fill("consume " + k, recs, size)) {
                xfiles.resetPeak();
                SortOptions options = k == 0 ? new SortOptions(2) : new SortOptions(2).consumingInput();
                ((StagedArray) a).sort(lexicographic(size, true), options, Progress.NONE, 64 * 1024);
                peaks[k] = xfiles.peakBytesUsed();
                assertSame(expected, contents(a));
            }
        }
        assertTrue(peaks[0] >= 2 * bytes, "the sort that keeps its input: " + peaks[0]);
        assertTrue(peaks[1] < bytes * 3 / 2, "the consuming sort: " + peaks[1] + " for " + bytes + " bytes of records");
    }

    @Test
    void keyPrefixMustFitTheRecord() throws Exception {
        try (XfArray a = arrays.create("prefix", 8)) {
            a.append(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            a.append(new byte[] {1, 2, 3, 4, 5, 6, 7, 9});
            RecordComparator bad = new RecordComparator() {
                @Override
                public int compare(ByteBuffer x, int xo, ByteBuffer y, int yo) {
                    return 0;
                }

                @Override
                public KeyPrefix keyPrefix() {
                    return new KeyPrefix(4, 8);
                }
            };
            assertThrows(IllegalArgumentException.class, () -> a.sort(bad, SortOptions.DEFAULT, Progress.NONE));
        }
    }
}
