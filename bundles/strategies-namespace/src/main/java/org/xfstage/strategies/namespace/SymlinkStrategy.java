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
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * symlink: a symlink's target: its length (1 to 1023 bytes) against the data fork's format, no NUL in it, and for remote targets the mapping (contiguous from block 0) and each block's XSLM header (magic, CRC, owner, place, the part of the target it holds). The device checks these while the walk reads each inode (one read per inode, no second pass);
 * this strategy reports what it found, with the inode's path.
 * <p>
 * It repairs as xfs_repair 6.1 does: a symlink whose target does not read (a length out of range or against the fork's
 * format, a NUL in it, a remote block's header naming another owner, place or part of the target, a mapping with
 * holes) is cleared ("problem with symbolic link in inode N", "cleared inode N"; {@link InodeClearing}: "lost: /path
 * (inode N, cleared: ...)"), and the next rounds of plans drop its entry and free its blocks. Remote blocks whose
 * target still reads and agrees with the size get their headers written again instead (owner, place, uuid,
 * checksum): xfs_repair rewrites only a bad checksum ("Correcting CRC, but symlink may be bad") and clears the inode
 * for a wrong owner, where the target here proves the owner and the link is kept.
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

    /**
     * Every symlink whose target still breaks a rule on the plan's view: its remote blocks' headers written again when
     * the target they hold proves them (the device's {@code rebuildSymlinkBlocks}), else the inode cleared as xfs_repair
     * clears it. An inode the inode strategy clears (a size against its format) is cleared here too, not rebuilt.
     */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Map<Long, String> clear = new LinkedHashMap<>();
        List<BlockImage> rebuilt = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (Map.Entry<Long, Map.Entry<Set<Kind>, String>> e : InodeClearing.stillBroken(ctx, InodeProblem.Structure.SYMLINK).entrySet()) {
            long ino = e.getKey();
            if (e.getValue().getKey().stream().noneMatch(InodeStrategy.CLEARED::contains)) {
                try {
                    List<BlockImage> blocks = ctx.device().rebuildSymlinkBlocks(ino);
                    rebuilt.addAll(blocks);
                    if (changes.size() < InodeClearing.MAX_CHANGES) {
                        changes.add("symlink inode " + ino + ": " + blocks.size() + " remote block header(s) written again from the target"
                                + " they hold (" + e.getValue().getValue() + ")");
                    }
                    continue;
                } catch (XfsFormatException notProven) {
                    // the target does not prove the headers: cleared, as xfs_repair clears it
                }
            }
            clear.put(ino, e.getValue().getValue());
        }
        if (clear.isEmpty() && rebuilt.isEmpty()) {
            return null; // nothing staged by this walk still broken: nothing to plan
        }
        InodeClearing.Planned p = InodeClearing.plan(ctx, clear, Map.of());
        List<BlockImage> blocks = new ArrayList<>(p.blocks());
        blocks.addAll(rebuilt);
        List<String> all = new ArrayList<>(p.changes());
        all.addAll(changes);
        return new Plan("symlink", blocks, all);
    }
}
