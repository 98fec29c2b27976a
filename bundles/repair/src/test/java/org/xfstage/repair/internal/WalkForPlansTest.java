package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The tree walk a directory rebuild reads is staged after the checks, only when the directory check has findings
 * (WalkForPlans): such a repair walks the tree for its plans, is billed for it (the estimate within 25% of what it
 * really staged at its peak) and still repairs what xfs_repair -n sees; the repair of a clean directory tree stages
 * none (StagingEstimateTest).
 */
class WalkForPlansTest {
    @TempDir
    Path dir;

    @Test
    void aDirectoryRebuildWalksTheTreeForItsPlansAndIsBilledForIt() throws Exception {
        Path img = leafHashOutOfOrder();
        XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
        try {
            RepairEngineImpl engine = RepairOracleTest.engineWithBuiltIns(xfiles, arrays);
            RepairReport dry = engine.repair(img, new RepairOptions(false, null), Progress.NONE);
            var figures = dry.before().figures();
            assertTrue(figures.containsKey("plan_walk_ms"), "the tree walked for the plans: " + figures);
            // the scrub's walk staged the record from /leaf on (LateWalkRecord): only the directories before it are read again
            assertTrue(figures.getOrDefault("plan_walk_directories", 0L) > 0, "the record completed, not walked whole: " + figures);
            long scrubOnly;
            try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly())) {
                scrubOnly = StagingEstimate.of(d.info(), d.inodesPerBlock()).total();
            }
            long estimate = figures.get("stagingEstimate");
            long peak = figures.get("stagingPeak");
            assertTrue(estimate > scrubOnly, "the walk for the plans is billed: " + estimate + " against a scrub's " + scrubOnly);
            double ratio = estimate / (double) peak;
            assertTrue(ratio >= 0.75 && ratio <= 1.25, "estimate " + estimate + " against " + peak
                    + " really staged at the peak of the repair's scrub and plans (" + String.format("%.2f", ratio) + ")");

            RepairReport done = engine.repair(img, new RepairOptions(true, dir.resolve("leaf.undo")), Progress.NONE);
            assertTrue(done.applied() && done.after().clean(), "clean after the repair: " + done.after().findings());
            var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
            assertEquals(0, check.getKey(), "xfs_repair -n after the repair:\n" + check.getValue());
        } finally {
            arrays.deactivate();
            xfiles.deactivate();
        }
    }

    /** The default image's /leaf with a hash of its index out of order (RecheckReuseTest's damage): a rebuild of its blocks. */
    private Path leafHashOutOfOrder() throws Exception {
        Path img = dir.resolve("leaf.img");
        SparseFiles.copy(CorpusImages.image("default"), img);
        long blockSize;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly())) {
            blockSize = d.info().blockSize();
        }
        List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db"), "-x", "-c", "path /leaf", "-c",
                "dblock " + (1L << 35) / blockSize, "-c", "write -d lents[5].hashval 0", img.toString()));
        CorpusImages.run(cmd);
        return img;
    }
}
