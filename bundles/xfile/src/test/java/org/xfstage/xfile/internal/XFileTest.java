package org.xfstage.xfile.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.XFile;
import org.xfstage.api.staging.XFileBacking;
import org.xfstage.api.staging.XFileFullException;
import org.xfstage.api.staging.XFilePage;

class XFileTest {
    private static final int WINDOW = 64 << 10; // small windows so that tests cross many boundaries

    @TempDir
    Path dir;
    private final List<XFileFactoryImpl> factories = new ArrayList<>();

    private XFileFactoryImpl factory(XFileBacking backing, long maxFile, long maxTotal) {
        XFileFactoryImpl f = new XFileFactoryImpl();
        f.apply(new StagingSettings(backing, dir, maxFile, maxTotal, WINDOW));
        factories.add(f);
        return f;
    }

    private XFileFactoryImpl factory(XFileBacking backing) {
        return factory(backing, 1L << 40, 1L << 40);
    }

    @AfterEach
    void stop() {
        factories.forEach(XFileFactoryImpl::deactivate);
    }

    private static byte[] pattern(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(XFileBacking.class)
    void storeThenLoadAcrossWindowAndPageBoundaries(XFileBacking backing) throws Exception {
        try (XFile f = factory(backing).create("cross")) {
            byte[] data = pattern(3 * WINDOW + 777, 1);
            long pos = WINDOW - 100; // starts 100 bytes before the first window edge
            f.store(pos, data, 0, data.length);
            byte[] back = new byte[data.length];
            f.load(pos, back, 0, back.length);
            assertArrayEquals(data, back);
            assertEquals(pos + data.length, f.size());
            assertEquals(backing, f.backing());
        }
    }

    @Test
    void holesReadAsZerosAndCostNothing() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD).create("holes")) {
            byte[] back = pattern(10_000, 2);
            f.load(12345, back, 0, back.length); // nothing stored at all
            assertArrayEquals(new byte[10_000], back);
            f.store(0, new byte[] {1}, 0, 1);
            f.store(10L * WINDOW, new byte[] {2}, 0, 1);
            f.load(1, back, 0, back.length); // hole inside a mapped window
            assertArrayEquals(new byte[10_000], back);
            assertEquals(2L * f.pageSize(), f.bytesUsed(), "two pages written, two pages used");
            assertEquals(10L * WINDOW + 1, f.size());
        }
    }

    @Test
    void offsetsFarBeyondFourGibAreSparse() throws Exception {
        try (XFile f = (XFile) factory(XFileBacking.MEMFD).create("far")) {
            long far = (1L << 40) + 4093; // 1 TiB + a bit: crosses a page edge
            byte[] data = pattern(7, 3);
            f.store(far, data, 0, data.length);
            byte[] back = new byte[7];
            f.load(far, back, 0, 7);
            assertArrayEquals(data, back);
            assertEquals(far + 7, f.size());
            assertEquals(2L * f.pageSize(), f.bytesUsed());
            assertEquals(far, f.seekData(0) + (far & (f.pageSize() - 1)));
            assertTrue(((MappedXFile) f).allocatedByKernel() <= 4L * f.pageSize(), "kernel allocation stays small");
        }
    }

    @Test
    void seekDataFindsNextDataPage() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD).create("seek")) {
            assertEquals(-1, f.seekData(0));
            f.store(5L * WINDOW + 10, new byte[] {9}, 0, 1);
            assertEquals(5L * WINDOW, f.seekData(0));
            assertEquals(5L * WINDOW + 7, f.seekData(5L * WINDOW + 7));
            assertEquals(-1, f.seekData(5L * WINDOW + f.pageSize()));
        }
    }

    @Test
    void discardGivesMemoryBackAndZeroesPartialPages() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD).create("discard")) {
            MappedXFile m = (MappedXFile) f;
            byte[] data = pattern(40 * f.pageSize(), 4);
            f.store(0, data, 0, data.length);
            long before = m.allocatedByKernel();
            assertTrue(before >= data.length, "kernel holds the stored pages");
            f.discard(100, 30L * f.pageSize()); // partial first page, 29 whole pages, partial last
            assertEquals(11L * f.pageSize(), f.bytesUsed());
            assertTrue(m.allocatedByKernel() <= before - 29L * f.pageSize(), "punched pages are freed");
            byte[] back = new byte[data.length];
            f.load(0, back, 0, back.length);
            byte[] expect = data.clone();
            Arrays.fill(expect, 100, 100 + 30 * f.pageSize(), (byte) 0);
            assertArrayEquals(expect, back);
            assertEquals(data.length, f.size(), "discard keeps the size");
        }
    }

    @Test
    void reserveAllocatesUpFrontAndFailsEarlyWhenItCannotFit() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD, 64 * 4096, 1L << 30).create("reserve")) {
            f.reserve(4096, 3L * WINDOW);
            assertEquals(3L * WINDOW, f.bytesUsed());
            assertEquals(4096 + 3L * WINDOW, f.size());
            assertTrue(((MappedXFile) f).allocatedByKernel() >= 3L * WINDOW, "the kernel holds the pages");
            byte[] back = new byte[100];
            f.load(5000, back, 0, 100);
            assertArrayEquals(new byte[100], back, "reserved pages read as zeros");
            XFileFullException e = assertThrows(XFileFullException.class, () -> f.reserve(1L << 30, 64L * 4096));
            assertTrue(e.getMessage().contains("maxFileBytes"), e.getMessage());
        }
    }

    @Test
    void appendsAllocateAheadButNeverPastALimitTheyFit() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD, 10 * 4096, 1L << 30).create("ahead")) {
            for (int i = 0; i < 10 * 4096; i += 16) {
                f.store(i, new byte[16], 0, 16); // sequential appends up to exactly the per-file limit
            }
            assertEquals(10 * 4096, f.bytesUsed());
            assertThrows(XFileFullException.class, () -> f.store(10 * 4096, new byte[1], 0, 1));
        }
    }

    @Test
    void pageIsAZeroCopyViewOfTheFile() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD).create("page")) {
            try (XFilePage page = f.page(3L * WINDOW + 5000)) {
                assertEquals(3L * WINDOW + 4096, page.position());
                assertEquals(f.pageSize(), page.buffer().capacity());
                page.buffer().putLong(8, 0x1122334455667788L);
            }
            ByteBuffer b = ByteBuffer.allocate(8);
            f.load(3L * WINDOW + 4096 + 8, b);
            assertEquals(0x1122334455667788L, b.flip().getLong());
            assertEquals(f.pageSize(), f.bytesUsed());
        }
    }

    @Test
    void perFileLimitFailsNamingTheLimit() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD, 8 * 4096, 1L << 30).create("small")) {
            f.store(0, new byte[8 * 4096], 0, 8 * 4096);
            XFileFullException e = assertThrows(XFileFullException.class, () -> f.store(8 * 4096, new byte[1], 0, 1));
            assertTrue(e.getMessage().contains("maxFileBytes=32768"), e.getMessage());
        }
    }

    @Test
    void totalLimitCoversAllFilesAndIsReturnedOnClose() throws Exception {
        XFileFactoryImpl fac = factory(XFileBacking.MEMFD, 1L << 30, 16 * 4096);
        XFile a = fac.create("a");
        XFile b = fac.create("b");
        a.store(0, new byte[10 * 4096], 0, 10 * 4096);
        XFileFullException e = assertThrows(XFileFullException.class, () -> b.store(0, new byte[7 * 4096], 0, 7 * 4096));
        assertTrue(e.getMessage().contains("maxTotalBytes=65536"), e.getMessage());
        a.close();
        assertEquals(0, fac.totalBytesUsed());
        b.store(0, new byte[7 * 4096], 0, 7 * 4096);
        b.close();
    }

    /** A libc whose fallocate reports a full file system after {@code pagesLeft} pages, as a full tmpfs does. */
    private static LibC fillingUpAfter(LibC real, long pagesLeft) {
        long[] left = {pagesLeft};
        return new LibC() {
            public int memfd_create(String name, int flags) {
                return real.memfd_create(name, flags);
            }

            public int open(String path, int flags, int mode) {
                return real.open(path, flags, mode);
            }

            public int fallocate(int fd, int mode, long offset, long len) {
                if ((mode & FALLOC_FL_PUNCH_HOLE) == 0) {
                    if (len / 4096 > left[0]) {
                        throw new com.sun.jna.LastErrorException(ENOSPC);
                    }
                    left[0] -= len / 4096;
                }
                return real.fallocate(fd, mode, offset, len);
            }

            public int fstat(int fd, byte[] buf) {
                return real.fstat(fd, buf);
            }

            public int close(int fd) {
                return real.close(fd);
            }

            public String strerror(int errnum) {
                return real.strerror(errnum);
            }
        };
    }

    @ParameterizedTest
    @EnumSource(XFileBacking.class)
    void fullStagingFileSystemIsAnExceptionNotACrash(XFileBacking backing) throws Exception {
        XFileFactoryImpl fac = factory(backing);
        fac.useLibC(fillingUpAfter(LibC.load(), 10));
        try (XFile f = fac.create("full")) {
            f.store(0, new byte[10 * 4096], 0, 10 * 4096);
            XFileFullException e = assertThrows(XFileFullException.class, () -> f.store(10 * 4096, new byte[1], 0, 1));
            assertTrue(e.getMessage().contains("is full (No space left on device)"), e.getMessage());
            assertEquals(10 * 4096, f.bytesUsed(), "the failed page is not counted");
            assertEquals(0, fac.totalBytesUsed() - f.bytesUsed(), "the failed reservation is returned");
            byte[] back = new byte[1];
            f.load(9 * 4096, back, 0, 1); // the file stays usable
        }
    }

    @Test
    void closedFileAndStoppedFactoryFailClearly() throws Exception {
        XFileFactoryImpl fac = factory(XFileBacking.MEMFD);
        XFile f = fac.create("x");
        f.store(0, new byte[] {1}, 0, 1);
        assertEquals(1, fac.liveFiles().size());
        fac.deactivate();
        assertEquals(0, fac.liveFiles().size());
        StagingClosedException e = assertThrows(StagingClosedException.class, () -> f.load(0, new byte[1], 0, 1));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        assertThrows(StagingClosedException.class, () -> fac.create("y"));
        f.close(); // twice is harmless
    }

    @Test
    void liveFilesListsNameSizeAndBytes() throws Exception {
        XFileFactoryImpl fac = factory(XFileBacking.FILE);
        try (XFile f = fac.create("listed")) {
            f.store(4096, new byte[100], 0, 100);
            var info = fac.liveFiles().get(0);
            assertEquals("listed", info.name());
            assertEquals(4196, info.size());
            assertEquals(4096, info.bytesUsed());
            assertEquals(XFileBacking.FILE, info.backing());
            try (var files = Files.list(dir)) {
                assertEquals(0, files.count(), "the backing file is unlinked at once");
            }
        }
    }

    @Test
    void concurrentStoresToDisjointRangesAllLand() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD).create("threads")) {
            int threads = 4;
            int perThread = 20_000;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tt = t;
                futures.add(pool.submit(() -> {
                    ByteBuffer b = ByteBuffer.allocate(12);
                    for (int i = 0; i < perThread; i++) {
                        long rec = (long) i * threads + tt; // interleaved records share pages and windows
                        b.clear().putLong(rec + 1).putInt(tt).flip();
                        f.store(rec * 12, b);
                    }
                    return null;
                }));
            }
            for (Future<?> fu : futures) {
                fu.get();
            }
            pool.shutdown();
            ByteBuffer b = ByteBuffer.allocate(12);
            for (long rec = 0; rec < (long) threads * perThread; rec++) {
                b.clear();
                f.load(rec * 12, b);
                b.flip();
                assertEquals(rec + 1, b.getLong());
                assertEquals(rec % threads, b.getInt());
            }
        }
    }

    @Test
    void randomOperationsMatchAnInHeapModel() throws Exception {
        Random rnd = new Random(42);
        int modelSize = 6 * WINDOW + 1234;
        byte[] model = new byte[modelSize];
        long size = 0;
        try (XFile f = factory(XFileBacking.MEMFD).create("model")) {
            for (int op = 0; op < 20_000; op++) {
                int pos = rnd.nextInt(modelSize);
                int len = Math.min(modelSize - pos, rnd.nextInt(8) == 0 ? rnd.nextInt(3 * 4096) : rnd.nextInt(40));
                switch (rnd.nextInt(10)) {
                    case 0 -> {
                        f.discard(pos, len);
                        Arrays.fill(model, pos, pos + len, (byte) 0);
                    }
                    case 1, 2, 3, 4 -> {
                        byte[] data = new byte[len];
                        rnd.nextBytes(data);
                        f.store(pos, data, 0, len);
                        System.arraycopy(data, 0, model, pos, len);
                        if (len > 0) {
                            size = Math.max(size, pos + len);
                        }
                    }
                    case 5 -> {
                        try (XFilePage p = f.page(pos)) {
                            int inPage = (int) (pos - p.position());
                            byte v = (byte) rnd.nextInt();
                            p.buffer().put(inPage, v);
                            model[pos] = v;
                            size = Math.max(size, p.position() + f.pageSize());
                        }
                    }
                    default -> {
                        byte[] back = new byte[len];
                        f.load(pos, back, 0, len);
                        assertArrayEquals(Arrays.copyOfRange(model, pos, pos + len), back, "load at " + pos + " op " + op);
                    }
                }
                assertEquals(size, f.size(), "size after op " + op);
            }
            byte[] all = new byte[modelSize];
            f.load(0, all, 0, modelSize);
            assertArrayEquals(model, all);
            long data = f.seekData(0);
            int firstNonZero = 0;
            while (firstNonZero < modelSize && model[firstNonZero] == 0) {
                firstNonZero++;
            }
            assertTrue(data >= 0 && data <= firstNonZero, "seekData does not skip data");
        }
    }
    /** A view is the run of allocated pages around an offset, in its window; none in a hole; writes through it are the file's. */
    @Test
    void aViewLendsTheRunOfAllocatedPagesAroundAnOffset() throws Exception {
        try (XFile f = factory(XFileBacking.MEMFD).create("viewed")) {
            int page = f.pageSize();
            f.store(0, new byte[3 * page], 0, 3 * page); // pages 0-2 (and the grow-ahead of appends: not for a first store)
            f.store(40L * page + 10, new byte[] {7}, 0, 1); // page 40, alone
            org.xfstage.api.staging.XFileView run = f.view(page + 5);
            assertEquals(0, run.start());
            assertEquals(3 * page, run.bytes().capacity());
            org.xfstage.api.staging.XFileView alone = f.view(40L * page);
            assertEquals(40L * page, alone.start());
            assertEquals(page, alone.bytes().capacity());
            assertEquals(7, alone.bytes().get(10));
            assertEquals(null, f.view(20L * page), "a hole lends no view");
            run.bytes().put(2 * page + 1, (byte) 9);
            byte[] b = new byte[1];
            f.load(2L * page + 1, b, 0, 1);
            assertEquals(9, b[0]);
        }
    }
}
