package org.xfstage.repair.internal;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * The record of the tree walk that plans read (Observation.DIRECTORY_WALK: the directory rebuild salvages its entries
 * from it), staged only for a repair whose scrub found damage in a structure whose strategy plans from it: the tree
 * is walked again then, after the checks, on the same device (the first scrub's image, or a re-check's view).
 * <p>
 * Why not in the first walk: staged there it cost every repair 70-100 bytes per inode in use (375 MiB at 4M inodes,
 * three quarters of a repair's staging) and the time to store it, needed or not, and almost every repair (a free-space
 * btree, an AGF, a counter) has no directory to rebuild. Staging it lazily during the walk, once a directory check
 * reports a finding, would not do: the rebuild also reads the entries of directories read before the finding (the
 * links between directories, lost+found, the root) and findings that only the end of the walk shows (a name held twice
 * in a large directory, a directory named twice, a disconnected file). A directory rebuild pays one more walk of the
 * tree (its directories and the inodes they name, read from the page cache the first walk filled); a check that reads
 * the record itself ({@code needs()}) still has it staged by the walk, as before.
 * <p>
 * That walk is mostly saved when the device's reader reports damage: the scrub's walk stages the record from the
 * directory after the first damaged one on ({@link LateWalkRecord}), and only the directories before it are read again.
 */
final class WalkForPlans {
    private WalkForPlans() {
    }

    /** Whether a chosen strategy's check reads the record: then the scrub's own walk stages it, as before. */
    static boolean checksRead(java.util.Collection<Registered> chosen) {
        return chosen.stream().anyMatch(r -> r.strategy().needs().contains(Observation.DIRECTORY_WALK));
    }

    /**
     * A counter of the tree walk into {@code links} (null: none) that also stages the record when {@code record} (its
     * array and blob put in {@code w}'s observations, which close them with the run).
     */
    static LinkCounter counter(ScrubRun.Walking w, XfArray links, boolean record) throws StagingException {
        if (!record) {
            return new LinkCounter(links, null, null);
        }
        XfArray walked = w.arrays().create("scrub " + w.run() + " directory walk", DirectoryWalkRecord.SIZE);
        XfBlob told;
        try {
            told = w.blobs().create("scrub " + w.run() + " directory walk");
        } catch (StagingException | RuntimeException e) {
            walked.close();
            throw e;
        }
        w.staged().put(Observation.DIRECTORY_WALK, walked, told);
        return new LinkCounter(links, walked, told);
    }

    /** The structures whose strategies plan from the record. */
    static Set<String> planners(java.util.Collection<Registered> chosen) {
        return chosen.stream().filter(r -> r.strategy().planNeeds().contains(Observation.DIRECTORY_WALK))
                .map(Registered::structure).collect(Collectors.toSet());
    }

    /**
     * Stages the record from a walk of {@code w}'s device's tree when this scrub plans (a repair's), it is not staged
     * yet and {@code findings} name a structure whose strategy plans from it; billed first (StagingBill#billWalk).
     */
    static void stageIfPlanned(ScrubRun.Walking w, List<Finding> findings, Bill bill) throws StagingException, RepairException {
        if (!w.planning() || w.blobs() == null || w.staged().get(Observation.DIRECTORY_WALK) != null) {
            return;
        }
        Set<String> planners = planners(w.chosen().values());
        if (planners.isEmpty() || findings.stream().noneMatch(f -> planners.contains(f.structure()))) {
            return;
        }
        bill.pay();
        long t0 = System.nanoTime();
        w.progress().phase("tree walk for plans", w.info().icount() - w.info().ifree(), "inodes");
        // the scrub's walk staged the record from the damage on (LateWalkRecord): only the directories before are read
        try (LateWalkRecord late = w.staged().takeLate()) {
            if (late == null || !late.complete(w)) {
                LinkCounter counter = counter(w, null, true); // the link counts are the scrub's, staged already
                try {
                    w.device().directoryTree(w.progress(), counter);
                } catch (XfsException e) {
                    // the scrub's own walk met the same and reported it: the record holds what was read, as that walk's would
                }
                counter.finish();
            }
        }
        w.progress().end();
        w.figures().put("plan_walk_ms", (System.nanoTime() - t0) / 1_000_000);
    }

    /** Bills the record before it is staged (StagingBill#billWalk): a run it cannot fit ends in one line. */
    interface Bill {
        void pay() throws RepairException;
    }
}
