package org.xfstage.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;

/**
 * One run of one row of the scale table (issue 19), in a JVM of its own so that start-up, JIT and the page cache are
 * what an operator's run pays: {@code scrub IMAGE}, or {@code repair IMAGE JOURNAL} ({@code --apply}; it must leave
 * the image clean). Prints one line of {@code key=value}: the engine's seconds, the peak heap and the peak resident
 * memory split as Linux counts it (/proc/self/status, sampled every 10 ms): {@code RssAnon} (heap, JIT, metaspace,
 * thread stacks), {@code RssShmem} (the xfile staging on memfd) and {@code RssFile} (the pages of the mapped image),
 * with the staging the run used at its peak and the estimate it printed before the walk. benchmarks/scale-table.sh
 * runs it beside xfs_repair.
 *
 * <pre>java -Xmx128m -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.ScaleRow scrub IMAGE</pre>
 */
public final class ScaleRow {
    private static final String[] FIELDS = { "RssAnon:", "RssShmem:", "RssFile:", "VmHWM:" };

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[0].equals("scrub") || args[0].equals("repair") && args.length == 3)) {
            System.err.println("usage: ScaleRow scrub IMAGE | ScaleRow repair IMAGE JOURNAL");
            System.exit(2);
        }
        Path image = Path.of(args[1]);
        long[] peaks = new long[FIELDS.length];
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                sample(peaks);
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "rss-sampler");
        sampler.setDaemon(true);
        sampler.start();
        Map<String, Long> figures;
        double seconds;
        try (BenchEngine bench = new BenchEngine()) {
            long t0 = System.nanoTime();
            if (args[0].equals("scrub")) {
                ScrubReport r = bench.engine.scrub(image, ScrubOptions.all(), Progress.NONE);
                figures = r.figures();
            } else {
                RepairReport r = bench.engine.repair(image, new RepairOptions(true, Path.of(args[2])), Progress.NONE);
                if (!r.applied() || r.after() == null || !r.after().clean()) {
                    System.err.println("the repair did not leave " + image + " clean: " + r.unrepaired());
                    System.exit(1);
                }
                figures = r.before().figures();
            }
            seconds = (System.nanoTime() - t0) / 1e9;
        }
        sampler.interrupt();
        sampler.join();
        sample(peaks);
        System.out.printf(Locale.ROOT, "mode=%s inodes=%d seconds=%.3f heapPeakMiB=%d anonMiB=%d shmemMiB=%d fileMiB=%d hwmMiB=%d "
                + "stagingPeak=%d stagingEstimate=%d%n", args[0], figures.getOrDefault("inodes", 0L), seconds,
                HeapPeaks.peak() >> 20, peaks[0] >> 10, peaks[1] >> 10, peaks[2] >> 10, peaks[3] >> 10,
                figures.getOrDefault("stagingPeak", 0L), figures.getOrDefault("stagingEstimate", 0L));
    }

    /** Each field's largest value so far, in KiB (0 where the kernel does not give it). */
    private static void sample(long[] peaks) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                for (int i = 0; i < FIELDS.length; i++) {
                    if (line.startsWith(FIELDS[i])) {
                        long kib = Long.parseLong(line.substring(FIELDS[i].length()).trim().split("\\s+")[0]);
                        peaks[i] = Math.max(peaks[i], kib);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the split stays 0 and the table says so
        }
    }
}
