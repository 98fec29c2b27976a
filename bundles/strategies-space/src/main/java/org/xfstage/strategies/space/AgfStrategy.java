package org.xfstage.strategies.space;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

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

    /** What the AGF counters of an AG should be, from its btrees. */
    static Map<HeaderField, Long> expected(ScrubContext ctx, int agno) throws Exception {
        long[] free = {0, 0}; // free blocks, longest free extent
        long bnoBlocks = ctx.device().walkBtree(agno, Btree.BNO, e -> {
            free[0] += e.length();
            free[1] = Math.max(free[1], e.length());
        });
        // block counts by the trees' pointers: a tree whose records are damaged still holds its blocks
        long cntBlocks = ctx.device().btreeBlocks(agno, BtreeType.CNT).length;
        boolean rmap = ctx.info().hasTree(BtreeType.RMAP);
        long rmapBlocks = rmap ? ctx.device().btreeBlocks(agno, BtreeType.RMAP).length : 0;
        Map<HeaderField, Long> m = new LinkedHashMap<>();
        m.put(HeaderField.AGF_FREEBLKS, free[0]);
        m.put(HeaderField.AGF_LONGEST, free[1]);
        m.put(HeaderField.AGF_BTREEBLKS, bnoBlocks - 1 + cntBlocks - 1 + (rmap ? rmapBlocks - 1 : 0)); // roots are not counted
        if (rmap) {
            m.put(HeaderField.blocks(BtreeType.RMAP), rmapBlocks);
        }
        if (ctx.info().hasTree(BtreeType.REFCOUNT)) {
            m.put(HeaderField.blocks(BtreeType.REFCOUNT), (long) ctx.device().btreeBlocks(agno, BtreeType.REFCOUNT).length);
        }
        return m;
    }

    /** What the AGF says, from the figures of its AG. */
    private static Map<HeaderField, Long> actual(FsInfo.AgInfo ag) {
        return Map.of(HeaderField.AGF_FREEBLKS, ag.freeBlocks(), HeaderField.AGF_LONGEST, ag.longest(), HeaderField.AGF_BTREEBLKS,
                ag.btreeBlocks(), HeaderField.blocks(BtreeType.RMAP), ag.rmapBlocks(), HeaderField.blocks(BtreeType.REFCOUNT),
                ag.refcountBlocks());
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            Map<HeaderField, Long> have = actual(ag);
            for (Map.Entry<HeaderField, Long> want : expected(ctx, ag.agno()).entrySet()) {
                long h = have.get(want.getKey());
                if (h != want.getValue()) {
                    findings.accept(new Finding("agf", ag.agno(), want.getKey().toString(), "says " + h, String.valueOf(want.getValue())));
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
            Map<HeaderField, Long> want = expected(ctx, agno);
            Map<HeaderField, Long> have = actual(ctx.info().ags().get(agno));
            want.forEach((k, v) -> {
                if (!have.get(k).equals(v)) {
                    changes.add("AG " + agno + " " + k + ": " + have.get(k) + " -> " + v);
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
