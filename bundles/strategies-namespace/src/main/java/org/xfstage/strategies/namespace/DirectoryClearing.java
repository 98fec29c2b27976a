package org.xfstage.strategies.namespace;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * The inodes cleared before any directory is rebuilt, as xfs_repair clears them in its phase 3, before phase 6 walks
 * the tree: a directory whose format does not go with its size or its extent map ("mismatch between format (2) and size
 * (300) in directory ino N", "bad size/format for directory N", "bad inode format in inode N", each "cleared inode N"),
 * and an inode that does not decode for a rule xfs_repair answers by clearing it (its number, its uuid, a negative
 * size, its type against its format; {@link InodeStrategy#CLEARED}). A rebuild cannot write into the first (which
 * blocks hold what is not known) nor name the second; once they are cleared (this plan, said "lost: /path (inode N,
 * cleared: why)"), the next round's rebuild drops the entries that name them and names a cleared directory's files in
 * lost+found, and the other strategies give back the blocks and the inodes.
 * <p>
 * Better than xfs_repair where the blocks prove it: a directory whose extent map ends where a directory form ends and
 * which reads whole without a fault once its size is what its blocks make it gets that size
 * ({@code directorySizeFromBlocks}; the kernel tells the form from the map, not the size), and keeps its files.
 * <p>
 * Not cleared here: the root (the device never clears it; the rebuild refuses it as before) and /lost+found
 * ({@link InodeClearing}).
 */
final class DirectoryClearing {
    /** The rules of an undecodable inode that clear it. */
    private static final Set<Kind> CLEARED = EnumSet.copyOf(InodeStrategy.UNDECODABLE);

    static {
        CLEARED.retainAll(InodeStrategy.CLEARED);
    }

    private static final int CANCEL_CHECK = 65_536;

    private DirectoryClearing() {
    }

    /** The plan that clears them, or null when there is none to clear (the rebuild plans then). */
    static Plan plan(ScrubContext ctx, String structure) throws Exception {
        return plan(ctx, structure, null);
    }

    /**
     * The plan that clears them, the directories of bad format being {@code told} (each with why, in walk order, as
     * {@link #toldOfBadFormat} keeps them: the directory rebuild's pass over the walk collects them for this, so that
     * the walk is read once), or read from the walk here when null.
     */
    static Plan plan(ScrubContext ctx, String structure, Map<Long, String> told) throws Exception {
        Map<Long, String> badFormat = new LinkedHashMap<>();
        if (told == null) {
            directoriesOfBadFormat(ctx, badFormat);
        } else {
            for (Map.Entry<Long, String> e : told.entrySet()) {
                if (!free(ctx, e.getKey())) {
                    badFormat.put(e.getKey(), e.getValue());
                }
            }
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Map<Long, String> clear = new LinkedHashMap<>();
        Map<Long, String> paths = badFormat.isEmpty() ? Map.of() : InodeClearing.paths(ctx, badFormat.keySet());
        for (Map.Entry<Long, String> e : badFormat.entrySet()) {
            long ino = e.getKey();
            try {
                // better than xfs_repair where the blocks prove it: a size that is the only fault is set, the files kept
                blocks.add(ctx.device().directorySizeFromBlocks(ino));
                if (changes.size() < InodeClearing.MAX_CHANGES) {
                    String path = paths.get(ino);
                    changes.add("directory " + (path == null ? "" : path + " ") + "(inode " + ino + "): size set to what its blocks make it ("
                            + e.getValue() + "; xfs_repair clears the directory)");
                }
            } catch (XfsFormatException notProven) {
                clear.put(ino, e.getValue());
            }
        }
        undecodable(ctx, clear);
        if (blocks.isEmpty() && clear.isEmpty()) {
            return null;
        }
        if (!clear.isEmpty()) {
            InodeClearing.Planned p = InodeClearing.plan(ctx, clear, Map.of());
            blocks.addAll(p.blocks());
            changes.addAll(0, p.changes()); // the lost files first: they are what a person must know of
        }
        return new Plan(structure, blocks, changes);
    }

    /**
     * The directories (other than the root) the walk found of a format their inode does not hold: a problem of the
     * whole directory (no block), which loses what the directory's blocks are.
     */
    private static void directoriesOfBadFormat(ScrubContext ctx, Map<Long, String> clear) throws Exception {
        XfArray walked = ctx.observation(Observation.DIRECTORY_WALK);
        XfBlob told = ctx.observationBlob(Observation.DIRECTORY_WALK);
        if (walked == null || told == null) {
            return;
        }
        DirectoryWalkRecord r = new DirectoryWalkRecord();
        long root = -1;
        long seq = 0;
        for (long i = r.loadNext(walked, 0); i >= 0; i = r.loadNext(walked, i + 1)) {
            if (++seq % CANCEL_CHECK == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("repair cancelled while planning directories");
            }
            if (r.kind() == DirectoryWalkRecord.Kind.DIRECTORY && root < 0) {
                root = r.dir(); // the walk starts at the root
            }
            if (r.kind() != DirectoryWalkRecord.Kind.PROBLEM) {
                continue;
            }
            DirectoryProblem p = r.problem(new String(told.load(r.cookie()), StandardCharsets.UTF_8));
            if (p.kind() == DirectoryProblem.Kind.FORMAT && p.block() < 0 && p.directory() != root && !free(ctx, p.directory())) {
                clear.putIfAbsent(p.directory(), p.kind().description() + ": " + p.detail());
            }
        }
    }

    /**
     * Keeps walk record {@code r} (a problem) in {@code out} when it is one of a directory of bad format (the rule of
     * {@link #directoriesOfBadFormat}, but whether the inode is free now: {@link #plan} asks), the first of each.
     */
    static void toldOfBadFormat(DirectoryWalkRecord r, long root, XfBlob told, Map<Long, String> out) throws Exception {
        DirectoryProblem p = r.problem("");
        if (p.kind() == DirectoryProblem.Kind.FORMAT && p.block() < 0 && p.directory() != root && !out.containsKey(p.directory())) {
            out.put(p.directory(), p.kind().description() + ": " + new String(told.load(r.cookie()), StandardCharsets.UTF_8));
        }
    }

    /** Whether inode {@code ino} is free on the plan's view (an earlier plan cleared it). */
    private static boolean free(ScrubContext ctx, long ino) throws Exception {
        try {
            return !ctx.device().checkInode(ino, p -> { });
        } catch (XfsFormatException undecodable) {
            return false;
        }
    }

    /** The inodes the walk could not decode for a rule that clears them, still so on the plan's view. */
    private static void undecodable(ScrubContext ctx, Map<Long, String> clear) throws Exception {
        XfArray staged = ctx.observation(Observation.INODE_PROBLEMS);
        if (staged == null) {
            return;
        }
        InodeProblemRecord r = new InodeProblemRecord();
        Map<Long, InodeProblem> first = new LinkedHashMap<>();
        for (long i = r.loadNext(staged, 0); i >= 0; i = r.loadNext(staged, i + 1)) {
            if ((i & 4095) == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("repair cancelled while planning directories");
            }
            if (CLEARED.contains(r.kind())) {
                first.putIfAbsent(r.ino(), r.problem());
            }
        }
        for (Map.Entry<Long, InodeProblem> e : first.entrySet()) {
            Set<Kind> now = InodeStrategy.brokenNow(ctx, e.getKey());
            if (now == null || now.contains(e.getValue().kind())) {
                clear.putIfAbsent(e.getKey(), e.getValue().describe());
            }
        }
    }
}
