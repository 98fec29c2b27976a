package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The directory tree of a re-check's view walked again, as the whole walk walks it ({@link WholeWalk}), on inode
 * observations lent by the first scrub: for plans that write directories' data blocks but no inode, the entries,
 * the link counts and the tree-walk checks' findings are the view's, read from every directory again; only the
 * reading of every inode is saved.
 */
final class TreeAgain {
    private TreeAgain() {
    }

    /** Stages LINK_COUNTS (sorted) and, when needed, DIRECTORY_WALK from a walk of the view's tree told to the checks. */
    static void stage(ScrubRun.Walking w) throws StagingException {
        long t0 = System.nanoTime();
        XfArray links = w.arrays().create("scrub " + w.run() + " link counts", LinkCountRecord.SIZE);
        w.staged().put(Observation.LINK_COUNTS, links);
        List<DirectorySink> sinks = new ArrayList<>();
        WholeWalk.askForWalkChecks(w, sinks);
        LateWalkRecord late = LateWalkRecord.of(w); // for plans, staged from the first damage the reader reports
        if (late != null) {
            sinks.add(late);
        }
        // for a check that reads it; the next round's plans have it staged after the checks, when one will (WalkForPlans)
        LinkCounter counter = WalkForPlans.counter(w, links, w.blobs() != null && WalkForPlans.checksRead(w.chosen().values()));
        w.progress().phase("link counts", w.info().icount() - w.info().ifree(), "inodes");
        try {
            w.device().directoryTree(w.progress(), sinks.isEmpty() ? counter : new WholeWalk.Tee(counter, sinks), w.threads());
        } catch (XfsException e) {
            w.findings().add(new Finding("directory", -1, "tree walk", e.getMessage(), null));
        }
        counter.finish();
        if (late != null) {
            late.finish();
        }
        long t1 = System.nanoTime();
        w.progress().phase("sort", links.length(), "records");
        w.progress().step(links.length());
        links.sort(LinkCountRecord.ORDER, SortOptions.DEFAULT.consumingInput(), w.progress());
        w.progress().end();
        w.figures().put("tree_walk_ms", (t1 - t0) / 1_000_000);
        w.figures().put("sort_ms", (System.nanoTime() - t1) / 1_000_000);
    }
}
