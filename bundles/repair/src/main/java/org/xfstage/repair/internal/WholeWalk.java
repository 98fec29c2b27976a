package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.repair.TreeWalkCheck;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * The walk of a scrub that reads the image whole: every AG's metadata and inodes (SpaceWalk), then the directory tree
 * from the root, once, for the link counts and for the checks that read the tree as it is walked (the directory
 * check: RepairStrategy#treeWalkCheck), so that no entry is staged for them; then the staged maps sorted. A re-check that
 * finds the inodes untouched walks less (Recheck#metadataAgain).
 */
final class WholeWalk {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private WholeWalk() {
    }

    /**
     * Everything: the space map and the inode map from the walk of every AG, the link counts from the tree walk, sorted;
     * the tree-walk checks told every event of that walk; and (when the blob service is there and a strategy needs it)
     * what that walk read of every directory.
     */
    static boolean stage(ScrubRun.Walking w) throws StagingException {
        XfArray inodes = w.arrays().create("scrub " + w.run() + " inode map", InodeMapRecord.SIZE);
        w.staged().put(Observation.INODE_MAP, inodes);
        XfArray links = w.arrays().create("scrub " + w.run() + " link counts", LinkCountRecord.SIZE);
        w.staged().put(Observation.LINK_COUNTS, links);
        XfArray problems = w.arrays().create("scrub " + w.run() + " inode problems", InodeProblemRecord.SIZE);
        w.staged().put(Observation.INODE_PROBLEMS, problems);
        XfArray mappings = null; // the reverse mappings the inodes should have: from the walk's one read of them
        if (w.info().hasTree(BtreeType.RMAP) && needed(w, Observation.FILE_MAPPINGS)) {
            mappings = w.arrays().create("scrub " + w.run() + " file mappings", MappingRecord.SIZE);
            w.staged().put(Observation.FILE_MAPPINGS, mappings);
        }
        SpaceWalk walk = new SpaceWalk(w.device(), w.info(), w.space(), inodes, problems, mappings, w.findings()::add,
                w.progress()).threads(w.threads(), w.arrays()).rmapbtRecords(w);
        w.progress().phase("walk", w.info().agCount(), "AGs");
        walk.walk();
        long t1 = System.nanoTime();
        // the checks that read the tree as it is walked look inodes up in the inode map: sorted before the tree walk
        if (!walk.inodesInOrder) { // a healthy inobt gives them in order; a damaged one may not
            inodes.sort(InodeMapRecord.ORDER, SortOptions.DEFAULT, w.progress());
        }
        // one read of each directory reached from the root gives the link counts and what the directory checks need:
        // each strategy that can check the tree as it is read is told every event; the walk is staged for the others
        List<DirectorySink> sinks = new ArrayList<>();
        askForWalkChecks(w, sinks);
        LateWalkRecord late = LateWalkRecord.of(w); // for plans, staged from the first damage the reader reports
        if (late != null) {
            sinks.add(late);
        }
        // for a check that reads it; a repair's plans have it staged after the checks, when one will read it (WalkForPlans)
        LinkCounter counter = WalkForPlans.counter(w, links, w.blobs() != null && WalkForPlans.checksRead(w.chosen().values()));
        w.progress().phase("link counts", w.info().icount() - w.info().ifree(), "inodes"); // the tree walk reaches the inodes in use
        try { // with two threads the device reads ahead while this thread tells the sinks (half the walk's CPU at 200k)
            w.device().directoryTree(w.progress(), sinks.isEmpty() ? counter : new Tee(counter, sinks), w.threads());
        } catch (XfsException e) {
            w.findings().add(new Finding("directory", -1, "tree walk", e.getMessage(), null));
        }
        counter.finish();
        if (late != null) {
            late.finish();
        }
        long t2 = System.nanoTime();
        w.progress().phase("sort", links.length() + w.space().length() + (mappings == null ? 0 : mappings.length()), "records");
        w.progress().step(links.length());
        // consuming: a failed or cancelled sort ends the run, which drops these arrays anyway
        links.sort(LinkCountRecord.ORDER, SortOptions.DEFAULT.consumingInput(), w.progress());
        w.progress().step(w.space().length());
        w.space().sort(SpaceMapRecord.ORDER, SortOptions.DEFAULT.consumingInput(), w.progress());
        if (mappings != null) {
            w.progress().step(mappings.length());
            mappings.sort(MappingRecord.ORDER, SortOptions.DEFAULT.consumingInput(), w.progress());
        }
        w.progress().end();
        long t3 = System.nanoTime();
        w.figures().put("extents", walk.extents);
        w.figures().put("inodes", walk.inodesSeen);
        w.figures().put("walk_ms", (t1 - w.startNanos()) / 1_000_000);
        w.figures().put("walk_threads", (long) Math.min(w.threads(), w.info().agCount()));
        w.figures().put("tree_walk_ms", (t2 - t1) / 1_000_000);
        w.figures().put("sort_ms", (t3 - t2) / 1_000_000);
        w.staged().chunks(walk.chunks());
        LOG.info("[{}] walk: {} extents, {} inodes staged, {} findings", w.run(), walk.extents, walk.inodesSeen, w.findings().size());
        return true;
    }

    /** Whether a chosen strategy needs observation {@code o} to check, or (in a repair's scrubs) to plan. */
    static boolean needed(ScrubRun.Walking w, Observation o) {
        return w.chosen().values().stream().anyMatch(r -> r.strategy().needs().contains(o)
                || w.planning() && r.strategy().planNeeds().contains(o));
    }

    /** Each chosen strategy's check of the tree as it is walked, if it has one (RepairStrategy#treeWalkCheck). */
    static void askForWalkChecks(ScrubRun.Walking w, List<DirectorySink> sinks) throws StagingException {
        for (Registered r : w.chosen().values()) {
            TreeWalkCheck c;
            try {
                c = r.strategy().treeWalkCheck(w.context());
            } catch (StagingException e) {
                throw e; // the run's own trouble
            } catch (Exception e) { // reported at its check, by name, as a failing check is
                w.staged().walkFailed(r.structure(), e);
                continue;
            }
            if (c != null) {
                w.staged().walkCheck(r.structure(), c);
                sinks.add(new Guarded(r.structure(), c, w.staged()));
            }
        }
    }

    /** One strategy's tree-walk check: an exception from it stops its events and fails it at its check, not the walk. */
    private static final class Guarded implements DirectorySink {
        private final String structure;
        private final DirectorySink check;
        private final Observations staged;
        private boolean failed;

        Guarded(String structure, DirectorySink check, Observations staged) {
            this.structure = structure;
            this.check = check;
            this.staged = staged;
        }

        private void fail(RuntimeException e) {
            failed = true;
            staged.walkFailed(structure, e);
        }

        @Override
        public void directory(long ino, String path, long nlink) {
            if (!failed) {
                try {
                    check.directory(ino, path, nlink);
                } catch (RuntimeException e) {
                    fail(e);
                }
            }
        }

        @Override
        public void entry(DirectoryEntry entry) {
            if (!failed) {
                try {
                    check.entry(entry);
                } catch (RuntimeException e) {
                    fail(e);
                }
            }
        }

        @Override
        public void problem(DirectoryProblem problem) {
            if (!failed) {
                try {
                    check.problem(problem);
                } catch (RuntimeException e) {
                    fail(e);
                }
            }
        }

        @Override
        public void child(long ino, FileType type, long nlink) {
            if (!failed) {
                try {
                    check.child(ino, type, nlink);
                } catch (RuntimeException e) {
                    fail(e);
                }
            }
        }
    }

    /** The link counter first, then every tree-walk check, each event in the order the walk tells it. */
    static final class Tee implements DirectorySink {
        private final DirectorySink first;
        private final DirectorySink[] rest;

        Tee(DirectorySink first, List<DirectorySink> rest) {
            this.first = first;
            this.rest = rest.toArray(new DirectorySink[0]);
        }

        @Override
        public void directory(long ino, String path, long nlink) {
            first.directory(ino, path, nlink);
            for (DirectorySink s : rest) {
                s.directory(ino, path, nlink);
            }
        }

        @Override
        public void entry(DirectoryEntry entry) {
            first.entry(entry);
            for (DirectorySink s : rest) {
                s.entry(entry);
            }
        }

        @Override
        public void problem(DirectoryProblem problem) {
            first.problem(problem);
            for (DirectorySink s : rest) {
                s.problem(problem);
            }
        }

        @Override
        public void child(long ino, FileType type, long nlink) {
            first.child(ino, type, nlink);
            for (DirectorySink s : rest) {
                s.child(ino, type, nlink);
            }
        }
    }
}
