package org.xfstage.benchmarks;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.repair.internal.RepairEngineImpl;
import org.xfstage.strategies.space.AgfStrategy;
import org.xfstage.strategies.space.RmapbtStrategy;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The process CPU of the rmapbt check alone, with what it makes the walk stage: scrubs of the rmapbt structure only
 * against scrubs of the agf only (the walk, the sorts and a check that costs nothing), alternated, the median of each
 * and their difference. Process CPU is less disturbed than wall time on a loaded machine; its clock ticks are 10 ms.
 *
 * <pre>
 * java -Xmx128m -cp benchmarks/target/benchmarks.jar org.xfstage.benchmarks.ScrubStructureCpu IMAGE 15
 * </pre>
 */
public final class ScrubStructureCpu {
    private ScrubStructureCpu() {
    }

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        XfsDeviceServiceImpl devices = new XfsDeviceServiceImpl();
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(8L << 30, 16L << 30);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        RepairEngineImpl engine = new RepairEngineImpl(devices, arrays, new XfBlobFactoryImpl(xfiles), xfiles);
        engine.addStrategy(new RmapbtStrategy(), Map.of(RepairStrategy.STRUCTURE, "rmapbt"));
        engine.addStrategy(new AgfStrategy(), Map.of(RepairStrategy.STRUCTURE, "agf"));
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory
                .getOperatingSystemMXBean();
        double[] rmapbt = new double[n];
        double[] agf = new double[n];
        for (int i = -3; i < n; i++) { // three warm-up rounds
            for (String s : List.of("rmapbt", "agf")) {
                System.gc();
                long c0 = os.getProcessCpuTime();
                ScrubReport r = engine.scrub(image, new ScrubOptions(Set.of(s)), Progress.NONE);
                if (!r.clean()) {
                    throw new IllegalStateException("the image is not clean: " + r.findings().get(0));
                }
                double ms = (os.getProcessCpuTime() - c0) / 1e6;
                if (i >= 0) {
                    (s.equals("rmapbt") ? rmapbt : agf)[i] = ms;
                }
            }
        }
        Arrays.sort(rmapbt);
        Arrays.sort(agf);
        System.out.printf(Locale.ROOT, "process CPU ms, median of %d: rmapbt-only scrub %.0f, agf-only scrub %.0f, difference %.0f "
                + "(quartiles %.0f-%.0f / %.0f-%.0f)%n", n, rmapbt[n / 2], agf[n / 2], rmapbt[n / 2] - agf[n / 2], rmapbt[n / 4],
                rmapbt[3 * n / 4], agf[n / 4], agf[3 * n / 4]);
        arrays.deactivate();
        xfiles.deactivate();
    }
}
