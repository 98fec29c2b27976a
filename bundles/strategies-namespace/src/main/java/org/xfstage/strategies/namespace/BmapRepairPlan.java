package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FileExtent;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.SalvagedFork;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.XfArray;

/**
 * The repair of extent maps that keeps the file (xfs_repair clears the inode, and the file with it): each fork that
 * breaks a rule, or maps blocks another owner proves its own, is written anew with what can still be read of it.
 * <p>
 * What is kept: the device salvages the fork ({@code salvageFork}): records of length zero, past the largest offset,
 * across an AG or outside the filesystem go, and so do the records below a bmbt block that is not this inode's; the
 * rest are sorted by file offset and a record that overlaps one before it goes; an unwritten flag where none may be
 * is cleared (the blocks hold what was written). Then the space map decides who keeps a block two owners claim, from
 * the conflicts the check reports ({@link BmapStrategy#conflicts}): static metadata, a btree or an inode chunk always
 * keeps it (a file's record pointing there is the damage: the file's extent goes). Between two files, the file whose
 * map breaks a rule loses it (its record is the one proven damaged); when both or neither do, nothing proves either
 * right and both lose it, as xfs_repair clears both inodes. An extent that loses a block is dropped whole; a bmbt
 * block that loses one is not reused.
 * <p>
 * What is written: the kept extents in the inode when they fit, else a bmbt bulk-loaded into the fork's old readable
 * bmbt blocks (as many as it needs; the rest are left to free space) and, when it needs more, blocks from
 * {@link ScrubContext#allocate} in the AG of the old ones (or of the inode's first extent). The inode keeps its size:
 * a dropped range of a regular file reads as a hole. Free space, the rmapbt, the refcountbt and the counters follow in
 * the engine's next rounds, on a view with this plan in it; a directory that lost blocks is rebuilt there from what
 * it still holds, by the directory strategy. The inode's own findings (its counts) are covered: the device sets them.
 */
final class BmapRepairPlan {
    /** Inodes one plan rewrites at most: a trashed filesystem is not repaired file by file in memory. */
    static final int MAX_INODES = 10_000;
    /** Conflicts between owners one plan decides at most, for the same reason. */
    static final int MAX_CONFLICTS = 100_000;
    private static final int MAX_CHANGES = 50;

    private final ScrubContext ctx;
    /** Inode to the forks (0 data, 1 attribute) whose maps break a rule, and its AG. */
    private final Map<Long, boolean[]> damaged = new TreeMap<>();
    private final Map<Long, Integer> agOf = new HashMap<>();
    /** Unwritten flags the salvage clears, per inode, for the plan's words: {fork, record, file block}. */
    private final Map<Long, List<long[]>> unwritten = new HashMap<>();
    /** Inode to the blocks it loses to another owner: the conflicts it is the losing side of. */
    private final Map<Long, List<Lost>> lost = new TreeMap<>();
    /** Extents the rmapbt proves the inodes' own, by inode (empty without an rmapbt). */
    private Map<Long, List<RmapSalvage.Proven>> rmap = Map.of();
    private final List<String> changes = new ArrayList<>();
    private long changesLeft;

    /** AG blocks an inode loses, and to whom (in words). */
    private record Lost(int agno, long agbno, long length, String to) {
    }

    private BmapRepairPlan(ScrubContext ctx) {
        this.ctx = ctx;
    }

    static Plan plan(ScrubContext ctx) throws Exception {
        return new BmapRepairPlan(ctx).make();
    }

