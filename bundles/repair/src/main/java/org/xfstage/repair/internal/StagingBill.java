package org.xfstage.repair.internal;

import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XFileFactory;

/**
 * The memory bill as a run meets it: the estimate ({@link StagingEstimate}) said to the person waiting and put in the
 * figures, and held against the xfile service's limits, so that a run they cannot hold ends in one line naming the
 * setting to raise before it stages (or, for the tree walk a repair's plans read, before it writes) anything.
 */
final class StagingBill {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines

    private StagingBill() {
    }

    /**
     * The memory bill before anything is staged: the staging this run will need, estimated from the superblock and
     * the AG headers, goes to the figures ({@code stagingEstimate}) and to the person waiting; when the xfile
     * service's limits cannot hold it, the run stops here in one line naming the setting to raise. The service's
     * peak starts anew, so that {@code stagingPeak} says what the run really staged (runs at the same time count
     * together).
     */
    static void billUpFront(String run, XfsDevice dev, FsInfo info, Set<String> structures, boolean directoryWalk,
            XFileFactory xfiles, Map<String, Long> figures, Progress phases) throws RepairException {
        StagingEstimate bill = StagingEstimate.of(info, dev.inodesPerBlock(), structures, directoryWalk);
        figures.put("stagingEstimate", bill.total());
        LOG.info("[{}] staging estimate: {}", run, bill);
        String note = "staging estimate: " + StagingEstimate.size(bill.total()) + " (" + bill.basis() + ")";
        if (xfiles == null) {
            phases.note(note);
            return;
        }
        limits(bill, xfiles, "; or set backing = file with stagingDirectory on a disk to stage past memory; nothing was staged");
        xfiles.resetPeak();
        phases.note(note); // after the checks: a refused run says it in its one line
    }

    /**
     * The bill again, with the tree walk a repair's plans read (staged after the checks, and only when a plan will read
     * it: WalkForPlans): the new total goes to the figures ({@code stagingEstimate}), so that a repair that rebuilds
     * directories is billed for it and one that does not is not; a run the limits cannot hold ends here in one line,
     * nothing written. The peak is not started anew: the run's staging so far counts.
     */
    static void billWalk(String run, XfsDevice dev, FsInfo info, Set<String> structures, XFileFactory xfiles,
            Map<String, Long> figures, Progress phases) throws RepairException {
        StagingEstimate bill = StagingEstimate.of(info, dev.inodesPerBlock(), structures, true);
        figures.put("stagingEstimate", bill.total());
        LOG.info("[{}] staging estimate with the tree walk for the plans: {}", run, bill);
        if (xfiles != null) {
            limits(bill, xfiles, "; or set backing = file with stagingDirectory on a disk to stage past memory; nothing was written");
        }
        phases.note("staging estimate with the tree walk for the plans: " + StagingEstimate.size(bill.total()));
    }

    /** Ends the run in one line when the xfile service's limits cannot hold {@code bill}; {@code way} ends the line. */
    private static void limits(StagingEstimate bill, XFileFactory xfiles, String way) throws RepairException {
        if (bill.total() > xfiles.totalLimit()) {
            throw new RepairException("this run needs about " + StagingEstimate.size(bill.total()) + " of staging ("
                    + bill.basis() + ") but maxTotalBytes of org.xfstage.xfile is " + StagingEstimate.size(xfiles.totalLimit())
                    + ": raise maxTotalBytes (config:property-set -p org.xfstage.xfile maxTotalBytes " + bill.total() + ")" + way);
        }
        if (bill.largestFile() > xfiles.fileLimit()) {
            throw new RepairException("this run needs one staging file of about " + StagingEstimate.size(bill.largestFile())
                    + " (" + bill.basis() + ") but maxFileBytes of org.xfstage.xfile is " + StagingEstimate.size(xfiles.fileLimit())
                    + ": raise maxFileBytes (config:property-set -p org.xfstage.xfile maxFileBytes " + bill.largestFile() + ")" + way);
        }
    }
}
