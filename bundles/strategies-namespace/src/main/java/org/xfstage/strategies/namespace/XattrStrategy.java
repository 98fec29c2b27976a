package org.xfstage.strategies.namespace;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * xattr: extended attributes: the short form (sizes, entries, flags), leaf blocks (header, hash order, name hashes, names and values inside the block, usedbytes, firstused), dabtree nodes (levels, keys against children, sibling pointers) and remote value blocks (header, CRC, owner, the part of the value). The device checks these while the walk reads each inode (one read per inode, no second pass);
 * this strategy reports what it found, with the inode's path. It plans no repair.
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
}
