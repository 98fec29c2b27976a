package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.XfArray;

/**
 * sb-counters: the superblock's inode and free-block counters against what the filesystem holds. Free blocks count
 * as the kernel does when it sums the AGs (xfs_initialize_perag_data): free extents, AGFL blocks and the blocks of
 * the free-space and rmap btrees past their roots.
 */
@Component(property = RepairStrategy.STRUCTURE + "=sb-counters")
public class SbCountersStrategy implements RepairStrategy {
    /** The trees whose blocks past their roots the kernel counts as free (agf_btreeblks). */
    private static final Set<BtreeType> FREE_SIDE_TREES = EnumSet.of(BtreeType.BNO, BtreeType.CNT, BtreeType.RMAP);
    /** Uses of blocks that count as free: the AGFL and the blocks of those trees (less their roots, counted apart). */
    private static final Set<SpaceUse> FREE_SIDE = EnumSet.of(SpaceUse.AGFL);

    static {
        FREE_SIDE_TREES.forEach(t -> FREE_SIDE.add(SpaceUse.of(t)));
    }

    /** The superblock counters this strategy checks, in the order {@link #counted} gives them. */
    private static final List<HeaderField> COUNTERS = List.of(HeaderField.SB_ICOUNT, HeaderField.SB_IFREE, HeaderField.SB_FDBLOCKS);

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP, Observation.INODE_MAP);
    }

    private static long[] have(FsInfo info) {
        return new long[] {info.icount(), info.ifree(), info.fdblocks()};
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        long[] want = counted(ctx);
        long[] have = have(ctx.info());
        for (int i = 0; i < COUNTERS.size(); i++) {
            if (have[i] != want[i]) {
                findings.accept(new Finding("sb-counters", -1, COUNTERS.get(i).toString(), "says " + have[i], String.valueOf(want[i])));
            }
        }
    }

    /**
     * The AGFL counts it sums come from the AGFs, so AGF repairs go first; and a primary superblock rewritten from
     * its copies (sb-primary) is the one whose counters are set.
     */
    @Override
    public Set<String> after() {
        return Set.of("agf", "agi", "sb-primary");
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        long[] want = counted(ctx);
        long[] have = have(ctx.info());
        Map<HeaderField, Long> fields = new LinkedHashMap<>();
        List<String> changed = new ArrayList<>();
        for (int i = 0; i < COUNTERS.size(); i++) {
            fields.put(COUNTERS.get(i), want[i]); // the block carries all three
            if (have[i] != want[i]) { // the plan text names only what changes
                changed.add(COUNTERS.get(i) + ": " + have[i] + " -> " + want[i]);
            }
        }
        return new Plan("sb-counters", List.of(ctx.device().updateHeader(HeaderKind.SUPERBLOCK, 0, fields)),
                List.of(changed.isEmpty() ? "superblock counters rewritten as counted (unchanged)" : String.join(", ", changed)));
    }

    /**
     * icount and ifree from the inode map (the inodes of every chunk, free when their mode is zero), so that a damaged
     * inobt or AGI does not skew them; fdblocks from the space map, so that a damaged free-space btree does not skew
     * it: per AG, every block not used by something other than the free-space and rmap btrees and the AGFL, less
     * those trees' roots (the kernel counts their other blocks, and the AGFL, as free).
     */
    private static long[] counted(ScrubContext ctx) throws Exception {
        FsInfo info = ctx.info();
        long icount = 0;
        long ifree = 0;
        XfArray inodes = ctx.observation(Observation.INODE_MAP);
        InodeMapRecord inode = new InodeMapRecord();
        for (long i = inode.loadNext(inodes, 0); i >= 0; i = inode.loadNext(inodes, i + 1)) {
            icount++;
            if (inode.state() == InodeMapRecord.State.FREE) { // an unreadable one is a finding of its own
                ifree++;
            }
        }
        long[] usedOther = new long[info.agCount()];
        long[] lastEnd = new long[info.agCount()];
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord r = new SpaceMapRecord();
        for (long i = r.loadNext(space, 0); i >= 0; i = r.loadNext(space, i + 1)) {
            if (FREE_SIDE.contains(r.use())) {
                continue;
            }
            int agno = r.agno();
            long from = Math.max(r.agbno(), lastEnd[agno]); // blocks used twice are counted once
            if (r.end() > from) {
                usedOther[agno] += r.end() - from;
                lastEnd[agno] = r.end();
            }
        }
        long roots = FREE_SIDE_TREES.stream().filter(info::hasTree).count();
        long fdblocks = 0;
        for (FsInfo.AgInfo ag : info.ags()) {
            fdblocks += ag.length() - usedOther[ag.agno()] - roots;
        }
        return new long[] {icount, ifree, fdblocks};
    }
}
