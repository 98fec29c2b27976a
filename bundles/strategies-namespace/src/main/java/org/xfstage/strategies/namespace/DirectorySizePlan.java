package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;

/**
 * The one directory repair made in place: a single-block directory whose only fault is its size, set to the
 * directory block size. Its map proves it (the data fork maps exactly one directory block, which the device checks
 * again: {@code repairInodeCore} with the single-block rule refuses a directory that does not break it), and the
 * inode check reports the same fault, so both strategies plan it; whichever plans second finds it right on the view
 * with the first plan in it and plans nothing for it. Everything else a directory can have wrong is a rebuild
 * ({@link DirectoryRebuildPlan}): this plans nothing for it (null).
 */
final class DirectorySizePlan {
    private static final Set<InodeProblem.Kind> SINGLE_BLOCK = EnumSet.of(InodeProblem.Kind.DIRECTORY_BLOCK_SIZE);

    private DirectorySizePlan() {
    }

    static Plan plan(ScrubContext ctx, List<Finding> findings, String structure, int maxDirectories) throws Exception {
        String size = DirectoryProblem.Kind.SIZE.description() + ": ";
        if (findings.isEmpty() || findings.stream().anyMatch(f -> !f.problem().startsWith(size))) {
            return null; // other damage (or findings not listed): a rebuild
        }
        // the findings say where in words; the tree read again says which inodes (the device's problems carry them)
        Set<Long> directories = new TreeSet<>();
        boolean[] other = {false};
        ctx.device().directoryTree(ctx.progress(), new DirectorySink() {
            @Override
            public void entry(DirectoryEntry entry) {
            }

            @Override
            public void problem(DirectoryProblem p) {
                if (p.kind() == DirectoryProblem.Kind.SIZE && !p.entriesLost() && directories.size() < maxDirectories) {
                    directories.add(p.directory());
                } else {
                    other[0] = true;
                }
            }
        });
        if (other[0] || directories.isEmpty()) {
            return null;
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (long ino : directories) {
            Set<InodeProblem.Kind> now = EnumSet.noneOf(InodeProblem.Kind.class);
            ctx.device().checkInode(ino, p -> now.add(p.kind()));
            if (!now.contains(InodeProblem.Kind.DIRECTORY_BLOCK_SIZE)) {
                // either an earlier plan (the inode strategy's) set it on this view, or the size is wrong some other way
                // (a short-form or multi-block directory's): that one is not proven, so nothing is planned
                boolean[] still = {false};
                ctx.device().directory(ino, new DirectorySink() {
                    @Override
                    public void entry(DirectoryEntry entry) {
                    }

                    @Override
                    public void problem(DirectoryProblem p) {
                        still[0] |= p.kind() == DirectoryProblem.Kind.SIZE;
                    }
                });
                if (still[0]) {
                    return null;
                }
                continue;
            }
            blocks.add(ctx.device().repairInodeCore(ino, SINGLE_BLOCK));
            changes.add("directory inode " + ino + ": size set to one directory block");
        }
        return new Plan(structure, blocks, changes);
    }
}
