package org.xfstage.repair.internal;

import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * The outcome of each check of a repair's first scrub with what it was computed from, so that a re-check of the plans
 * reuses the outcome of a check whose inputs are provably what they were (its findings, or none, or the damage it
 * threw), instead of running it again on the view.
 * <p>
 * <b>Why a kept outcome stands.</b> A check is a function of what its context gives it (RepairStrategy#check: it reads
 * through the context and never writes): the strategy instance, the figures ({@link FsInfo}), the staged observations
 * it reads, and the bytes it reads from the device (its own staging is scratch it makes from those). In the first
 * scrub each check runs on a view of the device that records every byte range it reads ({@link ReadRanges},
 * XfsDevice#recordingReads), the device's own reads at open included (the superblock chosen, which the geometry and
 * every decoding depend on), and on a context that records which observations it asks for. On a re-check's view the
 * outcome stands when all of these hold:
 * <ol>
 * <li>the strategy of the structure is the same instance (one swapped between the scrubs runs again);</li>
 * <li>the view's figures equal the first scrub's (they come from every AG's headers, read once per scrub);</li>
 * <li>every observation it asked for is staged on the view as it was: the same array, no record written to it since
 * (KeptWalk lends the first scrub's inode map, inode problems and file mappings as they were), or one made again with
 * the same records as the first scrub's, which KeptWalk keeps (the space map, the link counts); its variable-length
 * part the same object; one
 * not staged then is not staged now; any other is taken as changed (an observation the check declares in
 * {@code needs()} but did not ask for never reached it: by the induction below it does not ask for it on the view
 * either);</li>
 * <li>no block planned on the view (every round's, as the view holds them) overlaps a byte range it read.</li>
 * </ol>
 * Then, by induction over its reads, the check reads on the view what it read on the image (each range read is
 * outside the planned blocks, which are the only difference between the two), takes the same turns, and ends the
 * same way. Whatever cannot be told (a device that cannot record, more scattered reads than are kept, an array that
 * cannot be compared) runs the check again. A tree-walk check is never reused here: its events come from the tree walk
 * of the scrub it runs in (KeptWalk already reuses its findings when the tree is not walked again).
 */
final class KeptChecks {
    /** One check of the first scrub: what it read and how it ended. */
    private record First(RepairStrategy strategy, FsInfo info, Map<Observation, Staged> asked, ReadRanges reads,
            List<Finding> found, Exception failure) {
    }

    /**
     * An observation as a check of the first scrub was given it: null when it was not staged, else weakly (an array the
     * first scrub closed is never the re-check's, and is not kept alive for that), with the count of records ever written
     * to the array then ({@code XfArrayStats#stores}: an array written since, even in place, is not as it was).
     */
    private record Staged(WeakReference<XfArray> array, long stores, WeakReference<XfBlob> blob) {
    }

    private final KeptWalk kept;
    private final Map<String, First> firsts = new HashMap<>();
    /** Set when the first scrub's checks have all ended (the repair keeps what it read): from then on, only reuse. */
    private boolean sealed;

    /** {@code kept}: the first scrub's observations the re-check keeps, which made-again ones are compared with. */
    KeptChecks(KeptWalk kept) {
        this.kept = kept;
    }

    /** The first scrub's checks have ended: what was recorded is what the re-checks reuse. */
    void seal() {
        sealed = true;
    }

    boolean sealed() {
        return sealed;
    }

    /**
     * The recording of {@code r}'s check in the first scrub, whose context is {@code run}; null when the device cannot
     * record (then the check runs as it would, and is never reused) or the first scrub has ended.
     */
    Recording recording(Registered r, RunContext run) throws XfsException {
        if (sealed) {
            return null;
        }
        ReadRanges reads = new ReadRanges();
        XfsDevice device = run.device().recordingReads(reads);
        return device == null ? null : new Recording(r, run, device, reads);
    }

    /** The check recorded by {@code rec} ended with {@code found} or threw {@code failure}: kept for the re-checks. */
    void recorded(Recording rec, List<Finding> found, Exception failure) {
        rec.reads.finish();
        rec.device.close(); // a view: releases nothing
        Map<Observation, Staged> asked = new EnumMap<>(Observation.class);
        for (Observation o : rec.asked()) {
            XfArray a = rec.run.staged().get(o);
            XfBlob b = rec.run.staged().blob(o);
            asked.put(o, new Staged(a == null ? null : new WeakReference<>(a), a == null ? 0 : a.stats().stores(),
                    b == null ? null : new WeakReference<>(b)));
        }
        firsts.put(rec.r.structure(), new First(rec.r.strategy(), rec.run.info(), asked, rec.reads,
                found == null ? null : List.copyOf(found), failure));
    }

    /** The reuse of the first outcomes on a re-check's view with {@code planned} in it. */
    Round round(List<BlockImage> planned) {
        return new Round(planned);
    }

    /** One re-check: which first outcomes stand on its view, and how many did. */
    final class Round {
        private final List<BlockImage> planned;
        /** By observation: whether the re-check's array holds the same records as the first scrub's (compared once). */
        private final Map<Observation, Boolean> compared = new EnumMap<>(Observation.class);
        private int reused;
        private final Map<String, String> again = new LinkedHashMap<>();

        private Round(List<BlockImage> planned) {
            this.planned = planned;
        }

        /**
         * The first outcome of {@code r}'s check when it stands on this view ({@link KeptChecks}), else null (and it
         * runs again): as its findings, or what it threw (damage the check met, which the run takes as a finding).
         */
        Reused standing(Registered r, RunContext ctx) {
            First f = sealed ? firsts.get(r.structure()) : null;
            // the cheap tests first: an observation may be compared record for record
            String why = f == null ? "not recorded" : f.strategy() != r.strategy() ? "another strategy"
                    : !f.info().equals(ctx.info()) ? "the figures changed" : f.reads().overflowed() ? "read too much to tell"
                    : f.reads().touches(planned) ? "read a planned block" : !observationsSame(f, ctx) ? "an observation changed"
                    : null;
            if (why != null) {
                again.put(r.structure(), why);
                return null;
            }
            reused++;
            return new Reused(f.found(), f.failure());
        }

        /** Checks whose first outcome stood. */
        int reused() {
            return reused;
        }

        /** Why checks run again, each reason with its structures in the strategies' order: for the log. */
        Map<String, List<String>> againByReason() {
            Map<String, List<String>> out = new LinkedHashMap<>();
            again.forEach((structure, why) -> out.computeIfAbsent(why, k -> new ArrayList<>()).add(structure));
            return out;
        }

        private boolean observationsSame(First f, RunContext ctx) {
            for (Map.Entry<Observation, Staged> e : f.asked().entrySet()) {
                Observation o = e.getKey();
                Staged was = e.getValue();
                XfArray now = ctx.staged().get(o);
                XfBlob blobNow = ctx.staged().blob(o);
                if (was.blob() == null ? blobNow != null : was.blob().get() != blobNow || blobNow == null) {
                    return false; // a variable-length part is only ever lent as it was (the tree's record)
                }
                if (was.array() == null) {
                    if (now != null) {
                        return false; // not staged then, staged now
                    }
                    continue;
                }
                XfArray first = was.array().get();
                if (first == null || now == null || first.stats().stores() != was.stores()
                        || (first != now && !sameRecords(o, first, now))) {
                    return false;
                }
            }
            return true;
        }

        /**
         * Whether {@code now} holds the records {@code first} held, index for index: only for an array the re-check
         * keeps from the first scrub (KeptWalk), made again on the view.
         */
        private boolean sameRecords(Observation o, XfArray first, XfArray now) {
            if (kept.first(o) != first) {
                return false; // not kept: closed, or another's
            }
            Boolean same = compared.get(o);
            if (same == null) {
                // the space map is told while it is merged; the others are compared record for record, once
                Boolean known = kept.knownAsFirst(o, now);
                same = known != null ? known : equal(first, now);
                compared.put(o, same);
            }
            return same;
        }
    }

    /** A first outcome that stands: its findings, or what the check threw. */
    record Reused(List<Finding> found, Exception failure) {
    }

    /** Whether two arrays hold the same records at the same indexes (nulls where the other has nulls). */
    static boolean equal(XfArray a, XfArray b) {
        try {
            if (a.recordSize() != b.recordSize() || a.length() != b.length()) {
                return false;
            }
            ByteBuffer x = ByteBuffer.allocate(a.recordSize());
            ByteBuffer y = ByteBuffer.allocate(b.recordSize());
            long i = a.loadNext(0, x);
            long j = b.loadNext(0, y);
            while (i >= 0 && i == j) { // bounded: both grow every pass
                if (!x.equals(y)) {
                    return false;
                }
                i = a.loadNext(i + 1, x);
                j = b.loadNext(j + 1, y);
            }
            return i == j;
        } catch (StagingException | RuntimeException e) {
            return false; // cannot tell: as if changed
        }
    }

    /**
     * One check of the first scrub as it is recorded: the device as a view that records what it reads, and the
     * observations it asks for.
     */
    static final class Recording {
        private final Registered r;
        private final RunContext run;
        private final XfsDevice device;
        private final ReadRanges reads;
        private final Set<Observation> asked = new LinkedHashSet<>();

        private Recording(Registered r, RunContext run, XfsDevice device, ReadRanges reads) {
            this.r = r;
            this.run = run;
            this.device = device;
            this.reads = reads;
        }

        private synchronized Set<Observation> asked() {
            return Set.copyOf(asked);
        }

        private synchronized void ask(Observation o) {
            asked.add(o);
        }

        /** The context the check runs with: {@code c} (the run's, or a reader's of it), its device recording. */
        ScrubContext over(ScrubContext c) {
            return new ScrubContext() {
                @Override
                public XfsDevice device() {
                    return device;
                }

                @Override
                public FsInfo info() {
                    return c.info();
                }

                @Override
                public XfArray observation(Observation o) {
                    ask(o);
                    return c.observation(o);
                }

                @Override
                public XfBlob observationBlob(Observation o) {
                    ask(o);
                    return c.observationBlob(o);
                }

                @Override
                public XfArrayFactory arrays() {
                    return c.arrays();
                }

                @Override
                public XfBlobFactory blobs() {
                    return c.blobs();
                }

                @Override
                public Progress progress() {
                    return c.progress();
                }

                @Override
                public List<FreeExtent> allocate(int agno, long count) throws Exception {
                    return c.allocate(agno, count);
                }

                @Override
                public List<FreeExtent> allocated(int agno) {
                    return c.allocated(agno);
                }
            };
        }
    }
}
