package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * sb-counters: the superblock's inode and free-block counters against what the filesystem holds. Free blocks count
 * as the kernel does when it sums the AGs (xfs_initialize_perag_data): free extents, AGFL blocks and the blocks of
 * the free-space and rmap btrees past their roots.
 */
@Component(property = RepairStrategy.STRUCTURE + "=sb-counters")
public class SbCountersStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP, Observation.INODE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        FsInfo info = ctx.info();
        long[] want = counted(ctx);
        if (info.icount() != want[0]) {
            findings.accept(new Finding("sb-counters", -1, "sb_icount", "says " + info.icount(), String.valueOf(want[0])));
        }
        if (info.ifree() != want[1]) {
            findings.accept(new Finding("sb-counters", -1, "sb_ifree", "says " + info.ifree(), String.valueOf(want[1])));
        }
        if (info.fdblocks() != want[2]) {
            findings.accept(new Finding("sb-counters", -1, "sb_fdblocks", "says " + info.fdblocks(), String.valueOf(want[2])));
        }
    }

    /** The AGFL counts it sums come from the AGFs, so AGF repairs go first. */
    @Override
    public Set<String> after() {
        return Set.of("agf", "agi");
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        long[] want = counted(ctx);
        FsInfo info = ctx.info();
        long[] have = {info.icount(), info.ifree(), info.fdblocks()};
        String[] names = {"sb_icount", "sb_ifree", "sb_fdblocks"};
        List<String> changed = new java.util.ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            if (have[i] != want[i]) { // the plan text names only what changes; the block carries all three
                changed.add(names[i] + ": " + have[i] + " -> " + want[i]);
            }
        }
        return new Plan("sb-counters", List.of(ctx.device().updateHeader(HeaderKind.SUPERBLOCK, 0,
                Map.of("icount", want[0], "ifree", want[1], "fdblocks", want[2]))),
                List.of(changed.isEmpty() ? "superblock counters rewritten as counted (unchanged)" : String.join(", ", changed)));
    }

    /**
     * icount and ifree from the inode map (the inodes of every chunk, free when their mode is zero), so that a damaged
     * inobt or AGI does not skew them; fdblocks from the space map, so that a damaged free-space btree does not skew it: per AG, every block not used by something other than the free-space and rmap btrees and the AGFL,
     * less those trees' roots (the kernel counts their other blocks, and the AGFL, as free).
     */
    private static long[] counted(ScrubContext ctx) throws Exception {
        FsInfo info = ctx.info();
        boolean rmap = info.features().contains("rmapbt");
        long icount = 0;
        long ifree = 0;
        XfArray inodes = ctx.observation(Observation.INODE_MAP);
        ByteBuffer state = ByteBuffer.allocate(16);
        for (long i = inodes.loadNext(0, state); i >= 0; i = inodes.loadNext(i + 1, state)) {
            icount++;
            ifree += state.getLong(8) == 0 ? 1 : 0; // 1 in use, 2 unreadable (a finding of its own)
        }
        long[] usedOther = new long[info.agCount()];
        long[] lastEnd = new long[info.agCount()];
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        ByteBuffer r = ByteBuffer.allocate(24);
        for (long i = space.loadNext(0, r); i >= 0; i = space.loadNext(i + 1, r)) {
            long owner = r.getLong(16);
            boolean freeSide = owner == XfsDevice.OWNER_AGFL || owner == ScrubContext.OWNER_BTREE_BASE - BtreeType.BNO.ordinal()
                    || owner == ScrubContext.OWNER_BTREE_BASE - BtreeType.CNT.ordinal()
                    || owner == ScrubContext.OWNER_BTREE_BASE - BtreeType.RMAP.ordinal();
            if (freeSide) {
                continue;
            }
            int agno = r.getInt(0);
            long start = r.getInt(4) & 0xffffffffL;
            long end = start + (r.getInt(8) & 0xffffffffL);
            long from = Math.max(start, lastEnd[agno]); // blocks used twice are counted once
            if (end > from) {
                usedOther[agno] += end - from;
                lastEnd[agno] = end;
            }
        }
        long fdblocks = 0;
        for (FsInfo.AgInfo ag : info.ags()) {
            fdblocks += ag.length() - usedOther[ag.agno()] - (rmap ? 3 : 2);
        }
        return new long[] {icount, ifree, fdblocks};
    }
}
