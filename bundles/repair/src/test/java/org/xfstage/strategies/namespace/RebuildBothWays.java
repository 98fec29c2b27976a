package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * For tests of the repair engine (DirectoryRebuildByDirectoryTest), in the strategies' package to reach both ways
 * of the directory rebuild's plan: the directory strategy as it is, which also makes the rebuild's plan a second and a
 * third time, from the walk read by directory and from the whole walk replayed, and says where the two differ (blocks,
 * change lines, coverage, or the refusal's words); and the names each way loads from the walk's blob. Both ways are
 * handed the same blocks for what they allocate (the first way's, as the engine allocated them).
 */
public final class RebuildBothWays extends org.xfstage.repair.internal.DelegatingStrategy {
    /** Where the two ways differed, one line each. */
    public final List<String> differences = new ArrayList<>();
    /** Rebuild plans compared (made both ways, with or without a plan). */
    public int compared;
    /** Names loaded from the walk's blob by the rebuild read by directory, and by the whole walk replayed. */
    public long loadedByDirectory;
    public long loadedWhole;
    /** Directory entries the walk told (its ENTRY records) for the plans compared. */
    public long entriesTold;
    /** The change lines of the last plan read by directory (empty when it refused or had none). */
    public List<String> lastChanges = List.of();

    public RebuildBothWays() {
        super(new DirectoryStrategy());
    }


    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        XfArray walked = ctx.observation(Observation.DIRECTORY_WALK);
        XfBlob told = ctx.observationBlob(Observation.DIRECTORY_WALK);
        Replaying allocations = new Replaying(ctx);
        Plan made = real.plan(allocations.again(true), findings); // what the engine writes, its allocations recorded
        if (walked != null && told != null && ctx.observation(Observation.LINK_COUNTS) != null
                && ctx.observation(Observation.INODE_MAP) != null) {
            Counting whole = new Counting(told);
            Object a = outcome(() -> DirectoryRebuildPlan.plan(allocations.again(false), walked, whole, DirectoryStrategy.STRUCTURE, false));
            Counting byDirectory = new Counting(told);
            Object b = outcome(() -> DirectoryRebuildPlan.plan(allocations.again(false), walked, byDirectory, DirectoryStrategy.STRUCTURE, true));
            compared++;
            loadedWhole += whole.loads;
            loadedByDirectory += byDirectory.loads;
            entriesTold += entries(walked);
            String d = difference(a, b);
            if (d != null) {
                differences.add(d);
            }
            lastChanges = b instanceof Plan p ? p.changes() : List.of();
        }
        return made;
    }

    private static long entries(XfArray walked) throws StagingException {
        org.xfstage.api.repair.DirectoryWalkRecord r = new org.xfstage.api.repair.DirectoryWalkRecord();
        long n = 0;
        for (long i = r.loadNext(walked, 0); i >= 0; i = r.loadNext(walked, i + 1)) {
            n += r.kind() == org.xfstage.api.repair.DirectoryWalkRecord.Kind.ENTRY ? 1 : 0;
        }
        return n;
    }

    private interface Making {
        Plan make() throws Exception;
    }

    /** The plan, null, or the exception it threw. */
    private static Object outcome(Making m) {
        try {
            return m.make();
        } catch (Exception e) {
            return e;
        }
    }

    private static String difference(Object whole, Object byDirectory) {
        if (whole instanceof Exception x || byDirectory instanceof Exception) {
            String w = whole instanceof Exception x ? x.getClass().getSimpleName() + ": " + x.getMessage() : "plan " + whole;
            String b = byDirectory instanceof Exception y ? y.getClass().getSimpleName() + ": " + y.getMessage() : "plan " + byDirectory;
            return w.equals(b) ? null : "whole walk: " + w + " / by directory: " + b;
        }
        if (whole == null || byDirectory == null) {
            return whole == byDirectory ? null : "whole walk: " + whole + " / by directory: " + byDirectory;
        }
        Plan p = (Plan) whole;
        Plan q = (Plan) byDirectory;
        if (!p.changes().equals(q.changes())) {
            return "changes: whole walk " + p.changes() + " / by directory " + q.changes();
        }
        if (!p.covers().equals(q.covers()) || !p.structure().equals(q.structure())) {
            return "covers: whole walk " + p.covers() + " / by directory " + q.covers();
        }
        if (p.blocks().size() != q.blocks().size()) {
            return "blocks: whole walk " + p.blocks().size() + " / by directory " + q.blocks().size();
        }
        for (int i = 0; i < p.blocks().size(); i++) {
            BlockImage x = p.blocks().get(i);
            BlockImage y = q.blocks().get(i);
            if (x.offset() != y.offset() || !x.what().equals(y.what()) || x.bytes().length != y.bytes().length
                    || differing(x.bytes(), y.bytes()) > (x.what().contains("(new") ? NEW_INODE_CLOCK : 0)) {
                return "block " + i + ": whole walk " + x.what() + " at " + x.offset() + " / by directory " + y.what() + " at " + y.offset();
            }
        }
        return null;
    }

    /**
     * Bytes a new inode made twice may differ in: its four timestamps (the clock's when it is made) and its checksum;
     * no more.
     */
    private static final int NEW_INODE_CLOCK = 4 * 8 + 4;

    private static int differing(byte[] a, byte[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] != b[i] ? 1 : 0;
        }
        return n;
    }

    /** The walk's blob, its loads counted. */
    private static final class Counting implements XfBlob {
        private final XfBlob blob;
        long loads;

        Counting(XfBlob blob) {
            this.blob = blob;
        }

        @Override
        public String name() {
            return blob.name();
        }

        @Override
        public long store(byte[] src, int off, int len) throws StagingException {
            return blob.store(src, off, len);
        }

        @Override
        public byte[] load(long cookie) throws StagingException {
            loads++;
            return blob.load(cookie);
        }

        @Override
        public int size(long cookie) throws StagingException {
            return blob.size(cookie);
        }

        @Override
        public int load(long cookie, byte[] dst, int off) throws StagingException {
            loads++;
            return blob.load(cookie, dst, off);
        }

        @Override
        public void free(long cookie) throws StagingException {
            blob.free(cookie);
        }

        @Override
        public long count() {
            return blob.count();
        }

        @Override
        public long bytesUsed() {
            return blob.bytesUsed();
        }

        @Override
        public void close() {
            // the engine's: it closes it
        }
    }

    /**
     * The plan's context, whose allocations are the engine's the first time through (the plan the engine writes) and
     * the same ones, in the same order for the same asks, every later time: both ways write into the same blocks, and
     * take none the engine would count (an ask not made the first time fails, the same way for both when they agree).
     */
    private static final class Replaying {
        private final ScrubContext ctx;
        private final List<Object[]> asked = new ArrayList<>();

        Replaying(ScrubContext ctx) {
            this.ctx = ctx;
        }

        ScrubContext again(boolean forward) {
            int[] next = {0};
            return new ScrubContext() {
                @Override
                public XfsDevice device() {
                    return ctx.device();
                }

                @Override
                public FsInfo info() {
                    return ctx.info();
                }

                @Override
                public XfArray observation(Observation o) {
                    return ctx.observation(o);
                }

                @Override
                public XfBlob observationBlob(Observation o) {
                    return ctx.observationBlob(o);
                }

                @Override
                public XfArrayFactory arrays() {
                    return ctx.arrays();
                }

                @Override
                public XfBlobFactory blobs() {
                    return ctx.blobs();
                }

                @Override
                public Progress progress() {
                    return ctx.progress();
                }

                @Override
                @SuppressWarnings("unchecked")
                public List<FreeExtent> allocate(int agno, long count) throws Exception {
                    int i = next[0]++;
                    if (i < asked.size() && (Integer) asked.get(i)[0] == agno && (Long) asked.get(i)[1] == count) {
                        return (List<FreeExtent>) asked.get(i)[2];
                    }
                    if (!forward) {
                        throw new IllegalStateException("allocation " + i + " (AG " + agno + ", " + count + " blocks) was not asked the first time");
                    }
                    List<FreeExtent> got = ctx.allocate(agno, count);
                    asked.add(new Object[] {agno, count, got});
                    return got;
                }

                @Override
                public List<FreeExtent> allocated(int agno) {
                    return ctx.allocated(agno);
                }
            };
        }
    }
}
