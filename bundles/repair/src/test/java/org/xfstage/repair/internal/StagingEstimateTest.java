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

    private static void assertRefusal(String message, String setting) {
        assertTrue(!message.contains("\n"), "one line: " + message);
        assertTrue(message.contains(setting + " of org.xfstage.xfile"), "names the setting: " + message);
        assertTrue(message.contains("raise " + setting), "says to raise it: " + message);
        assertTrue(message.contains("backing = file"), "names the way past memory: " + message);
        assertTrue(message.contains("nothing was staged"), message);
    }
}
