package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.XfArray;

/**
 * bmap: the extent maps of both forks and their bmbt blocks. Two views:
 * <ul>
 * <li>each map on its own, as the device read it during the walk: records of length zero, out of order or
 * overlapping, outside the filesystem or across an AG, unwritten where they may not be; bmbt blocks with a bad
 * magic, CRC, level, owner or place, too few or too many records, keys that are not their child's first offset,
 * sibling pointers that do not name the neighbour;</li>
 * <li>all maps together, from the space map: a block a file maps (data or bmbt) that something else uses too, which
 * the free-space check reports by block, named here by inode. Blocks shared by two files' data are legal with
 * reflink (whether the refcountbt agrees is the refcountbt strategy's business); the AGFL's blocks are the AGFL
 * strategy's.</li>
 * </ul>
 * It repairs a map by writing the fork anew with what can still be read of it, less the blocks another owner keeps
 * ({@link BmapRepairPlan}): the file is kept, where xfs_repair clears the inode.
 */
@Component(property = RepairStrategy.STRUCTURE + "=bmap")
public class BmapStrategy implements RepairStrategy {
    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_PROBLEMS, Observation.SPACE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        InodeProblems.report(ctx, InodeProblem.Structure.BMAP, findings);
        sharedBlocks(ctx, findings);
    }

    /** One block range a file maps that another owner uses too. */
    record Conflict(int agno, long agbno, long length, SpaceUse use, long owner, SpaceUse otherUse, long other) {
    }

    /**
     * Walks the sorted space map AG by AG, keeping the extent that reaches furthest so far; a record starting before
     * that end overlaps it. Reported when a file's block is involved and the sharing is not legal.
     */
    private static void sharedBlocks(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        long[] moreOf = {0};
        List<Conflict> conflicts = conflicts(ctx, InodeProblems.MAX_FINDINGS, moreOf);
        long more = moreOf[0];
        Set<Long> inodes = new LinkedHashSet<>();
        conflicts.forEach(c -> inodes.add(c.owner()));
        Map<Long, String> paths = InodePaths.of(ctx, inodes);
        for (Conflict c : conflicts) {
            findings.accept(new Finding("bmap", c.agno(), InodePaths.location(c.owner(), paths),
                    (c.use() == SpaceUse.FILE_BMBT ? "its bmbt block " : "it maps blocks ") + c.agbno() + "+" + c.length()
                            + " of AG " + c.agno() + ", also used by " + c.otherUse().describe(c.other()),
                    "blocks of its own"));
        }
        if (more > 0) {
            findings.accept(new Finding("bmap", -1, "inodes", more + " more blocks mapped by a file and used by another owner", null));
        }
    }

    /**
     * The block ranges files map that another owner uses too, the first {@code limit} (the count of the rest goes to
     * {@code more}), in space map order: for the check's findings and the plan's decision of who keeps them.
     */
    static List<Conflict> conflicts(ScrubContext ctx, int limit, long[] moreOut) throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        boolean reflink = ctx.info().has(Feature.REFLINK);
        SpaceMapRecord r = new SpaceMapRecord();
        List<Conflict> conflicts = new ArrayList<>();
        long more = 0;
        int agno = -1;
        long end = 0;
        SpaceUse lastUse = null;
        long lastOwner = 0;
        for (long i = r.loadNext(space, 0); i >= 0; i = r.loadNext(space, i + 1)) {
            if ((i & 4095) == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("scrub cancelled while comparing the extent maps with the space map");
            }
            if (r.agno() != agno) {
                agno = r.agno();
                end = 0;
                lastUse = null;
            }
            if (lastUse != null && r.agbno() < end && illegal(r.use(), lastUse, reflink)) {
                boolean mine = r.use().isFile();
                Conflict c = new Conflict(agno, r.agbno(), Math.min(r.end(), end) - r.agbno(), mine ? r.use() : lastUse,
                        mine ? r.owner() : lastOwner, mine ? lastUse : r.use(), mine ? lastOwner : r.owner());
                Conflict prev = conflicts.isEmpty() ? null : conflicts.get(conflicts.size() - 1);
                if (prev != null && prev.agno() == c.agno() && prev.agbno() + prev.length() == c.agbno() && prev.use() == c.use()
                        && prev.owner() == c.owner() && prev.otherUse() == c.otherUse() && prev.other() == c.other()) {
                    // the same two owners on the next blocks (an inode chunk is staged block by block): one finding
                    conflicts.set(conflicts.size() - 1, new Conflict(c.agno(), prev.agbno(), prev.length() + c.length(), c.use(),
                            c.owner(), c.otherUse(), c.other()));
                } else if (conflicts.size() < limit) {
                    conflicts.add(c);
                } else {
                    more++;
                }
            }
            if (r.end() > end) {
                end = r.end();
                lastUse = r.use();
                lastOwner = r.owner();
            }
        }
        moreOut[0] = more;
        return conflicts;
    }

    /** Whether two uses of one block are wrong and a file's: not the AGFL's business, not reflink sharing. */
    private static boolean illegal(SpaceUse a, SpaceUse b, boolean reflink) {
        if (!a.isFile() && !b.isFile()) {
            return false; // metadata against metadata: the free-space check names both
        }
        if (a == SpaceUse.AGFL || b == SpaceUse.AGFL || a == SpaceUse.COW || b == SpaceUse.COW) {
            return false;
        }
        return !(reflink && a == SpaceUse.FILE_DATA && b == SpaceUse.FILE_DATA);
    }

    /** The forks that break a rule or lose blocks to another owner, written anew ({@link BmapRepairPlan}). */
    @Override
    public org.xfstage.api.repair.Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        return BmapRepairPlan.plan(ctx);
    }

    /**
     * Blocks "also used by inode chunks" may be the walk's mistake when the inobt is damaged (it read chunks that are
     * not there): an inobt rebuild from proof comes first and answers for those findings.
     */
    @Override
    public java.util.Set<String> after() {
        return java.util.Set.of("inobt");
    }
}
