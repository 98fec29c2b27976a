package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * agf: the AGF counters (free blocks, longest free extent, btree blocks; rmapbt and refcountbt blocks where those
 * exist) against the btrees; the repair sets them to what the btrees hold.
 */
@Component(property = RepairStrategy.STRUCTURE + "=agf")
public class AgfStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    /** What the AGF counters of an AG should be, from its btrees (C names without the agf_ prefix). */
    static Map<String, Long> expected(ScrubContext ctx, int agno) throws Exception {
        ByteBuffer r = ByteBuffer.allocate(8);
        long[] bnoBlocks = new long[1];
        long free = 0;
        long longest = 0;
        try (XfArray bno = Extents.stage(ctx, agno, BtreeType.BNO, bnoBlocks)) {
            for (long i = bno.loadNext(0, r); i >= 0; i = bno.loadNext(i + 1, r)) {
                free += Extents.length(r);
                longest = Math.max(longest, Extents.length(r));
            }
        }
        // block counts by the trees' pointers: a tree whose records are damaged still holds its blocks
        long cntBlocks = ctx.device().btreeBlocks(agno, BtreeType.CNT).length;
        boolean rmap = ctx.info().features().contains("rmapbt");
        long rmapBlocks = rmap ? ctx.device().btreeBlocks(agno, BtreeType.RMAP).length : 0;
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("freeblks", free);
        m.put("longest", longest);
        m.put("btreeblks", bnoBlocks[0] - 1 + cntBlocks - 1 + (rmap ? rmapBlocks - 1 : 0)); // roots are not counted
        if (rmap) {
            m.put("rmap_blocks", rmapBlocks);
        }
        if (ctx.info().features().contains("reflink")) {
            m.put("refcount_blocks", (long) ctx.device().btreeBlocks(agno, BtreeType.REFCOUNT).length);
        }
        return m;
    }

    private static Map<String, Long> actual(FsInfo.AgInfo ag) {
        return Map.of("freeblks", ag.freeBlocks(), "longest", ag.longest(), "btreeblks", ag.btreeBlocks(),
                "rmap_blocks", ag.rmapBlocks(), "refcount_blocks", ag.refcountBlocks());
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            Map<String, Long> have = actual(ag);
            for (Map.Entry<String, Long> want : expected(ctx, ag.agno()).entrySet()) {
                long h = have.get(want.getKey());
                if (h != want.getValue()) {
                    findings.accept(new Finding("agf", ag.agno(), "agf_" + want.getKey(), "says " + h, String.valueOf(want.getValue())));
                }
            }
        }
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = new TreeSet<>();
        for (Finding f : findings) {
            if (f.agno() < 0) {
                return null; // an AGF that could not be read at all needs rebuilding, not new counters
            }
            ags.add(f.agno());
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (int agno : ags) {
            Map<String, Long> want = expected(ctx, agno);
            Map<String, Long> have = actual(ctx.info().ags().get(agno));
            want.forEach((k, v) -> {
                if (!have.get(k).equals(v)) {
                    changes.add("AG " + agno + " agf_" + k + ": " + have.get(k) + " -> " + v);
                }
            });
            blocks.add(ctx.device().updateHeader(HeaderKind.AGF, agno, want));
        }
        return new Plan("agf", blocks, changes);
    }

    /** A rebuilt free-space btree rewrites the AGF too; its counters are planned after it. */
    @Override
    public Set<String> after() {
        return Set.of("bnobt", "cntbt", "agfl");
    }
}
