package org.xfstage.benchmarks;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.XfsDeviceServiceImpl;

/**
 * Comparison run: a full metadata walk ({@code xfs:manifest} without checksums: every inode, directory block and
 * extent map verified) against {@code xfs_repair -n} on the same image, each repeated, medians and their ratio.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.ManifestComparison IMAGE [repeats]</pre>
 */
public final class ManifestComparison {
    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        XfsDeviceServiceImpl devices = new XfsDeviceServiceImpl();
        long[] count = new long[1];
        double[] ours = new double[repeats];
        for (int i = -1; i < repeats; i++) { // one warm-up round
            long t0 = System.nanoTime();
            count[0] = 0;
            try (XfsDevice dev = devices.open(image, OpenOptions.readOnly())) {
                dev.manifest(false, Progress.NONE, e -> count[0]++);
            }
            if (i >= 0) {
                ours[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        double[] theirs = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder("xfs_repair", "-n", image.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            int rc = p.waitFor();
            theirs[i] = (System.nanoTime() - t0) / 1e9;
            if (rc != 0) {
                throw new IllegalStateException("xfs_repair -n exited " + rc + " on " + image);
            }
        }
        Arrays.sort(ours);
        Arrays.sort(theirs);
        double a = ours[repeats / 2];
        double b = theirs[repeats / 2];
        System.out.printf(Locale.ROOT, "%s: %,d paths; metadata walk %.3f s, xfs_repair -n %.3f s, ratio %.2fx (target <= 1.0x)%n",
                image.getFileName(), count[0], a, b, a / b);
    }
}
