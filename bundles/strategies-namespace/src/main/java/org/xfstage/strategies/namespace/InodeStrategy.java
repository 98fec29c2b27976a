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
 * inode: the inode core: sizes against the data fork's format and, for directories, the extent map; di_nblocks, di_nextents and di_anextents against what the forks map; flags and flags2 against the file's type and the filesystem's features; the extent size hints; the fork offset and the attribute fork's format; di_next_unlinked (NULLAGINO on a clean log). The device checks these while the walk reads each inode (one read per inode, no second pass);
 * this strategy reports what it found, with the inode's path. It plans no repair.
 */
@Component(property = RepairStrategy.STRUCTURE + "=inode")
public class InodeStrategy implements RepairStrategy {
    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_PROBLEMS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        InodeProblems.report(ctx, InodeProblem.Structure.INODE, findings);
    }
}
