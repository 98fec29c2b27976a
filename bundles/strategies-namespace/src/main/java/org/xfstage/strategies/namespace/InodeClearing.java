package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.XfArray;

/**
 * Inodes too broken to trust, cleared as xfs_repair clears them (the device's {@code clearInode}), and attribute forks
 * it cannot read, dropped ({@code dropAttributeFork}); each said with the file's path from the staged tree walk, so
 * that a person knows what was lost: "lost: /a/b (inode 1234, cleared: bad fork offset)".
 * <p>
 * Only the inodes are planned: the next scrub of the view (the engine's re-check, in rounds) finds what the change
 * leaves for the other strategies, each of which plans its own part as xfs_repair's later phases do: the inode
 * btrees' free masks and the AGI and superblock counters (the inode is free now), the blocks it mapped (free space the
 * free-space trees do not list, rmapbt records of no owner), the entries naming it (a directory entry naming a free
 * inode is dropped by the directory rebuild) and link counts.
 * <p>
 * Never cleared: /lost+found itself (the files sent there would have nowhere to go; xfs_repair makes it anew when it
 * is not a directory, this does not), and the root and the realtime and quota inodes (the device refuses them).
 */
final class InodeClearing {
    /** Change lines listed at most; the rest are counted. */
    static final int MAX_CHANGES = 50;

    private InodeClearing() {
    }

    /** What is to be done to one inode and why, in words. */
    record Target(long ino, String why) {
    }

    /** The planned blocks and their change lines. */
    record Planned(List<BlockImage> blocks, List<String> changes) {
    }

    /**
     * Clears every inode of {@code clear}, each for its reason (first reason kept), and drops the attribute fork of
     * every inode of {@code dropAttributes} not cleared.
     *
     * @throws XfsFormatException naming the inode, when it is /lost+found or the device refuses it: nothing is planned
     */
    static Planned plan(ScrubContext ctx, Map<Long, String> clear, Map<Long, String> dropAttributes) throws Exception {
        Map<Long, String> drop = new LinkedHashMap<>(dropAttributes);
        drop.keySet().removeAll(clear.keySet());
        java.util.Set<Long> all = new java.util.LinkedHashSet<>(clear.keySet());
        all.addAll(drop.keySet());
        Map<Long, String> paths = paths(ctx, all);
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (Map.Entry<Long, String> e : clear.entrySet()) {
            long ino = e.getKey();
            String path = paths.get(ino);
            if ("/lost+found".equals(path)) {
                throw new XfsFormatException("inode " + ino + " is /lost+found, which is not cleared (" + e.getValue() + ")", "inode");
            }
            blocks.add(ctx.device().clearInode(ino));
            add(changes, "lost: " + (path == null ? "(no path: no directory names it)" : path) + " (inode " + ino + ", cleared: "
                    + e.getValue() + ")");
        }
        for (Map.Entry<Long, String> e : drop.entrySet()) {
            long ino = e.getKey();
            blocks.add(ctx.device().dropAttributeFork(ino));
            String path = paths.get(ino);
            add(changes, "attributes dropped: " + (path == null ? "" : path + " ") + "(inode " + ino + ": " + e.getValue() + ")");
        }
        if (changes.size() == MAX_CHANGES) {
            changes.add("(and more; " + blocks.size() + " inodes in all)");
        }
        return new Planned(blocks, changes);
    }

    private static void add(List<String> changes, String line) {
        if (changes.size() < MAX_CHANGES) {
            changes.add(line);
        }
    }

    /**
     * The inodes with staged problems of {@code structure} that a verifying read of the inode on the plan's view still
     * finds (a plan before this one may have cleared the inode), each with every kind it breaks there and the first
     * problem's words.
     */
    static Map<Long, Map.Entry<java.util.Set<InodeProblem.Kind>, String>> stillBroken(ScrubContext ctx, InodeProblem.Structure structure)
            throws Exception {
        XfArray staged = ctx.observation(Observation.INODE_PROBLEMS);
        Map<Long, String> first = new LinkedHashMap<>();
        InodeProblemRecord r = new InodeProblemRecord();
        for (long i = r.loadNext(staged, 0); i >= 0; i = r.loadNext(staged, i + 1)) {
            if ((i & 4095) == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("repair cancelled while planning " + structure.structureName());
            }
            if (r.kind().structure() == structure) {
                first.putIfAbsent(r.ino(), r.problem().describe());
            }
        }
        Map<Long, Map.Entry<java.util.Set<InodeProblem.Kind>, String>> out = new LinkedHashMap<>();
        for (Map.Entry<Long, String> e : first.entrySet()) {
            java.util.Set<InodeProblem.Kind> now = java.util.EnumSet.noneOf(InodeProblem.Kind.class);
            ctx.device().checkInode(e.getKey(), p -> now.add(p.kind()));
            if (now.stream().anyMatch(k -> k.structure() == structure)) {
                out.put(e.getKey(), Map.entry(now, e.getValue()));
            }
        }
        return out;
    }

    /** Ends the tree walk once every inode asked for has a path. */
    private static final class AllFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        AllFound() {
            super(null, null, false, false);
        }
    }

    /**
     * The path of each of {@code inodes} that an entry of the directory tree names (the first met), from the device's
     * tree walk: it reads directories only, so a file whose own data does not read (a symlink whose target is
     * damaged, which stops the manifest that {@link InodePaths} walks) still gets its path. A tree damaged further
     * on gives the paths met before.
     */
    static Map<Long, String> paths(ScrubContext ctx, java.util.Set<Long> inodes) throws Exception {
        Map<Long, String> paths = new java.util.HashMap<>();
        if (inodes.isEmpty()) {
            return paths;
        }
        org.xfstage.api.staging.Progress cancelOnly = new org.xfstage.api.staging.Progress() {
            @Override
            public void total(String phase, long units) {
                // the run's progress is the engine's: this walk only listens for cancellation
            }

            @Override
            public void increment(long units) {
            }

            @Override
            public boolean isCancelled() {
                return ctx.progress().isCancelled();
            }
        };
        String[] current = {"/"};
        try {
            ctx.device().directoryTree(cancelOnly, new org.xfstage.api.device.DirectorySink() {
                @Override
                public void directory(long ino, String path) {
                    current[0] = path;
                }

                @Override
                public void entry(org.xfstage.api.device.DirectoryEntry e) {
                    if (!e.isDot() && !e.isDotDot() && inodes.contains(e.child())) {
                        paths.putIfAbsent(e.child(), (current[0].endsWith("/") ? current[0] : current[0] + "/") + e.nameString());
                        if (paths.size() == inodes.size()) {
                            throw new AllFound();
                        }
                    }
                }

                @Override
                public void problem(org.xfstage.api.device.DirectoryProblem problem) {
                    // the directory strategy's to report
                }
            });
        } catch (AllFound done) {
            // every path is known
        } catch (org.xfstage.api.device.XfsException e) {
            // the paths met before the damage are still right
        }
        return paths;
    }
}
