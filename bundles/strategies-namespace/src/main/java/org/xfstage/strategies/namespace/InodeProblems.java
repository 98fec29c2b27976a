package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.XfArray;

/**
 * The problems the device found in the inodes while the walk read them (staged as
 * {@link Observation#INODE_PROBLEMS}), those of one structure reported as findings: where ("inode N", with its
 * path when the tree leads to it), what in words, and the value expected when the rule names one. A trashed
 * filesystem could have a problem in every inode: after {@link #MAX_FINDINGS} the rest are counted, not listed.
 */
final class InodeProblems {
    static final int MAX_FINDINGS = 50;

    private InodeProblems() {
    }

    /** A staged problem with the AG of its inode. */
    record Staged(InodeProblem problem, int agno) {
    }

    /** The staged problems of {@code structure}, the first {@link #MAX_FINDINGS}; the count of the rest goes to {@code more}. */
    static List<Staged> of(ScrubContext ctx, InodeProblem.Structure structure, long[] more) throws Exception {
        XfArray staged = ctx.observation(Observation.INODE_PROBLEMS);
        List<Staged> out = new ArrayList<>();
        InodeProblemRecord r = new InodeProblemRecord();
        for (long i = r.loadNext(staged, 0); i >= 0; i = r.loadNext(staged, i + 1)) {
            if ((i & 4095) == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("scrub cancelled while reporting " + structure.structureName() + " problems");
            }
            if (r.kind().structure() != structure || InodeStrategy.UNDECODABLE.contains(r.kind())) {
                continue; // another structure's; or why an inode did not decode, which the walk's finding says
            }
            if (out.size() < MAX_FINDINGS) {
                out.add(new Staged(r.problem(), r.agno()));
            } else {
                more[0]++;
            }
        }
        return out;
    }

    /** Reports the staged problems of {@code structure} as findings. */
    static void report(ScrubContext ctx, InodeProblem.Structure structure, Consumer<Finding> findings) throws Exception {
        long[] more = {0};
        List<Staged> problems = of(ctx, structure, more);
        Set<Long> inodes = new LinkedHashSet<>();
        problems.forEach(s -> inodes.add(s.problem().ino()));
        Map<Long, String> paths = InodePaths.of(ctx, inodes);
        String name = structure.structureName();
        for (Staged s : problems) {
            InodeProblem p = s.problem();
            findings.accept(new Finding(name, s.agno(), InodePaths.location(p.ino(), paths), p.describe(),
                    p.expected() < 0 ? null : String.valueOf(p.expected())));
        }
        if (more[0] > 0) {
            findings.accept(new Finding(name, -1, "inodes", more[0] + " more " + name + " problems", null));
        }
    }
}
