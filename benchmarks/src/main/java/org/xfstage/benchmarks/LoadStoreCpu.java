package org.xfstage.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

import org.xfstage.api.staging.XfArray;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * {@link LoadStoreBenchmark}'s four loops timed by the thread's CPU time, the least of many passes: on a shared machine
 * whose load makes JMH's wall-clock figures meaningless (+-100% at a load average of 20), the CPU a pass took is still
 * comparable between an xfarray and a raw {@link MappedByteBuffer} in the same JVM.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.LoadStoreCpu 60
 * </pre>
 */
public final class LoadStoreCpu {
    private static final int N = LoadStoreBenchmark.N;
    private static final int R = LoadStoreBenchmark.R;
    /** Read by nobody: keeps the loads from being optimised away. */
    static long sink;

    private LoadStoreCpu() {
    }

    public static void main(String[] args) throws Exception {
        int passes = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        XfArray array = arrays.create("bench", R);
        Path raw = Files.createTempFile(Path.of("/dev/shm"), "raw", ".bench");
        MappedByteBuffer mapped;
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, (long) N * R);
        }
        byte[] rec = new byte[R];
        rec[0] = 1;
        for (int i = 0; i < N; i++) {
            rec[8] = (byte) i;
            array.store(i, rec);
            mapped.put(i * R, rec);
        }
        long[] least = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
        for (int p = 0; p < passes; p++) {
            for (int k = 0; k < least.length; k++) {
                long c0 = threads.getCurrentThreadCpuTime();
                switch (k) {
                    case 0 -> {
                        for (int i = 0; i < N; i++) {
                            array.load(i, rec);
                            sink += rec[8];
                        }
                    }
                    case 1 -> {
                        for (int i = 0; i < N; i++) {
                            mapped.get(i * R, rec);
                            sink += rec[8];
                        }
                    }
                    case 2 -> {
                        for (int i = 0; i < N; i++) {
                            rec[9] = (byte) i;
                            array.store(i, rec);
                        }
                    }
                    default -> {
                        for (int i = 0; i < N; i++) {
                            rec[9] = (byte) i;
                            mapped.put(i * R, rec);
                        }
                    }
                }
                least[k] = Math.min(least[k], threads.getCurrentThreadCpuTime() - c0);
            }
        }
        System.out.printf(Locale.ROOT, "ns per 16-byte record (least CPU of %d passes of 2^20): xfarray load %.2f, raw load %.2f "
                + "(ratio %.2fx); xfarray store %.2f, raw store %.2f (ratio %.2fx); load average %s%n", passes,
                least[0] / (double) N, least[1] / (double) N, least[1] / (double) least[0], least[2] / (double) N,
                least[3] / (double) N, least[3] / (double) least[2], Files.readString(Path.of("/proc/loadavg")).trim());
        array.close();
        arrays.deactivate();
        xfiles.deactivate();
        Files.deleteIfExists(raw);
    }
}