    private Plan make() throws Exception {
        readProblems();
        readConflicts();
        Set<Long> inodes = new TreeSet<>(damaged.keySet());
        inodes.addAll(lost.keySet());
        if (inodes.isEmpty()) {
            return null; // the findings were not staged by this walk: nothing to salvage from
        }
        if (inodes.size() > MAX_INODES) {
            throw new XfsFormatException(inodes.size() + " inodes have damaged extent maps, more than one repair rewrites ("
                    + MAX_INODES + ")", "bmap");
        }
        Map<Long, String> paths = InodePaths.of(ctx, inodes);
        rmap = RmapSalvage.of(ctx, inodes);
        List<BlockImage> blocks = new ArrayList<>();
        Set<Coverage> covers = new java.util.HashSet<>();
        for (long ino : inodes) {
            if (ctx.progress().isCancelled()) {
                throw new CancelledException("repair cancelled while planning extent maps");
            }
            String where = InodePaths.location(ino, paths);
            boolean[] forks = damaged.getOrDefault(ino, new boolean[2]);
            List<BlockImage> mine = new ArrayList<>();
            for (int fork = 0; fork < 2; fork++) {
                // the second fork is rewritten on a view with the first: both change the inode
                XfsDevice d = mine.isEmpty() ? ctx.device() : ctx.device().withPlanned(mine);
                List<BlockImage> got = rewrite(d, ino, fork == 1, forks[fork], where);
                mine.addAll(got);
            }
            blocks.addAll(mine);
            Integer agno = agOf.get(ino);
            if (agno != null) {
                covers.add(new Coverage("inode", agno)); // its counts are set by the rewrite
            }
            if (!mine.isEmpty() && ctx.device().fileType(ino) == org.xfstage.api.device.FileType.DIRECTORY) {
                // the directory check read the old map: what it found (a block that cannot be read) is gone once the
                // map is rewritten, and what the directory lost is found by the next round's walk of the view, where
                // the directory strategy rebuilds it from what is left (its findings name no AG)
                covers.add(new Coverage("directory", -1));
            }
            for (Lost l : lost.getOrDefault(ino, List.of())) {
                // the refcountbt sees the blocks this inode gives up as shared by files without the reflink flag, and
                // refuses to rebuild over that: once they are given up, the next round's scrub says what is left
                covers.add(new Coverage("refcountbt", l.agno()));
            }
        }
        if (blocks.isEmpty()) {
            return null;
        }
        if (changesLeft > 0) {
            changes.add("(and " + changesLeft + " more)");
        }
        return new Plan("bmap", blocks, changes, covers);
    }

    /** The inodes whose extent maps break a rule (every staged problem is read, not only the reported ones). */
    private void readProblems() throws Exception {
        XfArray staged = ctx.observation(Observation.INODE_PROBLEMS);
        InodeProblemRecord r = new InodeProblemRecord();
        for (long i = r.loadNext(staged, 0); i >= 0; i = r.loadNext(staged, i + 1)) {
            if ((i & 4095) == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("repair cancelled while reading the extent map problems");
            }
            Kind k = r.kind();
            if (k.structure() != InodeProblem.Structure.BMAP && k != Kind.TOO_MANY_EXTENTS) {
                continue;
            }
            InodeProblem p = r.problem();
            if (!damaged.containsKey(p.ino()) && damaged.size() > MAX_INODES) {
                throw new XfsFormatException("more than " + MAX_INODES + " inodes have damaged extent maps", "bmap");
            }
            damaged.computeIfAbsent(p.ino(), x -> new boolean[2])[p.attrFork() ? 1 : 0] = true;
            agOf.put(p.ino(), r.agno());
            if (k == Kind.EXTENT_UNWRITTEN) {
                unwritten.computeIfAbsent(p.ino(), x -> new ArrayList<>()).add(new long[] {p.attrFork() ? 1 : 0, p.at(), p.found()});
            }
        }
    }

    /** Who loses each block two owners claim, as the class comment says. */
    private void readConflicts() throws Exception {
        long[] more = {0};
        List<BmapStrategy.Conflict> conflicts = BmapStrategy.conflicts(ctx, MAX_CONFLICTS, more);
        if (more[0] > 0) {
            throw new XfsFormatException("more than " + MAX_CONFLICTS + " block ranges are claimed by a file and another owner", "bmap");
        }
        for (BmapStrategy.Conflict c : conflicts) {
            boolean fileAgainstFile = c.otherUse().isFile();
            boolean ownerDamaged = damaged.containsKey(c.owner());
            boolean otherDamaged = fileAgainstFile && damaged.containsKey(c.other());
            if (!fileAgainstFile || ownerDamaged || !otherDamaged) {
                lose(c.owner(), c.agno(), c.agbno(), c.length(), c.otherUse().describe(c.other()));
            }
            if (fileAgainstFile && (otherDamaged || !ownerDamaged)) {
                lose(c.other(), c.agno(), c.agbno(), c.length(), c.use().describe(c.owner()));
            }
        }
    }

    private void lose(long ino, int agno, long agbno, long length, String to) {
        lost.computeIfAbsent(ino, x -> new ArrayList<>()).add(new Lost(agno, agbno, length, to));
    }

