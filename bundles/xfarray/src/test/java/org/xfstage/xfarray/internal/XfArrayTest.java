package org.xfstage.xfarray.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.xfile.internal.XFileFactoryImpl;

class XfArrayTest {
    private XFileFactoryImpl xfiles;
    private XfArrayFactoryImpl arrays;

    @BeforeEach
    void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        arrays = new XfArrayFactoryImpl(xfiles);
    }

    @AfterEach
    void stop() {
        arrays.deactivate();
        xfiles.deactivate();
    }

    private static byte[] rec(int size, int v) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (v >>> (8 * (i % 4)));
        }
        b[0] |= 1; // never null
        return b;
    }

    @Test
    void storeLoadAppendAndLength() throws Exception {
        try (XfArray a = arrays.create("basic", 12)) {
            assertEquals(0, a.length());
            assertEquals(0, a.append(rec(12, 1)));
            assertEquals(1, a.append(rec(12, 2)));
            a.store(10, rec(12, 10));
            assertEquals(11, a.length(), "store past the end extends the array");
            byte[] b = new byte[12];
            a.load(1, b);
            assertArrayEquals(rec(12, 2), b);
            assertTrue(a.isNull(5), "slots in between are null");
            ByteBuffer bb = ByteBuffer.allocate(20).position(4).limit(16);
            a.load(10, bb);
            assertEquals(4, bb.position(), "buffer position is not moved");
            byte[] got = new byte[12];
            bb.get(got);
            assertArrayEquals(rec(12, 10), got);
            assertEquals(12, a.recordSize());
        }
    }

    /**
     * A batch crossing pages and a window lands as the same records one-by-one appends would make; a batch with a null
     * record or a torn record is refused whole; the interface's default (one append per record) agrees.
     */
    @Test
    void appendAllStoresABatchAsAppendsWouldAndRefusesANullOneWhole() throws Exception {
        int size = 24;
        int count = 100_000; // 2.4 MB: pages, the grow-ahead and a 2 MiB window edge inside one store
        ByteBuffer batch = ByteBuffer.allocate(count * size);
        for (int i = 0; i < count; i++) {
            batch.put(rec(size, i * 7919));
        }
        batch.flip().position(size); // from the second record: the position is where the batch starts
        try (XfArray bulk = arrays.create("bulk", size); XfArray one = arrays.create("one by one", size)) {
            bulk.append(rec(size, 1));
            assertEquals(1, bulk.appendAll(batch));
            assertEquals(size, batch.position(), "the buffer's position is not moved");
            one.append(rec(size, 1));
            XfArray viaDefault = new ForwardingArray(one);
            assertEquals(1, viaDefault.appendAll(batch.duplicate()));
            assertEquals(count, bulk.length());
            assertEquals(count, one.length());
            byte[] a = new byte[size];
            byte[] b = new byte[size];
            for (long i = 0; i < count; i++) {
                bulk.load(i, a);
                one.load(i, b);
                assertArrayEquals(b, a, "record " + i);
            }
            ByteBuffer withNull = ByteBuffer.allocate(3 * size).put(rec(size, 5)).put(new byte[size]).put(rec(size, 6)).flip();
            assertThrows(IllegalArgumentException.class, () -> bulk.appendAll(withNull));
            assertThrows(IllegalArgumentException.class, () -> viaDefault.appendAll(withNull.duplicate()));
            assertThrows(IllegalArgumentException.class, () -> bulk.appendAll(ByteBuffer.allocate(size + 1).put(0, (byte) 1)));
            assertEquals(count, bulk.length(), "a refused batch stores nothing");
            assertEquals(count, one.length(), "a refused batch stores nothing (the default too)");
        }
    }

    /**
     * Scans load and overwrite through the file's view of its pages; an unset that punches a page out drops the view,
     * so that a store there afterwards allocates the page again (through a stale view it would write into a hole the
     * file does not know, and an iteration, which skips holes, would not find the record).
     */
    @Test
    void scansGoThroughTheFilesViewAndAnUnsetPageIsNotWrittenThroughIt() throws Exception {
        int size = 16;
        int count = 10_000; // 39 pages
        try (XfArray a = arrays.create("viewed", size)) {
            for (int i = 0; i < count; i++) {
                a.append(rec(size, i));
            }
            byte[] b = new byte[size];
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < count; i++) {
                    a.load(i, b);
                    assertArrayEquals(rec(size, i + pass), b, "record " + i + ", pass " + pass);
                    a.store(i, rec(size, i + pass + 1)); // an overwrite in the same scan
                }
            }
            for (int i = 512; i < 768; i++) { // the third page, whole: given back
                a.unset(i);
            }
            a.store(600, rec(size, 600));
            for (int i = 0; i < count; i++) {
                a.load(i, b);
                boolean gone = i >= 512 && i < 768 && i != 600;
                assertArrayEquals(gone ? new byte[size] : rec(size, i == 600 ? 600 : i + 2), b, "record " + i);
            }
            ByteBuffer next = ByteBuffer.allocate(size);
            assertEquals(600, a.loadNext(512, next), "the record stored into the punched page is in the file");
        }
    }

    /**
     * A scan's loads and overwrites through the view keep every byte in place whatever the record size: records of
     * whole longs up to 64 bytes are copied eight bytes at a time, others in bulk.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}-byte records")
    @org.junit.jupiter.params.provider.ValueSource(ints = {8, 12, 16, 64, 72})
    void recordsOfEverySizeKeepTheirBytesThroughTheView(int size) throws Exception {
        int count = 3 * 4096 / size + 7; // several pages, the last one partly filled
        try (XfArray a = arrays.create("viewed " + size, size)) {
            for (int i = 0; i < count; i++) {
                a.append(rec(size, i));
            }
            byte[] b = new byte[size];
            ByteBuffer heap = ByteBuffer.allocate(size);
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < count; i++) {
                    a.load(i, b);
                    assertArrayEquals(rec(size, i * 7 * pass + i), b, "record " + i + ", pass " + pass);
                    heap.clear();
                    a.load(i, heap);
                    assertArrayEquals(b, heap.array(), "record " + i + " into a heap buffer, pass " + pass);
                    a.store(i, rec(size, i * 7 * (pass + 1) + i));
                }
            }
        }
    }

    /** An XfArray that only forwards the abstract methods: the interface's default methods run as another provider's would. */
    private static final class ForwardingArray implements XfArray {
        private final XfArray a;

        ForwardingArray(XfArray a) {
            this.a = a;
        }

        @Override
        public String name() {
            return a.name();
        }

        @Override
        public int recordSize() {
            return a.recordSize();
        }

        @Override
        public long length() {
            return a.length();
        }

        @Override
        public void load(long index, ByteBuffer dst) throws org.xfstage.api.staging.StagingException {
            a.load(index, dst);
        }

        @Override
        public void load(long index, byte[] dst) throws org.xfstage.api.staging.StagingException {
            a.load(index, dst);
        }

        @Override
        public void store(long index, ByteBuffer src) throws org.xfstage.api.staging.StagingException {
            a.store(index, src);
        }

        @Override
        public void store(long index, byte[] src) throws org.xfstage.api.staging.StagingException {
            a.store(index, src);
        }

        @Override
        public void unset(long index) throws org.xfstage.api.staging.StagingException {
            a.unset(index);
        }

        @Override
        public boolean isNull(long index) throws org.xfstage.api.staging.StagingException {
            return a.isNull(index);
        }

        @Override
        public long append(ByteBuffer src) throws org.xfstage.api.staging.StagingException {
            return a.append(src);
        }

        @Override
        public long append(byte[] src) throws org.xfstage.api.staging.StagingException {
            return a.append(src);
        }

        @Override
        public long storeAnywhere(byte[] src) throws org.xfstage.api.staging.StagingException {
            return a.storeAnywhere(src);
        }

        @Override
        public long loadNext(long from, ByteBuffer dst) throws org.xfstage.api.staging.StagingException {
            return a.loadNext(from, dst);
        }

        @Override
        public void sort(org.xfstage.api.staging.RecordComparator comparator, org.xfstage.api.staging.SortOptions options,
                org.xfstage.api.staging.Progress progress) throws org.xfstage.api.staging.StagingException {
            a.sort(comparator, options, progress);
        }

        @Override
        public org.xfstage.api.staging.XfArrayStats stats() {
            return a.stats();
        }

        @Override
        public void close() {
            a.close();
        }
    }

    /** The iterator a bulk load reads from: nulls skipped, each record decoded once, a short array one clear error. */
    @Test
    void iteratorDecodesCountRecordsSkippingNulls() throws Exception {
        try (XfArray a = arrays.create("iterated", 8)) {
            for (int i = 1; i <= 5; i++) {
                a.append(ByteBuffer.allocate(8).putLong(0, i));
            }
            a.unset(2);
            java.util.List<Long> seen = new java.util.ArrayList<>();
            a.iterator(1, 3, b -> b.getLong(0)).forEachRemaining(seen::add);
            assertEquals(java.util.List.of(2L, 4L, 5L), seen);
            java.util.Iterator<Long> tooMany = a.iterator(3, 3, b -> b.getLong(0));
            assertEquals(4L, tooMany.next());
            assertEquals(5L, tooMany.next());
            org.xfstage.api.staging.UncheckedStagingException e = assertThrows(
                    org.xfstage.api.staging.UncheckedStagingException.class, tooMany::next);
            assertTrue(e.getMessage().contains("fewer than 3 records from index 3"), e.getMessage());
            assertThrows(java.util.NoSuchElementException.class, () -> a.iterator(0, 0, b -> 0).next());
        }
    }

    /** loadNext reads ahead per thread; a change made after a read must be seen by the next one, on every thread. */
    @Test
    void loadNextSeesEveryChangeMadeAfterItsReadAhead() throws Exception {
        try (XfArray a = arrays.create("read-ahead", 8)) {
            for (int i = 1; i <= 5000; i++) {
                a.append(ByteBuffer.allocate(8).putLong(0, i));
            }
            ByteBuffer b = ByteBuffer.allocate(8);
            assertEquals(0, a.loadNext(0, b));
            a.store(1, ByteBuffer.allocate(8).putLong(0, 77));
            assertEquals(1, a.loadNext(1, b));
            assertEquals(77, b.getLong(0), "a store after the read-ahead");
            a.unset(2);
            assertEquals(3, a.loadNext(2, b), "an unset record after the read-ahead is skipped");
            assertEquals(4, b.getLong(0));
            a.append(ByteBuffer.allocate(8).putLong(0, 9999));
            assertEquals(4999, a.loadNext(4999, b));
            assertEquals(5000, a.loadNext(5000, b), "an append after the read-ahead");
            assertEquals(9999, b.getLong(0));
            long[] seen = new long[1];
            Thread other = new Thread(() -> {
                try {
                    ByteBuffer c = ByteBuffer.allocate(8);
                    for (long i = a.loadNext(0, c); i >= 0; i = a.loadNext(i + 1, c)) {
                        seen[0] += c.getLong(0);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            other.start();
            other.join();
            long sum = 0;
            for (long i = a.loadNext(0, b); i >= 0; i = a.loadNext(i + 1, b)) {
                sum += b.getLong(0);
            }
            assertEquals(sum, seen[0], "another thread reads the same records");
            assertEquals(5000L * 5001 / 2 - 2 + 77 - 3 + 9999, sum);
        }
    }

    @Test
    void errorsAreClear() throws Exception {
        try (XfArray a = arrays.create("errors", 8)) {
            a.append(rec(8, 1));
            IndexOutOfBoundsException past = assertThrows(IndexOutOfBoundsException.class, () -> a.load(1, new byte[8]));
            assertTrue(past.getMessage().contains("past the end of xfarray 'errors' (length 1)"), past.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> a.load(-1, new byte[8]));
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> a.load(0, new byte[7]));
            assertTrue(size.getMessage().contains("7 bytes"), size.getMessage());
            IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> a.store(0, new byte[8]));
            assertTrue(zero.getMessage().contains("null"), zero.getMessage());
            IllegalArgumentException overflow = assertThrows(IllegalArgumentException.class,
                    () -> a.store(Long.MAX_VALUE / 4, rec(8, 1)));
            assertTrue(overflow.getMessage().contains("overflows"), overflow.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> arrays.create("zero", 0));
        assertThrows(IllegalArgumentException.class, () -> arrays.create("huge", XfArrayFactory.MAX_RECORD_SIZE + 1));
    }

    @Test
    void unsetMakesNullAndGivesPagesBack() throws Exception {
        try (XfArray a = arrays.create("unset", 16)) {
            for (int i = 0; i < 1024; i++) { // 4 pages
                a.append(rec(16, i + 1));
            }
            long before = a.stats().bytesStaged();
            for (int i = 256; i < 768; i++) { // exactly the second and third pages; the free-slot stack takes one
                a.unset(i);
            }
            assertTrue(a.isNull(300));
            assertFalse(a.isNull(255));
            assertEquals(1024, a.length(), "unset keeps the length");
            assertTrue(a.stats().bytesStaged() < before, "the emptied page was given back: " + a.stats());
        }
    }

    @Test
    void storeAnywhereReusesNullSlotsThenAppends() throws Exception {
        try (XfArray a = arrays.create("anywhere", 4)) {
            for (int i = 0; i < 10; i++) {
                a.append(rec(4, i + 1));
            }
            a.unset(3);
            a.unset(7);
            a.store(7, rec(4, 99)); // refilled by a plain store: must not be handed out again
            assertEquals(3, a.storeAnywhere(rec(4, 50)));
            assertEquals(10, a.storeAnywhere(rec(4, 51)));
            byte[] b = new byte[4];
            a.load(7, b);
            assertArrayEquals(rec(4, 99), b);
        }
    }

    @Test
    void iterationSkipsNullsAndHoles() throws Exception {
        try (XfArray a = arrays.create("iterate", 24)) {
            a.store(3, rec(24, 3));
            a.store(1_000_000, rec(24, 1_000_000)); // a long hole in between
            a.store(1_000_002, rec(24, 7));
            a.unset(1_000_002);
            a.store(1_000_005, rec(24, 5));
            List<Long> seen = new ArrayList<>();
            ByteBuffer b = ByteBuffer.allocate(24);
            for (long i = a.loadNext(0, b); i >= 0; i = a.loadNext(i + 1, b)) {
                seen.add(i);
            }
            assertEquals(List.of(3L, 1_000_000L, 1_000_005L), seen);
            assertTrue(a.stats().loads() < 1000, "a million records of holes were skipped, not read: " + a.stats());
        }
    }

    @Test
    void randomOperationsMatchAnInHeapModel() throws Exception {
        Random rnd = new Random(5);
        int size = 40; // not a divisor of the page size: records straddle pages
        Map<Long, byte[]> model = new HashMap<>();
        ArrayDeque<Long> unused = new ArrayDeque<>();
        long length = 0;
        try (XfArray a = arrays.create("model", size)) {
            for (int op = 0; op < 20_000; op++) {
                int kind = rnd.nextInt(6);
                long i = length == 0 ? 0 : (long) rnd.nextInt((int) length + 50);
                byte[] r = rec(size, rnd.nextInt());
                switch (kind) {
                    case 0 -> {
                        a.store(i, r);
                        model.put(i, r);
                        length = Math.max(length, i + 1);
                    }
                    case 1 -> {
                        long at = a.append(r);
                        assertEquals(length, at);
                        model.put(at, r);
                        length++;
                    }
                    case 2 -> {
                        if (i < length) {
                            a.unset(i);
                            model.remove(i);
                            unused.add(i);
                        }
                    }
                    case 3 -> {
                        long at = a.storeAnywhere(r);
                        assertTrue(at == length || (at < length && !model.containsKey(at)), "slot " + at + " was free");
                        model.put(at, r);
                        length = Math.max(length, at + 1);
                    }
                    default -> {
                        if (i < length) {
                            byte[] b = new byte[size];
                            a.load(i, b);
                            byte[] expect = model.getOrDefault(i, new byte[size]);
                            assertArrayEquals(expect, b, "record " + i + " at op " + op);
                            assertEquals(!model.containsKey(i), a.isNull(i));
                        }
                    }
                }
                assertEquals(length, a.length());
            }
            long count = 0;
            ByteBuffer b = ByteBuffer.allocate(size);
            for (long i = a.loadNext(0, b); i >= 0; i = a.loadNext(i + 1, b)) {
                assertTrue(model.containsKey(i));
                assertArrayEquals(model.get(i), Arrays.copyOf(b.array(), size));
                count++;
            }
            assertEquals(model.size(), count);
        }
    }

    @Test
    void arraysCloseWhenTheirXFileServiceGoesAway() throws Exception {
        XfArray a = arrays.create("orphan", 8);
        a.append(rec(8, 1));
        assertEquals(1, arrays.liveArrays().size());
        arrays.unbindXFileFactory(xfiles);
        StagingClosedException e = assertThrows(StagingClosedException.class, () -> a.load(0, new byte[8]));
        assertTrue(e.getMessage().contains("'orphan'"), e.getMessage());
        assertEquals(0, arrays.liveArrays().size());
        StagingClosedException none = assertThrows(StagingClosedException.class, () -> arrays.create("x", 8));
        assertTrue(none.getMessage().contains("no xfile service"), none.getMessage());
        arrays.bindXFileFactory(xfiles);
        try (XfArray b = arrays.create("again", 8)) {
            b.append(rec(8, 2));
        }
    }

    @Test
    void liveArraysListsRecordsAndBytes() throws Exception {
        try (XfArray a = arrays.create("listed", 16)) {
            a.append(rec(16, 1));
            var info = arrays.liveArrays().get(0);
            assertEquals("listed", info.name());
            assertEquals(1, info.records());
            assertEquals(16, info.recordSize());
            assertEquals(4096, info.bytesStaged());
        }
    }
}
