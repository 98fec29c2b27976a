package org.xfstage.strategies.namespace;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
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
 * (inode N, cleared: ...)"), and the next rounds of plans drop its entry and free its blocks. A remote block whose
 * only damage is its checksum xfs_repair rewrites ("Correcting CRC, but symlink may be bad"): not planned here, so
 * refused.
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

    /** Every symlink whose target still breaks a rule on the plan's view, cleared; refused for a checksum alone. */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Map<Long, String> clear = new LinkedHashMap<>();
        for (Map.Entry<Long, Map.Entry<Set<Kind>, String>> e : InodeClearing.stillBroken(ctx, InodeProblem.Structure.SYMLINK).entrySet()) {
            Set<Kind> kinds = e.getValue().getKey();
            if (kinds.stream().filter(k -> k.structure() == InodeProblem.Structure.SYMLINK).allMatch(k -> k == Kind.SYMLINK_CRC)) {
                throw new XfsFormatException("inode " + e.getKey() + ": a remote symlink block with a bad checksum only is rewritten by"
                        + " xfs_repair, not cleared; not planned", "symlink");
            }
            clear.put(e.getKey(), e.getValue().getValue());
        }
        if (clear.isEmpty()) {
            return null; // nothing staged by this walk still broken: nothing to plan
        }
        InodeClearing.Planned p = InodeClearing.plan(ctx, clear, Map.of());
        return new Plan("symlink", p.blocks(), p.changes());
    }
}
