package org.xfstage.strategies.namespace;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * xattr: extended attributes: the short form (sizes, entries, flags), leaf blocks (header, hash order, name hashes, names and values inside the block, usedbytes, firstused), dabtree nodes (levels, keys against children, sibling pointers) and remote value blocks (header, CRC, owner, the part of the value). The device checks these while the walk reads each inode (one read per inode, no second pass);
 * this strategy reports what it found, with the inode's path.
 * <p>
 * It repairs as xfs_repair clears an attribute fork it cannot read ("clearing inode N attributes"): the fork is
 * dropped whole (the device's {@code dropAttributeFork}), reported as "attributes dropped: /path (inode N: ...)", and
 * its blocks come back to free space in the next round of plans. xfs_repair keeps more of a short-form fork: it cuts
 * the entries at the first bad one and corrects the count and size (process_shortform_attr); here the whole fork goes.
 */
@Component(property = RepairStrategy.STRUCTURE + "=xattr")
public class XattrStrategy implements RepairStrategy {
    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_PROBLEMS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        InodeProblems.report(ctx, InodeProblem.Structure.XATTR, findings);
    }

    /** The attribute fork of every inode whose attributes still break a rule on the plan's view, dropped. */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Map<Long, String> drop = new LinkedHashMap<>();
        InodeClearing.stillBroken(ctx, InodeProblem.Structure.XATTR).forEach((ino, e) -> drop.put(ino, e.getValue()));
        if (drop.isEmpty()) {
            return null; // nothing staged by this walk still broken: nothing to plan
        }
        InodeClearing.Planned p = InodeClearing.plan(ctx, Map.of(), drop);
        return new Plan("xattr", p.blocks(), p.changes());
    }
}
