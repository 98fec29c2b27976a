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
 * symlink: a symlink's target: its length (1 to 1023 bytes) against the data fork's format, no NUL in it, and for remote targets the mapping (contiguous from block 0) and each block's XSLM header (magic, CRC, owner, place, the part of the target it holds). The device checks these while the walk reads each inode (one read per inode, no second pass);
 * this strategy reports what it found, with the inode's path. It plans no repair.
 */
@Component(property = RepairStrategy.STRUCTURE + "=symlink")
public class SymlinkStrategy implements RepairStrategy {
    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_PROBLEMS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        InodeProblems.report(ctx, InodeProblem.Structure.SYMLINK, findings);
    }
}
