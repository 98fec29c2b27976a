package org.xfstage.xfarray.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xfstage.api.staging.XfArray;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * XfArray#readView: views read on several threads at once, while the array itself is scanned on another, see every
 * record the array holds (nulls and holes skipped, random loads and null tests alike), and refuse every change.
 */
class ReadViewTest {
    static XFileFactoryImpl xfiles;
    static XfArrayFactoryImpl arrays;

    @BeforeAll
    static void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 30, 1L << 31);
        arrays = new XfArrayFactoryImpl(xfiles);
    }

    @AfterAll
    static void stop() {
        arrays.deactivate();
        xfiles.deactivate();
    }

    /** Sums of every (index, record) a scan finds, as a fingerprint of what it read. */
    private static long[] scan(XfArray a) throws Exception {
        ByteBuffer rec = ByteBuffer.allocate(a.recordSize());
        long n = 0;
        long sum = 0;
        for (long i = a.loadNext(0, rec); i >= 0; i = a.loadNext(i + 1, rec)) {
            n++;
            sum = sum * 31 + i * 7 + rec.getLong(0) + rec.getLong(8);
        }
        return new long[] {n, sum};
    }

    @Test
    void viewsReadWhatTheArrayHoldsOnSeveralThreadsAtOnce() throws Exception {
        try (XfArray a = arrays.create("read views", 16)) {
            ByteBuffer rec = ByteBuffer.allocate(16);
            for (long i = 0; i < 200_000; i++) {
                if (i % 7 == 3) {
                    continue; // nulls between records
                }
                rec.clear();
                rec.putLong(0, i + 1).putLong(8, i * i + 5);
                a.store(i, rec);
            }
            rec.putLong(0, 42).putLong(8, 43);
            a.store(5_000_000, rec); // a hole of megabytes, skipped unread
            long[] expected = scan(a);
            assertEquals(200_000 - 200_000 / 7 + 1, expected[0]);

            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<long[]>> scans = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    XfArray v = a.readView();
                    scans.add(pool.submit(() -> {
                        long[] last = null;
                        for (int k = 0; k < 5; k++) {
                            last = scan(v);
                        }
                        return last;
                    }));
                }
                long[] meanwhile = scan(a); // the array's own scan, at the same time
                for (Future<long[]> f : scans) {
                    assertArrayEquals(expected, f.get());
                }
                assertArrayEquals(expected, meanwhile);
            } finally {
                pool.shutdown();
            }

            XfArray v = a.readView();
            ByteBuffer x = ByteBuffer.allocate(16);
            ByteBuffer y = ByteBuffer.allocate(16);
            for (long i = 0; i < 200_000; i += 997) {
                assertEquals(a.isNull(i), v.isNull(i), "null at " + i);
                a.load(i, x);
                v.load(i, y);
                assertEquals(x, y, "record " + i);
            }
            assertEquals(a.length(), v.length());
            assertThrows(IndexOutOfBoundsException.class, () -> v.load(a.length(), y));
            assertThrows(UnsupportedOperationException.class, () -> v.store(1, rec));
            assertThrows(UnsupportedOperationException.class, () -> v.append(rec));
            assertThrows(UnsupportedOperationException.class, () -> v.unset(1));
            assertThrows(UnsupportedOperationException.class, () -> v.sort(null, null, null));
            v.close(); // closes nothing
            assertArrayEquals(expected, scan(a));
        }
    }
}
