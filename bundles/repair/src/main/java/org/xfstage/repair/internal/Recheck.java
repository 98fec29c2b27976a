package org.xfstage.repair.internal;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * The re-check of a repair's plans before anything is written: the scrub again, on a view of the image with the
 * planned blocks in it (a view of the open the repair holds). When no plan writes inode space (no block of an inode chunk or of a file), what the first
 * scrub read in the inodes and the directory tree still holds: then only the metadata is walked again and the first
 * scrub's inode map, link counts, file extents and record of the directory tree are reused, unless the inobts now list
 * other chunks. A plan that
 * would leave damage is refused, by name, and nothing is written.
 */
final class Recheck implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private final Services services;
    private final String run;
    private final Path image;
    private final XfsDevice held;
    private final Progress progress;
    // what the first scrub found in the inodes and the directory tree, kept for the re-check
    private XfArray space;
    private XfArray inodes;
    private XfArray links;
    private XfArray problems;
    private XfArray mappings;
    private XfArray walked;
    private XfBlob told;
    private byte[] chunks;
    /** The findings of the first scrub's tree-walk checks, by structure: they stand when the tree is not walked again. */
    private java.util.Map<String, List<Finding>> walkFindings = java.util.Map.of();
    private FsInfo info;
    private long maxExtent;

    /** {@code held}: the repair's open of the image, which the re-check reads views of. */
    Recheck(Services services, String run, Path image, XfsDevice held, Progress progress) {
        this.services = services;
        this.run = run;
        this.image = image;
        this.held = held;
        this.progress = progress;
    }

    /** Takes over the first scrub's observations (this closes them) while they are still staged. */
    void keep(FsInfo firstInfo, long maxExtentLength, Observations staged) {
        space = staged.take(Observation.SPACE_MAP);
        inodes = staged.take(Observation.INODE_MAP);
        links = staged.take(Observation.LINK_COUNTS);
        problems = staged.take(Observation.INODE_PROBLEMS);
        mappings = staged.take(Observation.FILE_MAPPINGS); // null unless an rmapbt check asked for them
        walked = staged.take(Observation.DIRECTORY_WALK);
        told = staged.takeBlob(Observation.DIRECTORY_WALK);
        chunks = staged.chunks();
        walkFindings = staged.allWalkFindings();
        info = firstInfo;
        maxExtent = maxExtentLength;
    }

    /**
     * The most rounds of plans a repair makes (the first on the first scrub, the others on re-checks of views): a tree
     * that takes or gives back blocks needs the free-space btrees, the counters and (after them, in the same round) the
     * rmapbt planned again in round 2; an rmapbt or free-space tree that changed size then moves free space once more
     * (round 3, seldom 4). The oracle's recipes settle in two; past six the plans do not settle and the repair is
     * refused, nothing written.
     */
    static final int MAX_ROUNDS = 6;

    /**
     * The scrub of the image as the planner's blocks would make it. While it finds damage, the strategies plan again
     * on that view for what it found (the planner's next round), and the view with those plans in it is scrubbed
     * again, for at most {@link #MAX_ROUNDS} rounds of plans in all; refused when damage is left that no round's plans
     * change, that no strategy plans for, or past the bound.
     */
    ScrubReport check(Planner planner) throws RepairException {
        while (true) {
            List<BlockImage> blocks = planner.blocks();
            boolean replan = planner.round() < MAX_ROUNDS;
            int unplanned = planner.unrepairedSoFar();
            ScrubRun.WhileStaged then = (chosen, ctx, findings, staged) -> {
                if (replan && !findings.isEmpty()) {
                    planner.nextRound();
                    planner.plan(chosen, ctx, findings);
                }
            };
            ScrubReport after = null;
            if (untouched(blocks)) {
                after = ScrubRun.of(services, run, image, ScrubOptions.all(), progress).on(held)
                        .scrubView(blocks, this::metadataAgain, then).orElse(null);
            }
            if (after == null) {
                after = ScrubRun.of(services, run, image, ScrubOptions.all(), progress).on(held)
                        .scrubView(blocks, WholeWalk::stage, then).orElseThrow();
            }
            if (after.clean()) {
                return after;
            }
            Finding f = after.findings().get(0);
            String by = planner.planOf(f).map(p -> "the plan of strategy '" + p.structure() + "'")
                    .orElse("the plans of " + planner.plans().stream().map(p -> "'" + p.structure() + "'").distinct().toList());
            String left = by + " would leave " + f.structure() + " damaged (" + f.location() + ": " + f.problem() + ")";
            if (!replan) {
                throw new RepairException(left + " after " + MAX_ROUNDS + " rounds of plans (the most a repair makes); nothing was written");
            }
            if (planner.unrepairedSoFar() > unplanned) {
                throw new RepairException(left + ", and no strategy plans for " + planner.unrepairedSince(unplanned)
                        + " on the view; nothing was written");
            }
            if (!planner.changedThisRound()) {
                throw new RepairException(left + "; nothing was written");
            }
            LOG.info("[{}] re-check: {} finding(s) left, planned again (round {})", run, after.findings().size(), planner.round());
        }
    }

    /** The metadata walked again, the first scrub's inode space merged into its space map, its inodes and links lent. */
    private boolean metadataAgain(ScrubRun.Walking w) throws StagingException {
        try (XfArray meta = w.arrays().create("scrub " + w.run() + " metadata space", SpaceMapRecord.SIZE)) {
            SpaceWalk walk = new SpaceWalk(w.device(), w.info(), meta, null, w.findings()::add, w.progress());
            w.progress().phase("re-check walk", w.info().agCount(), "AGs");
            walk.walk();
            if (!Arrays.equals(walk.chunks(), chunks)) {
                LOG.info("[{}] re-check: the inobts list other chunks now; the inodes are read again", w.run());
                return false;
            }
            w.progress().phase("re-check sort", meta.length(), "records");
            w.progress().step(meta.length());
            meta.sort(SpaceMapRecord.ORDER, SortOptions.DEFAULT, w.progress());
            w.progress().end();
            withInodeSpace(meta, space, w.space());
            w.figures().put("extents", walk.extents + w.space().length() - meta.length());
            w.figures().put("inodes_reused", inodes.length());
        }
        w.staged().borrow(Observation.INODE_MAP, inodes);
        w.staged().borrow(Observation.LINK_COUNTS, links);
        w.staged().borrow(Observation.INODE_PROBLEMS, problems);
        if (mappings != null) {
            w.staged().borrow(Observation.FILE_MAPPINGS, mappings);
        }
        if (walked != null && told != null) { // what the tree walk read: the directories are as they were
            w.staged().borrow(Observation.DIRECTORY_WALK, walked, told);
        }
        // the checks that read the tree as it was walked: the tree is as it was, so are their findings
        walkFindings.forEach(w.staged()::walkFindings);
        LOG.info("[{}] walk: metadata again, the inodes' space, inode map, link counts and inode problems of the first scrub", w.run());
        return true;
    }

    private boolean untouched(List<BlockImage> blocks) {
        try {
            return untouchedBy(blocks);
        } catch (StagingException e) {
            return false; // cannot tell: the re-check reads everything again
        }
    }

    /**
     * Whether the plans leave the inodes' space, the inodes and the directories alone: none of their blocks is (per
     * the space map) an inode chunk's or a file's; then what the first walk read there still holds.
     */
    private boolean untouchedBy(List<BlockImage> blocks) throws StagingException {
        if (space == null || inodes == null || links == null || problems == null || chunks == null || info == null || maxExtent <= 0) {
            return false;
        }
        long agBytes = info.agBlocks() * info.blockSize();
        SpaceMapRecord r = new SpaceMapRecord();
        for (BlockImage b : blocks) {
            long agno = b.offset() / agBytes;
            long first = (b.offset() % agBytes) / info.blockSize();
            long last = (b.offset() % agBytes + b.bytes().length - 1) / info.blockSize();
            // the last record starting at or before the block's last, and those before it that may reach it
            long lo = 0;
            long hi = space.length() - 1;
            long at = -1;
            while (lo <= hi) {
                long mid = (lo + hi) >>> 1;
                r.load(space, mid);
                if (Long.compareUnsigned(r.position(), SpaceMapRecord.position((int) agno, last)) <= 0) {
                    at = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            // no extent of inode space is longer than the longest mapping: only those that start so close may reach it
            for (long i = at; i >= 0; i--) {
                r.load(space, i);
                long start = r.agbno();
                if (r.agno() != agno || start + maxExtent < first) {
                    break;
                }
                boolean inodeSpace = r.use().isFile() || r.use() == SpaceUse.INODES;
                if (inodeSpace && r.end() > first) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The metadata space map (sorted) with the first scrub's records of inode space merged in, in order, into {@code out}. */
    private static void withInodeSpace(XfArray meta, XfArray first, XfArray out) throws StagingException {
        SpaceMapRecord a = new SpaceMapRecord();
        SpaceMapRecord b = new SpaceMapRecord();
        long i = a.loadNext(meta, 0);
        long j = nextOfInodes(first, 0, b);
        while (i >= 0 || j >= 0) {
            if (j < 0 || (i >= 0 && Long.compareUnsigned(a.position(), b.position()) <= 0)) {
                a.appendTo(out);
                i = a.loadNext(meta, i + 1);
            } else {
                b.appendTo(out);
                j = nextOfInodes(first, j + 1, b);
            }
        }
    }

    /** The next space map record of a file's (owner an inode number), or -1. */
    private static long nextOfInodes(XfArray space, long from, SpaceMapRecord r) throws StagingException {
        for (long i = r.loadNext(space, from); i >= 0; i = r.loadNext(space, i + 1)) {
            if (r.use().isFile()) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void close() {
        for (XfArray a : new XfArray[] {space, inodes, links, problems, walked, mappings}) {
            if (a != null) {
                a.close();
            }
        }
        if (told != null) {
            told.close();
        }
    }
}
