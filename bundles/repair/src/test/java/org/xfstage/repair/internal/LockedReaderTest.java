package org.xfstage.repair.internal;

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
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The locked reader (LockedReader) CheckReads falls back on for an array without a reading view: scans on several threads at once
 * (each its own reader, one lock) find every record the array holds, in order, nulls skipped, across batch ends and
 * after a step back; loads by index read the same; every change is refused.
 */
class LockedReaderTest {
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

    private static List<Long> scan(XfArray a, long from) throws Exception {
        ByteBuffer rec = ByteBuffer.allocate(a.recordSize());
        List<Long> out = new ArrayList<>();
        for (long i = a.loadNext(from, rec); i >= 0; i = a.loadNext(i + 1, rec)) {
            assertEquals(i * 3 + 1, rec.getLong(0), "record " + i);
            out.add(i);
        }
        return out;
    }

    @Test
    void lockedReadersScanLikeTheArrayOnSeveralThreadsAndRefuseChanges() throws Exception {
        try (XfArray a = arrays.create("locked readers", 16)) {
            ByteBuffer rec = ByteBuffer.allocate(16);
            for (long i = 0; i < 50_000; i++) {
                if (i % 5 != 2) {
                    rec.putLong(0, i * 3 + 1).putLong(8, 9);
                    a.store(i, rec);
                }
            }
            List<Long> expected = scan(a, 0);
            Object lock = new Object();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<List<Long>>> scans = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    LockedReader r = new LockedReader(a, lock);
                    scans.add(pool.submit(() -> scan(r, 0)));
                }
                for (Future<List<Long>> f : scans) {
                    assertEquals(expected, f.get());
                }
            } finally {
                pool.shutdown();
            }
            LockedReader r = new LockedReader(a, lock);
            assertEquals(expected.subList(expected.indexOf(30_000L), expected.size()), scan(r, 30_000));
            assertEquals(expected.subList(expected.indexOf(1L), expected.size()), scan(r, 1)); // a step back
            ByteBuffer x = ByteBuffer.allocate(16);
            r.load(8, x);
            assertEquals(25, x.getLong(0));
            assertEquals(true, r.isNull(7L * 5 + 2));
            assertThrows(UnsupportedOperationException.class, () -> r.store(1, rec));
            assertThrows(UnsupportedOperationException.class, () -> r.append(rec));
            assertThrows(UnsupportedOperationException.class, () -> r.sort(null, null, null));
        }
    }
}