    private void say(String line) {
        if (changes.size() < MAX_CHANGES) {
            changes.add(line);
        } else {
            changesLeft++;
        }
    }

    /**
     * One fork salvaged, less what it loses to other owners, and written anew; nothing when it breaks no rule and
     * loses nothing.
     */
    private List<BlockImage> rewrite(XfsDevice d, long ino, boolean attr, boolean broken, String where) throws Exception {
        SalvagedFork s = d.salvageFork(ino, attr);
        List<Lost> losing = lost.getOrDefault(ino, List.of());
        String what = attr ? "attributes" : "data";
        List<FileExtent> kept = new ArrayList<>();
        List<FileExtent> taken = new ArrayList<>(); // kept extents whose blocks another owner keeps
        List<Lost> takenBy = new ArrayList<>();
        for (FileExtent e : s.extents()) {
            Lost to = losing.stream().filter(l -> e.meets(l.agno(), l.agbno(), l.length())).findFirst().orElse(null);
            if (to == null) {
                kept.add(e);
            } else {
                taken.add(e);
                takenBy.add(to);
            }
        }
        if (!broken && taken.isEmpty()) {
            return List.of();
        }
        List<FileExtent> recovered = recover(d, ino, attr, kept, losing);
        List<String> dropped = new ArrayList<>();
        long droppedBlocks = 0;
        for (int i = 0; i < taken.size(); i++) {
            FileExtent e = taken.get(i);
            dropped.add(where + ": " + fork(attr) + "extent at file block " + e.offset() + " dropped (its blocks " + e.agbno() + "+"
                    + e.length() + " of AG " + e.agno() + " are also used by " + takenBy.get(i).to() + "): "
                    + outcome(e.offset(), e.length(), e.agno(), e.agbno(), recovered, what));
            droppedBlocks += e.length();
        }
        for (SalvagedFork.Dropped x : s.dropped()) {
            dropped.add(x.record() < 0 ? where + ": " + fork(attr) + x.reason()
                    : where + ": " + fork(attr) + "extent " + x.record() + " at file block " + x.offset() + " dropped (" + x.reason() + "): "
                            + outcome(x.offset(), x.length(), x.agno(), x.agbno(), recovered, what));
            droppedBlocks += x.length();
        }
        for (long[] u : unwritten.getOrDefault(ino, List.of())) {
            if ((u[0] == 1) == attr) {
                dropped.add(where + ": " + fork(attr) + "extent " + u[1] + " at file block " + u[2]
                        + ": unwritten flag cleared (only a regular file's data may be unwritten), its blocks kept");
            }
        }
        for (FileExtent e : recovered) {
            dropped.add(where + ": " + fork(attr) + "extent at file block " + e.offset() + " recovered from the rmapbt (blocks "
                    + e.agbno() + "+" + e.length() + " of AG " + e.agno() + ", used by no other owner and not free)");
        }
        long recoveredBlocks = recovered.stream().mapToLong(FileExtent::length).sum();
        // the old bmbt blocks are reused, but not one another owner keeps
        List<SalvagedFork.AgBlock> old = new ArrayList<>();
        for (SalvagedFork.AgBlock b : s.bmbtBlocks()) {
            if (losing.stream().noneMatch(l -> l.agno() == b.agno() && b.agbno() >= l.agbno() && b.agbno() < l.agbno() + l.length())) {
                old.add(b);
            }
        }
        int need = d.forkBlocksNeeded(ino, attr, kept.size());
        List<SalvagedFork.AgBlock> tree = new ArrayList<>(old.subList(0, Math.min(need, old.size())));
        if (need > tree.size()) {
            int agno = !old.isEmpty() ? old.get(0).agno() : !kept.isEmpty() ? kept.get(0).agno() : agOf.getOrDefault(ino, 0);
            List<FreeExtent> got = ctx.allocate(agno, need - tree.size());
            if (got == null) {
                throw new XfsFormatException(where + ": AG " + agno + " cannot give the " + (need - tree.size())
                        + " blocks the rewritten bmbt needs", "bmap");
            }
            for (FreeExtent e : got) {
                for (long b = e.start(); b < e.end() && tree.size() < need; b++) {
                    tree.add(new SalvagedFork.AgBlock(agno, b));
                }
            }
        }
        List<BlockImage> out = d.rewriteFork(ino, attr, kept, tree);
        dropped.forEach(this::say);
        say(where + ": " + (attr ? "attribute fork" : "data fork") + " rewritten with " + kept.size() + " extents"
                + (need == 0 ? " in the inode" : " in a bmbt of " + need + " blocks") + (droppedBlocks > 0 ? ", " + droppedBlocks
                        + " blocks of " + what + " dropped" : "") + (s.lostRecords() ? ", and the records of unreadable bmbt blocks" : "")
                + (recoveredBlocks > 0 ? "; " + recoveredBlocks + " blocks recovered from the rmapbt" : ""));
        return out;
    }

