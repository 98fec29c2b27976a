package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * nlinks: every inode's link count against the tree: a file has one link per entry naming it, a directory two
 * (its entry and its ".") plus one per subdirectory (their "..").
 */
@Component(property = RepairStrategy.STRUCTURE + "=nlinks")
public class NlinkStrategy implements RepairStrategy {
    private static final int MAX_FINDINGS = 50;

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.LINK_COUNTS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        XfArray links = ctx.observation(Observation.LINK_COUNTS);
        ByteBuffer r = ByteBuffer.allocate(24);
        long current = -1;
        long onDisk = -1;
        boolean dir = false;
        long entries = 0;
        long dotdots = 0;
        int reported = 0;
        for (long i = links.loadNext(0, r); ; i = links.loadNext(i + 1, r)) {
            long ino = i < 0 ? -1 : r.getLong(0) - 1;
            if (ino != current) {
                if (current >= 0 && onDisk >= 0) {
                    long expected = dir ? 2 + dotdots : entries;
                    if (expected != onDisk && reported++ < MAX_FINDINGS) {
                        findings.accept(new Finding("nlinks", -1, "inode " + current, "link count " + onDisk,
                                String.valueOf(expected)));
                    }
                }
                if (i < 0) {
                    return;
                }
                current = ino;
                onDisk = -1;
                entries = 0;
                dotdots = 0;
                dir = false;
            }
            long kind = r.getLong(8);
            if (kind == 0) {
                onDisk = r.getLong(16) & 0xffffffffL;
                dir = (r.getLong(16) >>> 32) != 0;
            } else if (kind == 1) {
                entries++;
            } else {
                dotdots++;
            }
        }
    }
}
