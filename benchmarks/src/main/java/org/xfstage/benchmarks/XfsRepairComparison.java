package org.xfstage.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.repair.internal.RepairEngineImpl;

/**
 * Comparison run against {@code xfs_repair -n} on the same image, medians of several runs and their ratio, with the
 * peak heap of our runs:
 * <ul>
 * <li>{@code manifest}: the full metadata walk ({@code xfs:manifest} without checksums);</li>
 * <li>{@code scrub}: a full scrub with every built-in strategy;</li>
 * <li>{@code repair}: on fresh copies of the image with AG 1's bnobt damaged, {@code xfs:repair --apply} against a
 * full {@code xfs_repair} (both leave it clean);</li>
 * <li>{@code repair-dir}: the same with the hash index of the leaf directory /dir1 damaged (a directory rebuild).</li>
 * </ul>
 *
 * <pre>java [-Xmx128m] [-Dxfstage.walkThreads=N] -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.XfsRepairComparison scrub IMAGE [repeats]</pre>
 * {@code xfstage.walkThreads} is the engine's walkThreads setting (threads that walk the AGs; 0 or unset: one per
 * available processor, 1: one AG after another), so that runs with one thread and with several can be compared.
 */
public final class XfsRepairComparison {
    /**
     * Rounds run before the measured ones ({@code -Dxfstage.warmups}, default 1): one leaves the JIT compiling through
     * the first measured rounds of a repair (a JVM's first repairs of the 200k image take 1.3, 0.5, 0.4 s before
     * settling near 0.3 s), which a Karaf that has run a few commands is past; more measure that settled JVM.
     */
    private static final int WARMUPS = Math.max(0, Integer.getInteger("xfstage.warmups", 1));

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path image = Path.of(args[1]);
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        BenchEngine bench = new BenchEngine();
        XfsDeviceServiceImpl devices = bench.devices;
        RepairEngineImpl engine = bench.engine;
        if (mode.equals("repair") || mode.equals("repair-dir")) {
            repair(engine, image, repeats, mode.equals("repair") ? BNOBT : DIRECTORY);
            bench.close();
            return;
        }
        long[] count = new long[1];
        long[] staging = new long[2]; // the last scrub's estimate and its real peak
        Map<String, Long> phases = new java.util.LinkedHashMap<>(); // the last scrub's
        double[] ours = new double[repeats];
        double[] oursCpu = new double[repeats];
        long peak = 0;
        long liveAfterGc = 0;
        for (int i = -WARMUPS; i < repeats; i++) { // warm-up rounds first
            System.gc();
            resetPeaks();
            long t0 = System.nanoTime();
            long c0 = processCpuNanos();
            if (mode.equals("scrub")) {
                ScrubReport r = engine.scrub(image, ScrubOptions.all(), Progress.NONE);
                if (!r.clean()) {
                    throw new IllegalStateException("the comparison image is not clean: " + r.findings().get(0));
                }
                count[0] = r.figures().get("inodes");
                staging[0] = r.figures().getOrDefault("stagingEstimate", 0L);
                staging[1] = r.figures().getOrDefault("stagingPeak", 0L);
                for (String f : List.of("walk_threads", "walk_ms", "tree_walk_ms", "sort_ms", "phase:checks:ms")) {
                    phases.put(f, r.figures().getOrDefault(f, -1L));
                }
            } else {
                count[0] = 0;
                try (XfsDevice dev = devices.open(image, OpenOptions.readOnly())) {
                    dev.manifest(false, Progress.NONE, e -> count[0]++);
                }
            }
            if (i >= 0) {
                ours[i] = (System.nanoTime() - t0) / 1e9;
                oursCpu[i] = (processCpuNanos() - c0) / 1e9;
                peak = Math.max(peak, HeapPeaks.peak());
                liveAfterGc = Math.max(liveAfterGc, AFTER_GC.get());
            }
        }
        double[] theirs = new double[repeats];
        double[] theirsCpu = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            long c0 = childrenCpuNanos();
            Process p = new ProcessBuilder("xfs_repair", "-n", image.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            int rc = p.waitFor();
            theirs[i] = (System.nanoTime() - t0) / 1e9;
            theirsCpu[i] = (childrenCpuNanos() - c0) / 1e9;
            if (rc != 0) {
                throw new IllegalStateException("xfs_repair -n exited " + rc + " on " + image);
            }
        }
        bench.close();
        double a = median(ours);
        double b = median(theirs);
        double ac = median(oursCpu);
        double bc = median(theirsCpu);
        System.out.printf(Locale.ROOT, "%s of %s (%,d %s): %.3f s, xfs_repair -n %.3f s, ratio %.2fx (target <= 1.0x), "
                + "peak heap %d MiB of %d MiB (after a collection at most %d MiB); CPU %.3f s against %.3f s, ratio %.2fx%n",
                mode, image.getFileName(), count[0], mode.equals("scrub") ? "inodes" : "paths", a, b, a / b, peak >> 20,
                Runtime.getRuntime().maxMemory() >> 20, liveAfterGc >> 20, ac, bc, ac / bc);
        if (mode.equals("scrub")) {
            System.out.printf(Locale.ROOT, "staging of %s: peak %.1f MiB, %.1f bytes per inode; estimate before the walk %.1f MiB "
                    + "(%.2f of the peak); load average %s%n", image.getFileName(), staging[1] / 1048576.0,
                    staging[1] / (double) Math.max(1, count[0]), staging[0] / 1048576.0, staging[0] / (double) Math.max(1, staging[1]),
                    loadAverage());
            System.out.printf(Locale.ROOT, "phases of the last scrub of %s: %s%n", image.getFileName(), phases);
        }
    }

    /** The 1, 5 and 15 minute load averages: the machine is shared, and wall times mean little without them. */
    static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /**
     * AG 1's bnobt: a record's length, its lowest bit flipped (its rebuild, the AGF). Flipped, not set to a value: on
     * the scale images that record is already one block long, so writing 1 changed nothing.
     */
    private static final List<String> BNOBT = List.of("agf 1", "addr bnoroot", "fuzz -d recs[1].blockcount lastbit");
    /** The hash index of /dir1 (a leaf directory of 500 entries): a hash out of order (its rebuild from the walk). */
    private static final List<String> DIRECTORY = List.of("path /dir1", "dblock 8388608", "write -d lents[5].hashval 0");

    private static void repair(RepairEngineImpl engine, Path image, int repeats, List<String> damage) throws Exception {
        double[] ours = new double[repeats];
        double[] theirs = new double[repeats];
        double[] oursCpu = new double[repeats];
        double[] theirsCpu = new double[repeats];
        long peak = 0;
        Path dir = java.nio.file.Files.createTempDirectory("xfstage-repair-bench");
        try {
            for (int i = -WARMUPS; i < repeats; i++) { // warm-up rounds first
                Path a = damagedCopy(image, dir.resolve("ours.img"), damage);
                Path journal = dir.resolve("ours.undo");
                java.nio.file.Files.deleteIfExists(journal);
                System.gc();
                resetPeaks();
                long t0 = System.nanoTime();
                long c0 = processCpuNanos();
                var r = engine.repair(a, new org.xfstage.api.repair.RepairOptions(true, journal), Progress.NONE);
                double s = (System.nanoTime() - t0) / 1e9;
                double sc = (processCpuNanos() - c0) / 1e9;
                if (!r.applied() || !r.after().clean()) {
                    throw new IllegalStateException("our repair did not leave it clean: " + r.unrepaired());
                }
                Path b = damagedCopy(image, dir.resolve("theirs.img"), damage);
                long t1 = System.nanoTime();
                long c1 = childrenCpuNanos();
                Process p = new ProcessBuilder("xfs_repair", b.toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                int rc = p.waitFor();
                double t = (System.nanoTime() - t1) / 1e9;
                double tc = (childrenCpuNanos() - c1) / 1e9;
                if (rc != 0) {
                    throw new IllegalStateException("xfs_repair exited " + rc);
                }
                if (i >= 0) {
                    ours[i] = s;
                    theirs[i] = t;
                    oursCpu[i] = sc;
                    theirsCpu[i] = tc;
                    peak = Math.max(peak, HeapPeaks.peak());
                }
            }
        } finally { // two copies of an 8 GiB sparse image per round: never leave them behind
            try (var files = java.nio.file.Files.list(dir)) {
                for (Path f : files.toList()) {
                    java.nio.file.Files.delete(f);
                }
            }
            java.nio.file.Files.delete(dir);
        }
        double a = median(ours);
        double b = median(theirs);
        System.out.printf(Locale.ROOT, "repair (" + (damage == BNOBT ? "bnobt of AG 1" : "directory /dir1") + " rebuilt) of %s: %.3f s (scrub, plan, re-check on a view, journal, write), "
                + "xfs_repair %.3f s, ratio %.2fx (target <= 1.0x), peak heap %d MiB of %d MiB; CPU %.3f s against %.3f s, "
                + "ratio %.2fx%n", image.getFileName(), a, b, a / b, peak >> 20, Runtime.getRuntime().maxMemory() >> 20,
                median(oursCpu), median(theirsCpu), median(oursCpu) / median(theirsCpu));
    }

    private static Path damagedCopy(Path image, Path copy, List<String> damage) throws Exception {
        Process cp = new ProcessBuilder("cp", "--sparse=always", image.toString(), copy.toString()).inheritIO().start();
        if (cp.waitFor() != 0) {
            throw new IllegalStateException("cp failed");
        }
        List<String> cmd = new java.util.ArrayList<>(List.of("xfs_db", "-x"));
        for (String c : damage) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(copy.toString());
        Process db = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (db.waitFor() != 0) {
            throw new IllegalStateException("xfs_db failed");
        }
        return copy;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /**
     * CPU time of this JVM (all threads: ours, GC, JIT). Beside the wall time because the shared 2-vCPU machine is
     * often busy: CPU seconds move much less with the load than elapsed ones do.
     */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU time (user + system) of this JVM's children that have been waited for: cutime + cstime of /proc/self/stat. */
    static long childrenCpuNanos() {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after "pid (comm) ", field 3 (state) is f[0]: cutime is field 16, cstime 17, in clock ticks of 1/100 s
            return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10_000_000L;
        } catch (java.io.IOException | RuntimeException e) {
            return 0; // not Linux: the CPU ratio is then meaningless, the wall ratio stands
        }
    }

    /**
     * The most the heap held right after a collection since the last {@link #resetPeaks}: what the run kept alive (and
     * old garbage no collection has reached yet). The peak heap above is mostly the young generation the collector
     * chose to let fill before collecting, which grows with a longer run whatever the run keeps; this does not.
     */
    static final java.util.concurrent.atomic.AtomicLong AFTER_GC = new java.util.concurrent.atomic.AtomicLong();

    private static final java.util.Set<String> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName)
            .collect(java.util.stream.Collectors.toSet());

    static {
        for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof javax.management.NotificationEmitter emitter) {
                emitter.addNotificationListener((n, handback) -> {
                    if (com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                        var info = com.sun.management.GarbageCollectionNotificationInfo.from(
                                (javax.management.openmbean.CompositeData) n.getUserData());
                        long used = 0;
                        for (var u : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                            if (HEAP_POOLS.contains(u.getKey())) {
                                used += u.getValue().getUsed();
                            }
                        }
                        AFTER_GC.accumulateAndGet(used, Math::max);
                    }
                }, null, null);
            }
        }
    }

    private static void resetPeaks() {
        AFTER_GC.set(0);
        HeapPeaks.reset();
    }
}
