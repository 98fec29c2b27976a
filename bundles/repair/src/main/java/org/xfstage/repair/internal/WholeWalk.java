package org.xfstage.repair.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * The walk of a scrub that reads the image whole: every AG's metadata and inodes (SpaceWalk), then the directory tree
 * from the root, once, for the link counts and for the directory check; then the staged maps sorted. A re-check that
 * finds the inodes untouched walks less (Recheck#metadataAgain).
 */
final class WholeWalk {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private WholeWalk() {
    }

    /**
     * Everything: the space map and the inode map from the walk of every AG, the link counts from the tree walk, sorted,
     * and (when the blob service is there) what that walk read of every directory, for the directory check.
     */
    static boolean stage(ScrubRun.Walking w) throws StagingException {
        XfArray inodes = w.arrays().create("scrub " + w.run() + " inode map", InodeMapRecord.SIZE);
        w.staged().put(Observation.INODE_MAP, inodes);
        XfArray links = w.arrays().create("scrub " + w.run() + " link counts", LinkCountRecord.SIZE);
        w.staged().put(Observation.LINK_COUNTS, links);
        XfArray problems = w.arrays().create("scrub " + w.run() + " inode problems", InodeProblemRecord.SIZE);
        w.staged().put(Observation.INODE_PROBLEMS, problems);
        SpaceWalk walk = new SpaceWalk(w.device(), w.info(), w.space(), inodes, problems, w.findings()::add, w.progress());
        w.progress().phase("walk", w.info().agCount(), "AGs");
        walk.walk();
        long t1 = System.nanoTime();
        // one read of each directory reached from the root gives the link counts and what the directory check needs
        XfArray walked = null;
        XfBlob told = null;
        if (w.blobs() != null) {
            walked = w.arrays().create("scrub " + w.run() + " directory walk", DirectoryWalkRecord.SIZE);
            try {
                told = w.blobs().create("scrub " + w.run() + " directory walk");
            } catch (StagingException | RuntimeException e) {
                walked.close();
                throw e;
            }
            w.staged().put(Observation.DIRECTORY_WALK, walked, told);
        }
        LinkCounter counter = new LinkCounter(links, walked, told);
        w.progress().phase("link counts", w.info().icount() - w.info().ifree(), "inodes"); // the tree walk reaches the inodes in use
        try {
            w.device().directoryTree(w.progress(), counter);
        } catch (XfsException e) {
            w.findings().add(new Finding("directory", -1, "tree walk", e.getMessage(), null));
        }
        counter.finish();
        long t2 = System.nanoTime();
        w.progress().phase("sort", links.length() + w.space().length() + (walk.inodesInOrder ? 0 : inodes.length()), "records");
        w.progress().step(links.length());
        links.sort(LinkCountRecord.ORDER, SortOptions.DEFAULT, w.progress());
        w.progress().step(w.space().length());
        w.space().sort(SpaceMapRecord.ORDER, SortOptions.DEFAULT, w.progress());
        if (!walk.inodesInOrder) { // a healthy inobt gives them in order; a damaged one may not
            w.progress().step(inodes.length());
            inodes.sort(InodeMapRecord.ORDER, SortOptions.DEFAULT, w.progress());
        }
        w.progress().end();
        long t3 = System.nanoTime();
        w.figures().put("extents", walk.extents);
        w.figures().put("inodes", walk.inodesSeen);
        w.figures().put("walk_ms", (t1 - w.startNanos()) / 1_000_000);
        w.figures().put("tree_walk_ms", (t2 - t1) / 1_000_000);
        w.figures().put("sort_ms", (t3 - t2) / 1_000_000);
        w.staged().chunks(walk.chunks());
        LOG.info("[{}] walk: {} extents, {} inodes staged, {} findings", w.run(), walk.extents, walk.inodesSeen, w.findings().size());
        return true;
    }

}
