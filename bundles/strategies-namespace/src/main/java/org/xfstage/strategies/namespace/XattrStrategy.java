package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * xattr: extended attributes: the short form (sizes, entries, flags), leaf blocks (header, hash order, name hashes, names and values inside the block, usedbytes, firstused), dabtree nodes (levels, keys against children, sibling pointers) and remote value blocks (header, CRC, owner, the part of the value). The device checks these while the walk reads each inode (one read per inode, no second pass);
 * this strategy reports what it found, with the inode's path.
 * <p>
 * It repairs as xfs_repair does: a short-form fork keeps its entries up to the first that does not read, one with
 * flags no kernel writes dropped alone, the count and size corrected (process_shortform_attr; the device's
 * {@code salvageShortFormAttributes}), reported as "attributes salvaged: /path (inode N: ...): K of C attribute(s)
 * kept, cut before entry I: ..."; any other fork that does not read ("clearing inode N attributes"), or a short form
 * of which nothing reads, is dropped whole (the device's {@code dropAttributeFork}), reported as "attributes dropped:
 * /path (inode N: ...)", and its blocks come back to free space in the next round of plans.
 * <p>
 * A leaf or node fork keeps what reads, as the kernel's online repair salvages one (the device's
 * {@code salvageAttributeBlocks}, api device 2.7): every entry of every leaf that reads, written back in short form or
 * as one leaf block, each dropped entry named with its reason; where xfs_repair 6.1 clears the whole fork. It is dropped
 * whole when nothing reads or what reads needs more than one leaf block.
 */
@Component(property = RepairStrategy.STRUCTURE + "=xattr")
public class XattrStrategy implements RepairStrategy {
    /** Where the device's description of a salvaged fork says what was kept. */
    private static final String SAID = "(attributes: ";

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_PROBLEMS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        InodeProblems.report(ctx, InodeProblem.Structure.XATTR, findings);
    }

    /**
     * The attribute fork of every inode whose attributes still break a rule on the plan's view: a short-form fork kept
     * as far as it reads (the device's {@code salvageShortFormAttributes}), a leaf or node fork too (its
     * {@code salvageAttributeBlocks}), one of which nothing is kept dropped.
     */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Map<Long, String> drop = new LinkedHashMap<>();
        InodeClearing.stillBroken(ctx, InodeProblem.Structure.XATTR).forEach((ino, e) -> drop.put(ino, e.getValue()));
        if (drop.isEmpty()) {
            return null; // nothing staged by this walk still broken: nothing to plan
        }
        List<BlockImage> salvaged = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Map<Long, String> kept = new LinkedHashMap<>(); // inode to the change line's end
        for (java.util.Iterator<Map.Entry<Long, String>> it = drop.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, String> e = it.next();
            List<BlockImage> b;
            try {
                b = List.of(ctx.device().salvageShortFormAttributes(e.getKey()));
            } catch (XfsFormatException notShortForm) {
                try {
                    b = ctx.device().salvageAttributeBlocks(e.getKey());
                } catch (XfsFormatException notBlocks) {
                    continue; // nothing of it reads, or what reads is not kept in place: dropped whole below
                }
            }
            salvaged.addAll(b);
            it.remove();
            String what = b.get(0).what();
            int at = what.indexOf(SAID);
            kept.put(e.getKey(), e.getValue() + "): " + (at < 0 ? what : what.substring(at + SAID.length(), what.length() - 1)));
        }
        // the paths of the salvaged (one walk of the tree); the dropped ones' are InodeClearing's
        Map<Long, String> paths = InodeClearing.paths(ctx, kept.keySet());
        for (Map.Entry<Long, String> e : kept.entrySet()) {
            if (changes.size() < InodeClearing.MAX_CHANGES) {
                String path = paths.get(e.getKey());
                changes.add("attributes salvaged: " + (path == null ? "" : path + " ") + "(inode " + e.getKey() + ": " + e.getValue());
            }
        }
        InodeClearing.Planned p = InodeClearing.plan(ctx, Map.of(), drop);
        salvaged.addAll(p.blocks());
        changes.addAll(p.changes());
        return new Plan("xattr", salvaged, changes);
    }
}
