package org.xfstage.strategies.namespace;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * directory: every directory reachable from the root, its entries as the device's verifying reader reads them, and
 * what only the whole tree shows (entries naming free inodes, a ".." that is not the parent, names given twice, a
 * directory named by two parents). The checks arrive with the device's reader; until then this finds nothing.
 */
@Component(property = RepairStrategy.STRUCTURE + "=" + DirectoryStrategy.STRUCTURE)
public class DirectoryStrategy implements RepairStrategy {
    /** The structure this strategy checks, as findings name it. */
    static final String STRUCTURE = "directory";

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        // filled in by the verifying directory reader of the device
    }
}
