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
 * 16-byte records (8-byte big-endian key + 8-byte payload) sorted by the key-prefix path, by the comparator
 * path (a comparator that declares no prefix; the sort finds that it follows the key, sorts by it and checks the
 * result) and by an opaque comparator (the key read little-endian: no big-endian field follows that order, so the
 * sort merges by the comparator alone), against {@code Arrays.sort(long[])} and {@code Arrays.parallelSort(long[])} of the same
 * keys on the heap, all in one JVM run. Prints median times and records/s ratios.
 *
 * <pre>
 * java -Xmx4g -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.SortComparison 10000000 3
 * java -Xmx64m -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.SortComparison 100000000 1 xfarray-only
 * (modes: all, xfarray-only, prefix-only, or a comma list of prefix, comparator, opaque, sort, parallel: one path
 * per fresh JVM, as the 10^8 figures are taken)
 * </pre>
 */
public final class SortComparison {
    /** 8-byte big-endian key + 8-byte payload, the key declared as a radix prefix. */
    static final RecordComparator BY_KEY_PREFIX = RecordComparator.unsignedLongs(2);

    static final RecordComparator BY_COMPARATOR = (a, ao, b, bo) -> {
        int c = Long.compareUnsigned(a.getLong(ao), b.getLong(bo));
        return c != 0 ? c : Long.compareUnsigned(a.getLong(ao + 8), b.getLong(bo + 8));
    };

    /**
     * The same work per call as {@link #BY_COMPARATOR}, in an order no big-endian field of the record follows: what
     * a comparator the sort can find nothing about costs.
     */
    static final RecordComparator BY_OPAQUE_COMPARATOR = (a, ao, b, bo) -> {
        int c = Long.compareUnsigned(Long.reverseBytes(a.getLong(ao)), Long.reverseBytes(b.getLong(bo)));
        return c != 0 ? c : Long.compareUnsigned(a.getLong(ao + 8), b.getLong(bo + 8));
    };

    public static void main(String[] args) throws Exception {
        long n = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String mode = args.length > 2 ? args[2] : "all";
        java.util.Set<String> runs = switch (mode) {
            case "all" -> java.util.Set.of("prefix", "comparator", "opaque", "sort", "parallel");
            case "xfarray-only" -> java.util.Set.of("prefix", "comparator", "opaque");
            case "prefix-only" -> java.util.Set.of("prefix");
            default -> java.util.Set.of(mode.split(","));
        };
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(64L << 30, 128L << 30);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        System.out.printf(Locale.ROOT, "n=%,d records of 16 bytes, %d repeat(s), %d cpu(s), max heap %d MiB, java %s, load average %s%n",
                n, repeats, Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
                System.getProperty("java.version"), java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim());
        double prefix = Double.NaN;
        double comparator = Double.NaN;
        double opaque = Double.NaN;
        if (runs.contains("prefix")) {
            prefix = median(repeats, () -> timeXfArray(arrays, n, BY_KEY_PREFIX));
            report("xfarray key-prefix path", n, prefix);
            System.out.printf(Locale.ROOT, "  peak heap during that sort: %d MiB%n", lastPeakHeap >> 20);
        }
        if (runs.contains("comparator")) {
            comparator = median(repeats, () -> timeXfArray(arrays, n, BY_COMPARATOR));
            report("xfarray comparator path", n, comparator);
            System.out.printf(Locale.ROOT, "  peak heap during that sort: %d MiB%n", lastPeakHeap >> 20);
        }
        if (runs.contains("opaque")) {
            opaque = median(repeats, () -> timeXfArray(arrays, n, BY_OPAQUE_COMPARATOR));
            report("xfarray opaque comparator", n, opaque);
            System.out.printf(Locale.ROOT, "  peak heap during that sort: %d MiB%n", lastPeakHeap >> 20);
        }
        if (runs.contains("sort")) {
            double sort = median(repeats, () -> timeHeap(n, false));
            report("Arrays.sort(long[])", n, sort);
            double parallel = Double.NaN;
            if (runs.contains("parallel")) {
                parallel = median(repeats, () -> timeHeap(n, true));
                report("Arrays.parallelSort(long[])", n, parallel);
            }
            System.out.printf(Locale.ROOT,
                    "ratio (records/s vs Arrays.sort): key-prefix %.2fx, comparator %.2fx, opaque comparator %.2fx, parallelSort %.2fx%n",
                    sort / prefix, sort / comparator, sort / opaque, sort / parallel);
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
        System.out.printf(Locale.ROOT, "%-30s %8.3f s  %,14.0f records/s  (cpu of the last run %.3f s)%n", what, seconds,
                n / seconds, lastCpu / 1e9);
    }

    static long lastPeakHeap;
    /**
     * CPU of the JVM (all threads) during the last timed sort, in ns: on a shared machine whose load stretches wall
     * times by 2-10x from run to run, what the sort itself cost still compares between builds.
     */
    static long lastCpu;

    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

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
            long c0 = processCpu();
            long t0 = System.nanoTime();
            a.sort(cmp, SortOptions.DEFAULT, Progress.NONE);
            double s = (System.nanoTime() - t0) / 1e9;
            lastCpu = processCpu() - c0;
            lastPeakHeap = HeapPeaks.peak();
            verifySorted(a, n, cmp);
            return s;
        }
    }

    static void verifySorted(XfArray a, long n, RecordComparator cmp) throws Exception {
        ByteBuffer prev = ByteBuffer.allocate(16);
        ByteBuffer cur = ByteBuffer.allocate(16);
        long step = Math.max(1, n / 100_000);
        a.load(0, prev);
        for (long i = step; i < n; i += step) {
            a.load(i, cur);
            if (cmp.compare(prev, 0, cur, 0) > 0) {
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
        long c0 = processCpu();
        long t0 = System.nanoTime();
        if (parallel) {
            Arrays.parallelSort(keys);
        } else {
            Arrays.sort(keys);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        lastCpu = processCpu() - c0;
        return s;
    }
}
