package org.xfstage.repair.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * The record of the tree walk that plans read (Observation.DIRECTORY_WALK), staged by a repair's own tree walk from the
 * first directory after the first the device's reader found damage in, so that the walk for plans (WalkForPlans) reads
 * again only the directories before it: the walk is the same read of the same device, so it tells the same directories
 * in the same order, and the records of those directories go in front of the rest, at the indexes left for them.
 * <p>
 * Why: the walk for plans was a second read of the whole tree (every directory and every inode an entry names), a fifth
 * of a directory rebuild's run on the 200,448-inode benchmark; the damage a directory rebuild repairs is mostly the
 * reader's (a hash out of order, a bad entry, a broken index), and a walk meets it early as often as late. Until the
 * reader reports a problem this stages nothing and only counts what it would have staged, so a repair of anything else
 * (a free-space btree, a counter) pays no staging for it. When the directory check finds damage the reader does not
 * report (a name held twice, a disconnected file), nothing was staged here and the tree is walked again whole, as before.
 * Should the two walks not match (they always should), or staging here fail, the whole walk is made instead.
 */
final class LateWalkRecord implements DirectorySink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private final XfArrayFactory arrays;
    private final XfBlobFactory blobs;
    private final String run;
    /** Records (directories, entries, problems) told before staging began: the walk for plans stages them, at 0 on. */
    private long records;
    /** Directories told before staging began. */
    private long directories;
    /** The reader reported a problem: staging begins with the next directory (its own entries were not staged). */
    private boolean armed;
    private XfArray walked;
    private XfBlob told;
    /** Stages from the first directory after the damage on, at index {@link #records}. */
    private LinkCounter counter;
    /** Staging failed: given up, the walk for plans walks the whole tree. */
    private boolean broken;

    LateWalkRecord(XfArrayFactory arrays, XfBlobFactory blobs, String run) {
        this.arrays = arrays;
        this.blobs = blobs;
        this.run = run;
    }

    /**
     * The late record for {@code w}'s tree walk (held by its observations), or null when it would not be read: not a
     * repair's scrub, no blob service, no strategy that plans from the record, or a check that reads it (then the walk
     * stages it whole, as before).
     */
    static LateWalkRecord of(ScrubRun.Walking w) {
        if (!w.planning() || w.blobs() == null || WalkForPlans.checksRead(w.chosen().values())
                || WalkForPlans.planners(w.chosen().values()).isEmpty()) {
            return null;
        }
        LateWalkRecord l = new LateWalkRecord(w.arrays(), w.blobs(), w.run());
        w.staged().late(l);
        return l;
    }

    @Override
    public void directory(long ino, String path, long nlink) {
        if (counter == null && armed && !broken) {
            start();
        }
        if (counter != null) {
            counter.directory(ino, path, nlink);
        } else {
            records++;
            directories++;
        }
    }

    private void start() {
        try {
            walked = arrays.create("scrub " + run + " directory walk", DirectoryWalkRecord.SIZE);
            told = blobs.create("scrub " + run + " directory walk");
            counter = new LinkCounter(null, walked, told, records);
        } catch (StagingException | RuntimeException e) {
            broken = true; // the walk for plans stages it whole, billed first: its limits end the run in one line
            release();
        }
    }

    @Override
    public void entry(DirectoryEntry entry) {
        if (counter != null) {
            counter.entry(entry);
        } else {
            records++;
        }
    }

    @Override
    public void problem(DirectoryProblem problem) {
        if (counter != null) {
            counter.problem(problem);
        } else {
            records++;
            armed = true;
        }
    }

    @Override
    public void child(long ino, FileType type, long nlink) {
        if (counter != null) {
            counter.child(ino, type, nlink);
        }
    }

    /** The walk is over: whether a part was staged that the walk for plans can complete. */
    boolean finish() {
        if (counter != null && !broken) {
            try {
                counter.finish();
            } catch (StagingException e) {
                broken = true;
                release();
            }
        }
        return counter != null && !broken;
    }

    /**
     * Stages the records of the directories before the damage from a walk of {@code w}'s device that stops there, and
     * puts the whole record in {@code w}'s observations; false (and nothing put) when that walk does not tell what the
     * first told before it.
     */
    boolean complete(ScrubRun.Walking w) throws StagingException {
        if (!complete(w.device(), w.progress())) {
            return false;
        }
        w.staged().put(Observation.DIRECTORY_WALK, walked, told);
        walked = null;
        told = null;
        w.figures().put("plan_walk_directories", directories);
        return true;
    }

    /** The record completed from a walk of {@code device} (see {@link #complete(ScrubRun.Walking)}), kept here. */
    boolean complete(XfsDevice device, Progress progress) throws StagingException {
        if (!finish()) {
            return false;
        }
        Prefix prefix = new Prefix(new LinkCounter(null, walked, told, 0));
        try {
            device.directoryTree(prefix.progress(progress), prefix);
        } catch (CancelledException e) {
            if (!prefix.stop) {
                throw e;
            }
        } catch (XfsException e) {
            // the scrub's own walk met the same and reported it: the record holds what was read, as that walk's would
        }
        prefix.counter.finish();
        if (!prefix.stop || prefix.mismatch || prefix.told != records) {
            release(); // before the whole walk stages its own
            LOG.info("[{}] walk for plans: the walk told {} record(s) before directory {}, the first {}: the tree is walked whole",
                    run, prefix.told, directories, records);
            return false;
        }
        return true;
    }

    /** The record as completed (null before, and once handed to the observations). */
    XfArray walked() {
        return walked;
    }

    /** Its blob. */
    XfBlob told() {
        return told;
    }

    /** How many directories the walk for plans reads (told before the staged part). */
    long directoriesBefore() {
        return directories;
    }

    /**
     * Tells the walk for plans' counter the directories before the damage, and stops the walk (by its progress, which
     * the walk polls between directories) at the first directory after them.
     */
    private final class Prefix implements DirectorySink {
        final LinkCounter counter;
        long told;
        long dirs;
        boolean stop;
        boolean mismatch;

        Prefix(LinkCounter counter) {
            this.counter = counter;
        }

        /** Whether this event is still one of those before the damage (and counted as such). */
        private boolean take(boolean directory) {
            if (stop) {
                return false;
            }
            if (directory && dirs++ == directories) {
                stop = true; // the first directory of the staged part
                return false;
            }
            if (told >= records) {
                stop = true; // more than the first walk told before it: staged, it would overwrite the staged part
                mismatch = true;
                return false;
            }
            told++;
            return true;
        }

        @Override
        public void directory(long ino, String path, long nlink) {
            if (take(true)) {
                counter.directory(ino, path, nlink);
            }
        }

        @Override
        public void entry(DirectoryEntry entry) {
            if (take(false)) {
                counter.entry(entry);
            }
        }

        @Override
        public void problem(DirectoryProblem problem) {
            if (take(false)) {
                counter.problem(problem);
            }
        }

        @Override
        public void child(long ino, FileType type, long nlink) {
            if (!stop) {
                counter.child(ino, type, nlink);
            }
        }

        Progress progress(Progress p) {
            return new Progress() {
                @Override
                public void total(String phase, long units) {
                    p.total(phase, units);
                }

                @Override
                public void total(String phase, long units, String unit) {
                    p.total(phase, units, unit);
                }

                @Override
                public void note(String line) {
                    p.note(line);
                }

                @Override
                public void increment(long units) {
                    p.increment(units);
                }

                @Override
                public boolean isCancelled() {
                    return stop || p.isCancelled();
                }
            };
        }
    }

    private void release() {
        if (walked != null) {
            walked.close();
            walked = null;
        }
        if (told != null) {
            told.close();
            told = null;
        }
    }

    @Override
    public void close() {
        release();
    }
}
