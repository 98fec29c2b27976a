package com.example.xfstage.strategies;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.XfArray;

/**
 * agfl-wrap: a site policy the built-ins do not check, because XFS allows it: the AGFL's free list must not wrap
 * around the end of its slot array (flfirst after fllast). Kernels before 4.16 disagree with newer ones about how
 * many slots the AGFL has, so a wrapped list written by one is misread by the other; a site that moves disks
 * between such kernels keeps its lists compact. The repair rewrites the list into slots 0..n-1 (the same blocks)
 * and the AGF's flfirst, fllast and flcount.
 *
 * <p>Written against the xfstage api only: AGF fields as HeaderFields, the AGFL's blocks from the scrub's space map, and
 * the device's AGFL and AGF encoders.
 */
@Component(property = RepairStrategy.STRUCTURE + "=" + AgflWrapStrategy.STRUCTURE)
public class AgflWrapStrategy implements RepairStrategy {
    static final String STRUCTURE = "agfl-wrap";

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.SPACE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            Map<HeaderField, Long> agf = ctx.device().header(HeaderKind.AGF, ag.agno());
            long first = agf.get(HeaderField.AGF_FLFIRST);
            long last = agf.get(HeaderField.AGF_FLLAST);
            long count = agf.get(HeaderField.AGF_FLCOUNT);
            if (count > 0 && first > last) {
                findings.accept(new Finding(STRUCTURE, ag.agno(), "AGFL slots " + first + ".." + last,
                        "the free list wraps around the end of the AGFL", "slots 0.." + (count - 1)));
            }
        }
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = new TreeSet<>();
        for (Finding f : findings) {
            ags.add(f.agno());
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (int agno : ags) {
            long[] onList = agflBlocks(ctx, agno);
            Map<HeaderField, Long> agf = ctx.device().header(HeaderKind.AGF, agno);
            if (onList.length != agf.get(HeaderField.AGF_FLCOUNT)) {
                return null; // the list itself is damaged: the built-in agfl strategy's business
            }
            blocks.add(ctx.device().rebuildAgfl(agno, onList));
            blocks.add(ctx.device().updateHeader(HeaderKind.AGF, agno,
                    Map.of(HeaderField.AGF_FLFIRST, 0L, HeaderField.AGF_FLLAST, (long) onList.length - 1, HeaderField.AGF_FLCOUNT,
                            (long) onList.length)));
            changes.add("AG " + agno + ": AGFL slots " + agf.get(HeaderField.AGF_FLFIRST) + ".." + agf.get(HeaderField.AGF_FLLAST)
                    + " -> 0.." + (onList.length - 1));
        }
        return new Plan(STRUCTURE, blocks, changes);
    }

    /** The AGFL's blocks of one AG, from the space map (sorted by block). */
    private static long[] agflBlocks(ScrubContext ctx, int agno) throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord r = new SpaceMapRecord();
        List<Long> out = new ArrayList<>();
        for (long i = r.loadNext(space, 0); i >= 0; i = r.loadNext(space, i + 1)) {
            if (r.agno() == agno && r.use() == SpaceUse.AGFL) {
                out.add(r.agbno());
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** The built-in strategies that rewrite the AGF or the AGFL go first. */
    @Override
    public Set<String> after() {
        return Set.of("agf", "agfl", "bnobt", "cntbt");
    }
}
