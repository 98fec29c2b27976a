package org.xfstage.benchmarks;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * Comparison run for the xfarray sort (single-shot, multi-second work, so a plain timed run rather than JMH):
 * 16-byte records (8-byte big-endian key + 8-byte payload) sorted by the key-prefix path and by the
 * comparator path, against {@code Arrays.sort(long[])} and {@code Arrays.parallelSort(long[])} of the same
 * keys on the heap, all in one JVM run. Prints median times and records/s ratios.
 *
 * <pre>
 * java -Xmx4g -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.SortComparison 10000000 3
 * java -Xmx64m -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.SortComparison 100000000 1 xfarray-only
 * (modes: all, xfarray-only, prefix-only)
 * </pre>
 */
public final class SortComparison {
    /** 8-byte big-endian key + 8-byte payload, the key declared as a radix prefix. */
    static final RecordComparator BY_KEY_PREFIX = RecordComparator.unsignedLongs(2);

    static final RecordComparator BY_COMPARATOR = (a, ao, b, bo) -> {
        int c = Long.compareUnsigned(a.getLong(ao), b.getLong(bo));
        return c != 0 ? c : Long.compareUnsigned(a.getLong(ao + 8), b.getLong(bo + 8));
    };

    public static void main(String[] args) throws Exception {
        long n = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String mode = args.length > 2 ? args[2] : "all";
        boolean xfarrayOnly = !mode.equals("all");
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(64L << 30, 128L << 30);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        System.out.printf(Locale.ROOT, "n=%,d records of 16 bytes, %d repeat(s), %d cpu(s), max heap %d MiB, java %s%n", n, repeats,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
                System.getProperty("java.version"));
        double prefix = median(repeats, () -> timeXfArray(arrays, n, BY_KEY_PREFIX));
        report("xfarray key-prefix path", n, prefix);
        System.out.printf(Locale.ROOT, "  peak heap during that sort: %d MiB%n", lastPeakHeap >> 20);
        if (mode.equals("prefix-only")) {
            return;
        }
        double comparator = median(repeats, () -> timeXfArray(arrays, n, BY_COMPARATOR));
        report("xfarray comparator path", n, comparator);
        System.out.printf(Locale.ROOT, "  peak heap during that sort: %d MiB%n", lastPeakHeap >> 20);
        if (!xfarrayOnly) {
            double sort = median(repeats, () -> timeHeap(n, false));
            report("Arrays.sort(long[])", n, sort);
            double parallel = median(repeats, () -> timeHeap(n, true));
            report("Arrays.parallelSort(long[])", n, parallel);
            System.out.printf(Locale.ROOT, "ratio (records/s vs Arrays.sort): key-prefix %.2fx, comparator %.2fx, parallelSort %.2fx%n",
                    sort / prefix, sort / comparator, sort / parallel);
        }
        arrays.deactivate();
        xfiles.deactivate();
    }

    interface Timed {
        double seconds() throws Exception;
    }

    static double median(int repeats, Timed t) throws Exception {
        double[] s = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            s[i] = t.seconds();
        }
        Arrays.sort(s);
        return s[repeats / 2];
    }

    static void report(String what, long n, double seconds) {
        System.out.printf(Locale.ROOT, "%-30s %8.3f s  %,14.0f records/s%n", what, seconds, n / seconds);
    }

    static long lastPeakHeap;

    static double timeXfArray(XfArrayFactoryImpl arrays, long n, RecordComparator cmp) throws Exception {
        try (XfArray a = arrays.create("bench", 16)) {
            ByteBuffer rec = ByteBuffer.allocate(16);
            SplittableRandom rnd = new SplittableRandom(42);
            for (long i = 0; i < n; i++) {
                rec.clear();
                rec.putLong(rnd.nextLong()).putLong(i + 1).flip();
                a.append(rec);
            }
            System.gc();
            HeapPeaks.reset();
            long t0 = System.nanoTime();
            a.sort(cmp, SortOptions.DEFAULT, Progress.NONE);
            double s = (System.nanoTime() - t0) / 1e9;
            lastPeakHeap = HeapPeaks.peak();
            verifySorted(a, n);
            return s;
        }
    }

    static void verifySorted(XfArray a, long n) throws Exception {
        ByteBuffer prev = ByteBuffer.allocate(16);
        ByteBuffer cur = ByteBuffer.allocate(16);
        long step = Math.max(1, n / 100_000);
        a.load(0, prev);
        for (long i = step; i < n; i += step) {
            a.load(i, cur);
            if (Long.compareUnsigned(prev.getLong(0), cur.getLong(0)) > 0) {
                throw new AssertionError("not sorted at " + i);
            }
            ByteBuffer t = prev;
            prev = cur;
            cur = t;
        }
    }

    static double timeHeap(long n, boolean parallel) {
        long[] keys = new long[Math.toIntExact(n)];
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < keys.length; i++) {
            keys[i] = rnd.nextLong() ^ Long.MIN_VALUE; // signed order of x^MIN == unsigned order of x
        }
        long t0 = System.nanoTime();
        if (parallel) {
            Arrays.parallelSort(keys);
        } else {
            Arrays.sort(keys);
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