    /**
     * Adds to {@code kept} (then sorted by file offset) the extents of this fork that the rmapbt proves the inode's own
     * ({@link RmapSalvage}) and that the fork no longer gives: none overlapping a kept extent in the file or on disk,
     * nor blocks another owner keeps; longer ones split as one record may hold; an unwritten flag only where it may
     * be. Returns the extents added.
     */
    private List<FileExtent> recover(XfsDevice d, long ino, boolean attr, List<FileExtent> kept, List<Lost> losing) throws Exception {
        List<RmapSalvage.Proven> proven = rmap.getOrDefault(ino, List.of());
        if (proven.isEmpty()) {
            return List.of();
        }
        boolean mayBeUnwritten = !attr && d.fileType(ino) == org.xfstage.api.device.FileType.FILE;
        long max = d.maxExtentLength();
        // what is kept, by file offset and by place on disk, for lookups (a fork may hold many extents, and the rmapbt
        // lists each of them again): none of these overlaps another in the file, nor (checked below) on disk
        java.util.TreeMap<Long, FileExtent> inFile = new java.util.TreeMap<>();
        java.util.TreeSet<FileExtent> onDisk = new java.util.TreeSet<>(
                java.util.Comparator.comparingInt(FileExtent::agno).thenComparingLong(FileExtent::agbno));
        for (FileExtent k : kept) {
            inFile.put(k.offset(), k);
            onDisk.add(k);
        }
        List<FileExtent> added = new ArrayList<>();
        for (RmapSalvage.Proven p : proven) {
            FileExtent e = p.extent();
            if (p.attrFork() != attr) {
                continue;
            }
            java.util.Map.Entry<Long, FileExtent> before = inFile.floorEntry(e.offset());
            java.util.Map.Entry<Long, FileExtent> after = inFile.higherEntry(e.offset());
            FileExtent below = onDisk.floor(e);
            FileExtent above = onDisk.higher(e);
            boolean clash = (before != null && before.getValue().end() > e.offset()) || (after != null && after.getKey() < e.end())
                    || (below != null && below.meets(e.agno(), e.agbno(), e.length()))
                    || (above != null && above.meets(e.agno(), e.agbno(), e.length()))
                    || losing.stream().anyMatch(l -> e.meets(l.agno(), l.agbno(), l.length()));
            if (clash) {
                continue;
            }
            inFile.put(e.offset(), e);
            onDisk.add(e);
            for (long at = 0; at < e.length(); at += max) {
                long n = Math.min(max, e.length() - at);
                added.add(new FileExtent(e.offset() + at, e.agno(), e.agbno() + at, n, e.unwritten() && mayBeUnwritten));
            }
        }
        if (!added.isEmpty()) {
            kept.addAll(added);
            kept.sort(java.util.Comparator.comparingLong(FileExtent::offset));
        }
        return added;
    }

    /**
     * What became of a dropped record's blocks: lost, or found again in the rmapbt, at its file blocks (a record whose
     * start block was damaged) or at its disk blocks (one whose offset was).
     */
    private static String outcome(long offset, long length, int agno, long agbno, List<FileExtent> recovered, String what) {
        long inFile = 0;
        long onDisk = 0;
        for (FileExtent r : recovered) {
            inFile += Math.max(0, Math.min(offset + length, r.end()) - Math.max(offset, r.offset()));
            if (r.agno() == agno) {
                onDisk += Math.max(0, Math.min(agbno + length, r.agbno() + r.length()) - Math.max(agbno, r.agbno()));
            }
        }
        long back = Math.max(inFile, onDisk);
        return back == 0 ? length + " blocks of " + what + " lost"
                : back >= length ? "its " + length + " blocks found again in the rmapbt"
                : (length - back) + " of its " + length + " blocks of " + what + " lost, the rest found again in the rmapbt";
    }

    private static String fork(boolean attr) {
        return attr ? "attribute fork " : "";
    }
}
