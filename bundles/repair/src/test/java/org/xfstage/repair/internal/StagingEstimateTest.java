package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The memory bill: a scrub's staging estimate, made from the headers before anything is staged, lands within 25% of
 * what the run then really staged at its peak (the xfile service's peak), on every corpus image; and a limit that
 * cannot hold the estimate stops the run before its first staging file, in one line that names the setting.
 * <p>
 * The benchmark images (benchmarks/make-scale-image.sh) are checked the same way by hand: the figures are in README.
 */
class StagingEstimateTest {

    static Stream<String> geometries() {
        return CorpusImages.geometries().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void estimateIsWithinAQuarterOfThePeakReallyStaged(String geometry) throws Exception {
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        try {
            ScrubReport r = RepairOracleTest.engineWithBuiltIns(xfiles, arrays).scrub(CorpusImages.image(geometry),
                    ScrubOptions.all(), Progress.NONE);
            long estimate = r.figures().get("stagingEstimate");
            long peak = r.figures().get("stagingPeak");
            assertEquals(peak, xfiles.peakBytesUsed(), "the run reports the service's peak");
            assertTrue(peak > 0, "the scrub staged something");
            double ratio = estimate / (double) peak;
            assertTrue(ratio >= 0.75 && ratio <= 1.25, geometry + ": estimate " + estimate + " against " + peak
                    + " really staged at the peak (" + String.format("%.2f", ratio) + ")");
        } finally {
            arrays.deactivate();
            xfiles.deactivate();
        }
    }

    /**
     * A repair that rebuilds no directory stages no tree walk for plans (WalkForPlans: only a directory rebuild reads
     * it) and its bill says so: it is the scrub's. The bill of one that does is WalkForPlansTest's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void aRepairThatRebuildsNoDirectoryIsBilledNoTreeWalkForPlans(String geometry) throws Exception {
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        try {
            var r = RepairOracleTest.engineWithBuiltIns(xfiles, arrays).repair(CorpusImages.image(geometry),
                    new org.xfstage.api.repair.RepairOptions(false, null), Progress.NONE);
            long estimate = r.before().figures().get("stagingEstimate");
            long peak = r.before().figures().get("stagingPeak");
            long scrubOnly;
            try (var dev = new org.xfstage.device.internal.XfsDeviceServiceImpl().open(CorpusImages.image(geometry),
                    org.xfstage.api.device.OpenOptions.readOnly())) {
                scrubOnly = StagingEstimate.of(dev.info(), dev.inodesPerBlock()).total();
            }
            assertEquals(scrubOnly, estimate, "no tree walk for plans is billed");
            assertTrue(!r.before().figures().containsKey("plan_walk_ms"), "no tree walk for plans: " + r.before().figures());
            double ratio = estimate / (double) peak;
            assertTrue(ratio >= 0.75 && ratio <= 1.25, geometry + ": estimate " + estimate + " against " + peak
                    + " really staged at the peak of the repair's scrub (" + String.format("%.2f", ratio) + ")");
        } finally {
            arrays.deactivate();
            xfiles.deactivate();
        }
    }

    @Test
    void aTotalLimitThatCannotHoldTheEstimateIsRefusedBeforeAnythingIsStaged() throws Exception {
        Path image = CorpusImages.image("default");
        // 64 KiB: more than nothing (the service works), far less than the corpus image's bill (about 700 KiB)
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(1L << 32, 64 << 10);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        try {
            RepairException e = assertThrows(RepairException.class, () -> RepairOracleTest.engineWithBuiltIns(xfiles, arrays)
                    .scrub(image, ScrubOptions.all(), Progress.NONE));
            assertRefusal(e.getMessage(), "maxTotalBytes");
            assertEquals(0, xfiles.peakBytesUsed(), "not one page was staged");
            assertEquals(List.of(), xfiles.liveFiles(), "not one staging file was made");
        } finally {
            arrays.deactivate();
            xfiles.deactivate();
        }
    }

    @Test
    void aFileLimitThatCannotHoldTheLargestArrayIsRefusedBeforeAnythingIsStaged() throws Exception {
        Path image = CorpusImages.image("default");
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(16 << 10, 1L << 33);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        try {
            RepairException e = assertThrows(RepairException.class, () -> RepairOracleTest.engineWithBuiltIns(xfiles, arrays)
                    .repair(image, new org.xfstage.api.repair.RepairOptions(false, null), Progress.NONE));
            assertRefusal(e.getMessage(), "maxFileBytes");
            assertEquals(0, xfiles.peakBytesUsed(), "not one page was staged");
            assertEquals(List.of(), xfiles.liveFiles(), "not one staging file was made");
        } finally {
            arrays.deactivate();
            xfiles.deactivate();
        }
    }

    /**
     * A header with a fuzzed count (an AGI claiming 2^31 inodes) must not make the bill refuse the scrub that is there
     * to report it: each AG's counts are bounded by what the AG can hold.
     */
    @Test
    void aFuzzedCountIsBoundedByWhatItsAgCanHold() {
        long agBlocks = 32_768;
        int perBlock = 8;
        FsInfo.AgInfo sane = new FsInfo.AgInfo(0, agBlocks, 30_000, 20_000, 6_400, 40, 4, 2, 0, 1);
        FsInfo.AgInfo fuzzed = new FsInfo.AgInfo(1, agBlocks, Long.MAX_VALUE, 20_000, Integer.MAX_VALUE, -5, 4, Long.MAX_VALUE, 0, 1);
        StagingEstimate one = StagingEstimate.of(info(List.of(sane, sane)), perBlock);
        StagingEstimate two = StagingEstimate.of(info(List.of(sane, fuzzed)), perBlock);
        assertTrue(one.total() > 0);
        // the fuzzed AG counts as full of inodes, no more: 262,144 inodes of far less than 300 bytes staged each
        // (the engine's maps: inode map, link counts, space map)
        assertTrue(two.total() < one.total() + 300L * agBlocks * perBlock, two + " against " + one);
    }

    /** A scrub of a few structures does not pay for the directory check's staging (its bill must not refuse it). */
    @Test
    void aScrubOfSomeStructuresIsBilledForTheirStagingOnly() {
        FsInfo.AgInfo ag = new FsInfo.AgInfo(0, 32_768, 10_000, 10_000, 200_000, 40, 4, 2, 0, 1);
        FsInfo info = info(List.of(ag, ag));
        long all = StagingEstimate.of(info, 8).total();
        long agi = StagingEstimate.of(info, 8, java.util.Set.of("agi")).total();
        // the walk's own arrays remain; the directory check's (a path and two links per directory) are not billed
        assertTrue(agi < all, agi + " against " + all);
        assertEquals(all, StagingEstimate.of(info, 8, java.util.Set.of("agi", "directory")).total(), "no rmapbt: the directory check is the peak");
    }

    private static FsInfo info(List<FsInfo.AgInfo> ags) {
        long blocks = ags.stream().mapToLong(FsInfo.AgInfo::length).sum();
        return new FsInfo("u", "", 4096, 512, 512, ags.size(), 32_768, blocks, 4096, 4096, 0, 0, 0, 25, List.of(),
                Long.MAX_VALUE, 0, 0, ags);
    }

    private static void assertRefusal(String message, String setting) {
        assertTrue(!message.contains("\n"), "one line: " + message);
        assertTrue(message.contains(setting + " of org.xfstage.xfile"), "names the setting: " + message);
        assertTrue(message.contains("raise " + setting), "says to raise it: " + message);
        assertTrue(message.contains("backing = file"), "names the way past memory: " + message);
        assertTrue(message.contains("nothing was staged"), message);
    }
}
