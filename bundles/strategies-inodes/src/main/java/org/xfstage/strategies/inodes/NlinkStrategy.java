package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
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

    /** One inode whose link count differs from the tree. */
    private interface Mismatch {
        void accept(long ino, long onDisk, long expected) throws Exception;
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        int[] reported = {0};
        mismatches(ctx, (ino, onDisk, expected) -> {
            if (reported[0]++ < MAX_FINDINGS) {
                findings.accept(new Finding("nlinks", -1, "inode " + ino, "link count " + onDisk, String.valueOf(expected)));
            }
        });
    }

    /**
     * Sets every differing link count to what the tree shows (all of them, not only the reported ones). An inode in
     * use that no directory names is disconnected: it needs a lost+found, which this strategy does not make.
     */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        boolean[] disconnected = {false};
        mismatches(ctx, (ino, onDisk, expected) -> {
            if (expected == 0) {
                disconnected[0] = true;
                return;
            }
            if (ctx.device().probeInode(ino) == org.xfstage.api.device.InodeProbe.FREE) {
                // free on the plan's view (a plan before this one cleared it, as xfs_repair clears an inode it cannot
                // trust): a link count written there would make a free inode claim links; the next round counts again
                return;
            }
            blocks.add(ctx.device().updateInode(ino, Map.of(InodeField.NLINK, expected)));
            if (changes.size() < MAX_FINDINGS) {
                changes.add("inode " + ino + " nlink: " + onDisk + " -> " + expected);
            }
        });
        if (disconnected[0]) {
            return null;
        }
        if (blocks.size() > changes.size()) {
            changes.add((blocks.size() - changes.size()) + " more inodes");
        }
        return new Plan("nlinks", blocks, changes);
    }

    /**
     * Walks the sorted link-count records, inode by inode, and reports each inode whose count differs. Each step reads
     * the record after the last one read, so the walk ends when the records do (at once when there are none).
     */
    private static void mismatches(ScrubContext ctx, Mismatch out) throws Exception {
        XfArray links = ctx.observation(Observation.LINK_COUNTS);
        LinkCountRecord r = new LinkCountRecord();
        long i = r.loadNext(links, 0);
        while (i >= 0) {
            long ino = r.ino();
            long onDisk = -1; // until its own record: without one there is nothing to compare
            boolean dir = false;
            long entries = 0;
            long dotdots = 0;
            do {
                switch (r.kind()) {
                    case INODE -> {
                        onDisk = r.nlink();
                        dir = r.directory();
                    }
                    case NAMED -> { // its own and an entry, in one record
                        onDisk = r.nlink();
                        dir = r.directory();
                        entries++;
                    }
                    case ENTRY -> entries++;
                    case DOTDOT -> dotdots++;
                }
                i = r.loadNext(links, i + 1);
            } while (i >= 0 && r.ino() == ino);
            long expected = dir ? 2 + dotdots : entries;
            if (onDisk >= 0 && expected != onDisk) {
                out.accept(ino, onDisk, expected);
            }
        }
    }
}
