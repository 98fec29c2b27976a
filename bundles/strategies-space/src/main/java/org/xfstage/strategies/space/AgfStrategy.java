package org.xfstage.strategies.space;

import java.util.ArrayList;
import java.util.HashSet;
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
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ProvenRoots;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * agf: the AGF itself, its tree pointers and its counters. A header that cannot be decoded (a bad magic or checksum,
 * another AG's seqno, another filesystem's uuid) is rebuilt whole, as xfs_repair's phase 5 and the kernel's
 * xrep_agf do: the free-space btrees and the AGFL from the space map ({@link FreeSpaceRebuild}), the other roots as
 * the walk proved them ({@link ProvenRoots}), and a new header around them; nothing is taken from the damaged one.
 * In a header that decodes, each tree's root and height must be the ones the walks start from (a pointer to another
 * block leaves the tree unreachable for the kernel), and the counters (free blocks, longest free extent, btree
 * blocks; rmapbt and refcountbt blocks where those exist) must match the btrees; the repair sets them so.
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

    /** The trees whose roots an AGF holds. */
    private static final List<BtreeType> TREES = List.of(BtreeType.BNO, BtreeType.CNT, BtreeType.RMAP, BtreeType.REFCOUNT);

    /** The AGF's fields, or null when it cannot be decoded (and then why, to {@code findings}). */
    static Map<HeaderField, Long> header(ScrubContext ctx, int agno, Consumer<Finding> findings) throws Exception {
        try {
            return ctx.device().header(HeaderKind.AGF, agno);
        } catch (XfsFormatException e) {
            findings.accept(new Finding("agf", agno, "AGF", e.getMessage(), "a header rebuilt from the AG's trees"));
            return null;
        }
    }

    /**
     * The trees whose root or height the AGF has wrong: what it says against the root the walks start from (its own
     * pointer when that leads to a root, else the one the device finds). A tree whose root cannot be found at all is
     * left out: its walk reports it.
     */
    static List<BtreeType> wrongRoots(ScrubContext ctx, int agno, Map<HeaderField, Long> header, Consumer<Finding> findings)
            throws Exception {
        List<BtreeType> wrong = new ArrayList<>();
        for (BtreeType t : TREES) {
            if (!ctx.info().hasTree(t)) {
                continue;
            }
            XfsDevice.BtreeRoot root;
            try {
                root = ctx.device().btreeRoot(agno, t);
            } catch (XfsFormatException e) {
                continue;
            }
            long says = header.get(HeaderField.root(t));
            long height = header.get(HeaderField.level(t));
            if (says != root.block()) {
                findings.accept(new Finding("agf", agno, HeaderField.root(t).toString(), "says block " + says + ", which is not the "
                        + t.treeName() + "'s root", String.valueOf(root.block())));
            }
            if (height != root.levels()) {
                findings.accept(new Finding("agf", agno, HeaderField.level(t).toString(), "says " + height + " levels",
                        String.valueOf(root.levels())));
            }
            if (says != root.block() || height != root.levels()) {
                wrong.add(t);
            }
        }
        return wrong;
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            Map<HeaderField, Long> header = header(ctx, ag.agno(), findings);
            if (header == null) {
                continue; // its figures mean nothing: it is rebuilt whole
            }
            wrongRoots(ctx, ag.agno(), header, findings);
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
                return null; // the check itself failed (a tree it reads could not be walked): nothing to plan from
            }
            ags.add(f.agno());
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Set<Coverage> covers = new HashSet<>();
        List<Finding> rebuild = new ArrayList<>();
        for (int agno : ags) {
            Map<HeaderField, Long> header = header(ctx, agno, f -> { });
            if (header == null) {
                rebuild.add(findings.stream().filter(f -> f.agno() == agno).findFirst().orElseThrow());
                continue;
            }
            Map<HeaderField, Long> want = expected(ctx, agno);
            Map<HeaderField, Long> have = actual(ctx.info().ags().get(agno));
            want.forEach((k, v) -> {
                if (!have.get(k).equals(v)) {
                    changes.add("AG " + agno + " " + k + ": " + have.get(k) + " -> " + v);
                }
            });
            for (BtreeType t : wrongRoots(ctx, agno, header, f -> { })) {
                if (!ProvenRoots.put(ctx, agno, t, want)) {
                    return null; // no block is proven to be the root: nothing to point the header at
                }
                changes.add(rootChange(agno, t, header, want));
            }
            blocks.add(ctx.device().updateHeader(HeaderKind.AGF, agno, want));
        }
        if (!rebuild.isEmpty()) {
            // a header that cannot be decoded is made new with the free-space trees and the AGFL, as phase 5 does
            Plan whole = FreeSpaceRebuild.plan(ctx, rebuild, "agf");
            if (whole == null) {
                return null;
            }
            blocks.addAll(whole.blocks());
            changes.addAll(whole.changes());
            covers.addAll(whole.covers());
        }
        return new Plan("agf", blocks, changes, covers);
    }

    /** A root and height set to the proven ones, in words: the height only when it changes. */
    private static String rootChange(int agno, BtreeType t, Map<HeaderField, Long> was, Map<HeaderField, Long> now) {
        HeaderField root = HeaderField.root(t);
        HeaderField level = HeaderField.level(t);
        String out = "AG " + agno + " " + root + ": " + was.get(root) + " -> " + now.get(root);
        return was.get(level).equals(now.get(level)) ? out : out + ", " + level + ": " + was.get(level) + " -> " + now.get(level);
    }

    /**
     * A rebuilt free-space btree rewrites the AGF too, its counters are planned after it; and whichever of them plans
     * first makes an AGF that cannot be decoded new ({@link FreeSpaceRebuild}), covering this strategy's finding.
     */
    @Override
    public Set<String> after() {
        return Set.of("bnobt", "cntbt", "agfl");
    }
}
