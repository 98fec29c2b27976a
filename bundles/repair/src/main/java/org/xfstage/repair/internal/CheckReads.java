package org.xfstage.repair.internal;

import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.Map;

import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * The staged observations as checks that run at the same time read them. An xfarray is read by one thread at a time
 * (its caller locks, XfArray's contract), and several checks read the same ones (the space map, the inode map): each
 * check gets a context of its own whose observations are read through views of its own: the array's reading view
 * (XfArray#readView, which reads with no lock while nothing changes the array, as nothing does during the checks), or
 * for an array without one a {@link LockedReader}, which takes the array's lock (one per array, shared by the run's readers)
 * once per batch of records for a scan and per record for a random load (a first version of this used only those: two
 * checks scanning the same array then wait on each other's copies). A check only reads the observations: both refuse
 * every change, so that a check that would change what another reads fails the run instead of racing it.
 */
final class CheckReads {
    /** One lock per staged array of the run, shared by every check's reader of it. */
    private final Map<XfArray, Object> locks = new IdentityHashMap<>();
    private final RunContext ctx;

    CheckReads(RunContext ctx) {
        this.ctx = ctx;
    }

    /** A check's context: the run's, its observations read through readers of its own, progress as given. */
    ScrubContext contextFor(Progress progress) {
        return new Context(ctx, progress, this);
    }

    private synchronized Object lockOf(XfArray a) {
        return locks.computeIfAbsent(a, k -> new Object());
    }

    /** One check's view of the run's context. */
    private static final class Context implements ScrubContext {
        private final RunContext run;
        private final Progress progress;
        private final CheckReads reads;
        private final Map<Observation, XfArray> readers = new EnumMap<>(Observation.class);

        Context(RunContext run, Progress progress, CheckReads reads) {
            this.run = run;
            this.progress = progress;
            this.reads = reads;
        }

        @Override
        public XfsDevice device() {
            return run.device(); // reads from several threads at once are the device's contract
        }

        @Override
        public FsInfo info() {
            return run.info();
        }

        @Override
        public synchronized XfArray observation(Observation o) {
            XfArray a = run.observation(o);
            if (a == null) {
                return null;
            }
            // one reader per observation for the check's whole run, used as the check would use the array itself: the
            // array's own reading view (no lock: two checks scan the same array at full speed), else a locked one
            return readers.computeIfAbsent(o, k -> {
                XfArray view = a.readView();
                return view != null ? view : new LockedReader(a, reads.lockOf(a));
            });
        }

        @Override
        public XfBlob observationBlob(Observation o) {
            return run.observationBlob(o); // read by plans only (the tree walk's record), which run one at a time
        }

        @Override
        public XfArrayFactory arrays() {
            return run.arrays();
        }

        @Override
        public XfBlobFactory blobs() {
            return run.blobs();
        }

        @Override
        public Progress progress() {
            return progress;
        }
    }
}
