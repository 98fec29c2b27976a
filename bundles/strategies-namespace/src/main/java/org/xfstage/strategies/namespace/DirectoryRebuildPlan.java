package org.xfstage.strategies.namespace;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.device.SalvagedEntry;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.UncheckedStagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * The directory rebuild: every directory whose entries or indexes are damaged is written anew by the device
 * ({@code rebuildDirectory}) from the entries the engine's tree walk salvaged (Observation.DIRECTORY_WALK), as the
 * kernel's online repair salvages them (xrep_dir_salvage_entry): names cut at the first NUL or '/', the file type taken
 * from the named inode's mode, entries naming an inode that is free, that no chunk holds, the directory itself or
 * the root dropped, a name held twice kept once (the first read), "." made anew and ".." set to the directory that names
 * it. Names stay in the walk's xfblob (a cut name goes to this plan's own); entries are staged as fixed records in an
 * xfarray, sorted by directory and name to find the names held twice, then by directory and the order they were read
 * in, so that each directory keeps its order (readdir, and the manifest, list the same files in the same order).
 * <p>
 * Dropping an entry changes link counts: the inode it named loses a link, and a directory its parent's ".." link. The
 * same plan sets every link count the tree will show (the nlinks check's rule on the walk's link counts, less what was
 * dropped), so it covers the nlinks findings: the nlinks strategy, planning afterwards from the walk's counts, would set
 * the counts the tree had before. A directory named by two directories keeps the name its ".." names (else the one in
 * the lowest-numbered directory, the first xfs_repair's phase 6 reaches); the other names are dropped.
 * <p>
 * A directory whose entries outgrow the blocks it maps (a lost+found past short form, a rebuild whose entries need
 * more data or hash index blocks) grows into blocks from the engine's allocation ({@code ScrubContext.allocate}, handed
 * to the device's {@code rebuildDirectory} and {@code newDirectory}); the free-space btrees, the AGF and superblock
 * counters and the rmapbt those blocks make wrong are the next round's findings, planned by their strategies.
 * <p>
 * A file no directory names (disconnected before, or once its entries are dropped) is named in the root's existing
 * lost+found by its inode number, as xfs_repair names it, by the same rebuild (lost+found is rebuilt with its own
 * entries and these), with one link. A disconnected directory moves whole: read by the device (the walk never reached
 * it), named in lost+found, rebuilt with its own entries and ".." set to lost+found, which gains a link; what it holds
 * stays below it. A filesystem without lost+found gets one as xfs_repair makes it (mk_orphanage): a free inode of an
 * existing chunk (the inode map's, the root's AG first) made a short-form directory by the device ({@code newDirectory})
 * (or, for more than fit the inode, a directory of blocks) holding the disconnected files, named "lost+found" in the root (rebuilt with that entry), whose link count gains one.
 * The inode btrees' free masks, the AGI's free count and the superblock's inode counters the new inode makes wrong are
 * the inode strategies' findings on the re-check's view, planned in the engine's next round. Refused, naming the
 * first: no free inode in any inode chunk (allocating a chunk is not done here), a root that names something else
 * "lost+found", a directory that would need blocks no AG gives, a bmbt, or a second level of hash index nodes, a
 * directory left unnamed by the drops (its subtree was walked; not moved), disconnected directories that are damaged or
 * only name each other, a directory named twice in one directory, an inode in use that cannot be read, damage that loses the
 * directory's blocks (format, unreadable).
 */
final class DirectoryRebuildPlan {
    /** Directories rebuilt by one plan at most (each is a heap entry here and a read-back by the device). */
    static final int MAX_DIRECTORIES = 10_000;
    private static final int CANCEL_CHECK = 65_536;
    /** Changes listed in the plan's description at most (the rest are counted). */
    private static final int CHANGES = 50;
    /** Inodes named by no entry that are not disconnected at most: the root and the metadata inodes the superblock names. */
    private static final int NAMED_BY_NONE = 7;
    /**
     * Inodes in use that no entry names, in inode order (linkCounts' pass; {@link #disconnected} reads them): the
     * first {@link #MAX_ORPHANS} + {@link #NAMED_BY_NONE} + 1 at most, all the disconnected pass can read before it refuses.
     */
    private final List<Long> unnamedInUse = new ArrayList<>();
    /** Where disconnected files go, as xfs_repair and the kernel name it. */
    private static final byte[] LOST_FOUND = "lost+found".getBytes(StandardCharsets.US_ASCII);
    /** Disconnected files named in lost+found by one plan at most. */
    static final int MAX_ORPHANS = 1_000;
    /** Suffixes tried after a disconnected file's number when lost+found holds that name (xfs_repair: ".%d"). */
    private static final int MAX_SUFFIX = 10;
    /** The problems that lose what a rebuild writes into: the blocks themselves, or which form they are. */
    private static final Set<DirectoryProblem.Kind> REFUSED = Set.of(DirectoryProblem.Kind.UNREADABLE, DirectoryProblem.Kind.FORMAT);

    private final ScrubContext ctx;
    private final XfArray walked;
    private final XfBlob told;
    /** Whether the walk is read by directory (names only where the rebuild needs them), else replayed whole. */
    private final boolean byDirectory;
    /** Whether entries record their file type (the rebuild sets a wrong one). */
    private final boolean typed;
    /** The first refusal of the pass by directory, said after the walk's directories of bad format are asked about. */
    private XfsFormatException refused;
    /** The directories of bad format the walk told (DirectoryClearing's, collected by the pass by directory). */
    private final Map<Long, String> badFormat = new LinkedHashMap<>();
    /** The directories whose records were read again, names and all, by the pass by directory (bounded: see there). */
    private final Set<Long> replayed = new java.util.HashSet<>();
    private final Set<Long> damaged = new TreeSet<>();
    private final List<String> changes = new ArrayList<>();
    /** Files no directory names, or none will once their entries are dropped, with their types: for lost+found. */
    private final Map<Long, FileType> orphans = new TreeMap<>();
    private long root = -1;
    /** The root's lost+found directory, or -1. */
    private long lostFound = -1;
    /** lost+found's link count on disk and as the tree will show it before anything is moved into it. */
    private long[] lostFoundNlink;
    /** The root's link count on disk and as the tree will show it (a new lost+found adds one). */
    private long[] rootNlink;
    /** Whether the root keeps an entry named "lost+found" (of any type): a new one would be a name held twice. */
    private boolean rootNamesLostFound;
    /** The inode made lost+found by this plan, or -1 when it exists already or none is needed. */
    private long newLostFound = -1;
    /** Per directory, the directories named twice whose entry in it is dropped (see {@link #parents}). */
    private final Map<Long, Set<Long>> namedTwiceDrops = new TreeMap<>();
    /** Disconnected directories moved into lost+found, with their own entries (read here: the walk never reached them). */
    private final Map<Long, List<SalvagedEntry>> movedDirectories = new TreeMap<>();
    /** The directories this plan may rebuild: only their entries are sorted. */
    private final RebuiltDirectories rebuilt = new RebuiltDirectories();

    private DirectoryRebuildPlan(ScrubContext ctx, XfArray walked, XfBlob told, boolean byDirectory) {
        this.ctx = ctx;
        this.walked = walked;
        this.told = told;
        this.byDirectory = byDirectory;
        this.typed = ctx.info().has(org.xfstage.api.device.Feature.FTYPE);
    }

    /**
     * The pass by directory met a walk it cannot read that way (a record of another directory than the one being told,
     * or more directories to read again than it holds): the plan is made again from the whole walk, as before.
     */
    private static final class NotByDirectory extends Exception {
        private static final long serialVersionUID = 1L;

        NotByDirectory() {
            super(null, null, false, false);
        }
    }

    /**
     * The plan, or null when there is no staged walk to salvage from.
     *
     * @throws XfsFormatException naming the first thing that is not rebuilt
     */
    static Plan plan(ScrubContext ctx, String structure) throws Exception {
        return plan(ctx, structure, badFormat -> null);
    }

    /**
     * What the directory strategy plans before a rebuild, in its place (the inodes cleared, a size set), or null for
     * the rebuild; given the directories of bad format the walk told (DirectoryClearing), or null to read them itself.
     */
    interface Before {
        Plan plan(Map<Long, String> badFormat) throws Exception;
    }

    /**
     * {@code before}'s plan when it has one, else the rebuild's: {@code before} is asked once the walk has been read
     * (the directories of bad format are collected as it is), before anything this plan refuses is said.
     */
    static Plan plan(ScrubContext ctx, String structure, Before before) throws Exception {
        XfArray walked = ctx.observation(Observation.DIRECTORY_WALK);
        XfBlob told = ctx.observationBlob(Observation.DIRECTORY_WALK);
        if (walked == null || told == null || ctx.observation(Observation.LINK_COUNTS) == null
                || ctx.observation(Observation.INODE_MAP) == null) {
            return before.plan(null);
        }
        return plan(ctx, walked, told, structure, true, before);
    }

    /**
     * The plan read by directory ({@code byDirectory}; see {@link #salvageByDirectory}), or from the whole walk replayed
     * (what the pass by directory falls back to; tests compare the two).
     */
    static Plan plan(ScrubContext ctx, XfArray walked, XfBlob told, String structure, boolean byDirectory) throws Exception {
        return plan(ctx, walked, told, structure, byDirectory, badFormat -> null);
    }

    private static Plan plan(ScrubContext ctx, XfArray walked, XfBlob told, String structure, boolean byDirectory, Before before)
            throws Exception {
        boolean[] none = {false}; // before answered null: not asked again by the fallback
        Before once = badFormat -> {
            if (none[0]) {
                return null;
            }
            Plan p = before.plan(badFormat);
            none[0] = p == null;
            return p;
        };
        if (byDirectory) {
            try {
                return new DirectoryRebuildPlan(ctx, walked, told, true).make(structure, once);
            } catch (NotByDirectory e) {
                // made again below: nothing was written or allocated (both come after every point that throws this)
            }
        }
        try {
            return new DirectoryRebuildPlan(ctx, walked, told, false).make(structure, once);
        } catch (NotByDirectory e) {
            throw new IllegalStateException("the whole walk's replay never reads by directory", e);
        }
    }

    /**
     * One salvaged entry (a reusable flyweight): directory + 1, name key (0 once the names held twice are gone, so that
     * the same order then sorts by reading order), the order it was read in, the cookie of its name (the top bit set
     * when the name is in this plan's own blob), the inode it names, and that inode's type + 1 (0: unknown).
     */
    private static final class Salvaged {
        static final int SIZE = 48;
        static final RecordComparator ORDER = RecordComparator.unsignedLongs(3);
        private static final long OWN = Long.MIN_VALUE;
        private static final FileType[] TYPES = FileType.values();
        // fields, big-endian, in this order: the first three are the sort key
        private static final int DIR = 0;
        private static final int NAME_KEY = 8;
        private static final int SEQ = 16;
        private static final int COOKIE = 24;
        private static final int CHILD = 32;
        private static final int TYPE = 40;
        final ByteBuffer buf = ByteBuffer.allocate(SIZE);

        Salvaged set(long dir, long nameKey, long seq, long cookie, long child, FileType type) {
            buf.clear();
            buf.putLong(dir + 1).putLong(nameKey).putLong(seq).putLong(cookie).putLong(child)
                    .putLong(type == null ? 0 : type.ordinal() + 1).flip();
            return this;
        }

        long dir() {
            return buf.getLong(DIR) - 1;
        }

        long nameKey() {
            return buf.getLong(NAME_KEY);
        }

        long seq() {
            return buf.getLong(SEQ);
        }

        long cookie() {
            return buf.getLong(COOKIE);
        }

        long child() {
            return buf.getLong(CHILD);
        }

        FileType type() {
            long t = buf.getLong(TYPE);
            return t == 0 ? null : TYPES[(int) t - 1];
        }

        void appendTo(XfArray a) throws StagingException {
            buf.rewind();
            a.append(buf);
            buf.rewind();
        }

        long loadNext(XfArray a, long from) throws StagingException {
            return a.loadNext(from, buf);
        }
    }

    private Plan make(String structure, Before before) throws Exception {
        if (!byDirectory) {
            Plan first = before.plan(null);
            if (first != null) {
                return first;
            }
        }
        try (XfBlob own = ctx.blobs().create("directory rebuild: cut names");
                XfArray starts = byDirectory ? ctx.arrays().create("directory rebuild: directories not read again", WalkGroup.Start.SIZE)
                        : null;
                XfArray salvaged = ctx.arrays().create("directory rebuild: entries", Salvaged.SIZE);
                XfArray candidates = ctx.arrays().create("directory rebuild: entries of the directories rebuilt", Salvaged.SIZE);
                XfArray kept = ctx.arrays().create("directory rebuild: entries kept", Salvaged.SIZE);
                XfArray links = ctx.arrays().create("directory rebuild: links", LinkRecord.SIZE);
                XfArray dropped = ctx.arrays().create("directory rebuild: links dropped", LinkCountRecord.SIZE)) {
            if (byDirectory) {
                salvageByDirectory(own, salvaged, links, dropped, starts);
                Plan first = before.plan(badFormat);
                if (first != null) {
                    return first;
                }
                if (refused != null) {
                    throw refused; // the first refusal in walk order, as the whole replay says it
                }
            } else {
                new Replay(own, salvaged, links, dropped).records(0, Long.MAX_VALUE);
            }
            links.sort(LinkRecord.ORDER, SortOptions.DEFAULT, ctx.progress()); // keepFirst does not change them
            XfArray sorted = ofRebuilt(salvaged, links, candidates, starts);
            sorted.sort(Salvaged.ORDER, SortOptions.DEFAULT, ctx.progress());
            keepFirst(own, sorted, kept, dropped);
            kept.sort(Salvaged.ORDER, SortOptions.DEFAULT, ctx.progress());
            Map<Long, Long> parents = parents(links, dropped);
            dropped.sort(LinkCountRecord.ORDER, SortOptions.DEFAULT, ctx.progress());
            Map<Long, Long> nlinks = linkCounts(dropped);
            disconnected(nlinks);
            if (!orphans.isEmpty()) {
                if (lostFound < 0) {
                    makeLostFound(nlinks);
                } else if (!parents.containsKey(lostFound)) {
                    long first = orphans.keySet().iterator().next();
                    throw new XfsFormatException("inode " + first + " would be named by no directory: /lost+found (inode " + lostFound
                            + ") is not known to be the root's (its .. is not proven)", "directory");
                } else {
                    damaged(lostFound, orphans.size() + " disconnected file(s) named in it");
                }
                for (long moved : movedDirectories.keySet()) {
                    damaged(moved, "moved to lost+found: .. set to inode " + lostFound);
                }
            }
            if (damaged.isEmpty()) {
                return null; // nothing this rebuild repairs: the findings are another kind (counts alone)
            }
            Map<Long, BlockImage> blocks = new LinkedHashMap<>();
            rebuild(own, kept, parents, blocks);
            setLinkCounts(nlinks, blocks);
            if (changes.size() >= CHANGES) {
                changes.add("(and more: " + damaged.size() + " directories rebuilt)");
            }
            return new Plan(structure, new ArrayList<>(blocks.values()), changes, Set.of(new Coverage("nlinks", -1)));
        }
    }

    /**
     * The salvaged entries of the directories this plan may rebuild ({@link RebuiltDirectories}) copied to
     * {@code out}, in the order they were read, or {@code salvaged} itself when which those are cannot be told: every
     * other directory holds no name twice, so its sort would find nothing, and its kept entries are never read. Read by
     * directory, {@code salvaged} holds only the directories read again; the others among those (named by two
     * directories, or a ".." that is not their parent: only the sorted links show it) are read again here from
     * {@code starts}.
     */
    private XfArray ofRebuilt(XfArray salvaged, XfArray links, XfArray out, XfArray starts) throws Exception {
        rebuilt.endReplay();
        damaged.forEach(rebuilt::add);
        rebuilt.add(root); // a lost+found made later is named in it
        rebuilt.add(lostFound); // disconnected files found later are named in it
        rebuilt.fromLinks(links);
        if (rebuilt.all()) {
            if (byDirectory) {
                throw new NotByDirectory(); // every entry is sorted: the whole walk is needed
            }
            return salvaged;
        }
        Salvaged s = new Salvaged();
        long n = 0;
        for (long i = s.loadNext(salvaged, 0); i >= 0; i = s.loadNext(salvaged, i + 1)) {
            cancelPoint(++n);
            if (rebuilt.contains(s.dir())) {
                s.appendTo(out);
            }
        }
        if (byDirectory) {
            notReplayed(starts, out);
        }
        return out;
    }

    /**
     * The entries of the directories the rebuild may write that the pass by directory did not read again, staged to
     * {@code out} as the replay stages them. Such a directory had nothing the rebuild drops, cuts or retypes (else it
     * was read again): each entry but "." and ".." is kept as it reads.
     */
    private void notReplayed(XfArray starts, XfArray out) throws Exception {
        Set<Long> wanted = new java.util.HashSet<>();
        for (long dir : rebuilt.directories()) {
            if (!replayed.contains(dir)) {
                wanted.add(dir);
            }
        }
        if (wanted.isEmpty()) {
            return;
        }
        WalkGroup.Start at = new WalkGroup.Start();
        DirectoryWalkRecord r = new DirectoryWalkRecord();
        Salvaged s = new Salvaged();
        long n = 0;
        for (long j = at.loadNext(starts, 0); j >= 0; j = at.loadNext(starts, j + 1)) {
            cancelPoint(++n);
            if (!wanted.contains(at.dir())) {
                continue;
            }
            for (long i = r.loadNext(walked, at.index() + 1); i >= 0 && r.kind() != DirectoryWalkRecord.Kind.DIRECTORY;
                    i = r.loadNext(walked, i + 1)) {
                cancelPoint(++n);
                if (r.kind() != DirectoryWalkRecord.Kind.ENTRY) {
                    continue;
                }
                byte[] name = told.load(r.cookie());
                DirectoryEntry e = r.entry(name);
                if (e.isDot() || e.isDotDot()) {
                    continue;
                }
                s.set(e.directory(), DirectoryStrategy.nameKey(name), i, r.cookie(), e.child(), r.childType()).appendTo(out);
            }
        }
    }

    private void cancelPoint(long n) throws CancelledException {
        if (n % CANCEL_CHECK == 0 && ctx.progress().isCancelled()) {
            throw new CancelledException("directory rebuild cancelled");
        }
    }

    private void damaged(long dir, String why) throws XfsFormatException {
        if (damaged.add(dir)) {
            if (damaged.size() > MAX_DIRECTORIES) {
                throw new XfsFormatException("more than " + MAX_DIRECTORIES + " directories to rebuild: not planned in one repair", "directory");
            }
            if (changes.size() < CHANGES) {
                changes.add("directory inode " + dir + " rebuilt: " + why);
            }
        } else if (changes.size() < CHANGES) {
            changes.add("directory inode " + dir + ": " + why);
        }
    }

    /**
     * The walk read by directory, loading only the names the rebuild may need: each directory's records are read once
     * without names ({@link WalkGroup}), and a directory the rebuild has anything to say about is read again, names
     * and all, by the rebuild's own rules ({@link Replay}) as soon as its last record is in, so that everything is
     * staged and said in the walk's order, as a replay of the whole walk does. On the 200,448-inode benchmark with one
     * damaged directory, the replay of every record loaded 200,000 names for nothing.
     * <p>
     * A directory is read again when it has a problem record; when the rebuild would drop, cut or retype one of its
     * entries (or refuse it); when a hash is held twice in it (maybe a name held twice); when its ".." was not told;
     * and the root and its lost+found always. The rest is what the device's reader guarantees: a name holding '/' or
     * NUL, a second "." or "..", a "." naming another inode are problems of the directory (Directories.entry), so
     * in a directory without one, an entry that names an inode in use other than a directory, the directory itself
     * or the root, the only kind whose name is not loaded here, is none of "." and ".." and is kept as it reads.
     * The links between directories a directory that is not read again gives (its ".." and its subdirectories' names,
     * whose names are loaded) are staged at its end, in the walk's order.
     *
     * @throws NotByDirectory when a record is not its directory's (the whole walk is replayed then)
     */
    private void salvageByDirectory(XfBlob own, XfArray out, XfArray links, XfArray dropped, XfArray starts) throws Exception {
        Replay replay = new Replay(own, out, links, dropped);
        DirectoryWalkRecord r = new DirectoryWalkRecord();
        WalkGroup g = new WalkGroup();
        LinkRecord link = new LinkRecord();
        WalkGroup.Start at = new WalkGroup.Start();
        long n = 0;
        for (long i = r.loadNext(walked, 0); i >= 0; i = r.loadNext(walked, i + 1)) {
            cancelPoint(++n);
            DirectoryWalkRecord.Kind kind = r.kind();
            if (kind == DirectoryWalkRecord.Kind.PROBLEM) {
                DirectoryClearing.toldOfBadFormat(r, root, told, badFormat);
            }
            if (refused != null) {
                continue; // only the problems are read on, for the clearing, which plans before any refusal
            }
            if (kind == DirectoryWalkRecord.Kind.DIRECTORY) {
                endDirectory(g, i, replay, link, links, at, starts);
                if (root < 0) {
                    root = r.dir();
                }
                g.start(r.dir(), i);
                // the root's entries say which lost+found is the root's; lost+found may be filled: both read whole
                g.replay = r.dir() == root || r.dir() == lostFound;
                continue;
            }
            if (r.dir() != g.dir() || g.dir() < 0) {
                throw new NotByDirectory();
            }
            if (g.replay) {
                continue;
            }
            if (kind == DirectoryWalkRecord.Kind.PROBLEM) {
                g.replay = true;
            } else {
                entry(r, g);
            }
        }
        if (refused == null) {
            endDirectory(g, Long.MAX_VALUE, replay, link, links, at, starts);
        }
    }

    /** An entry's record, its name loaded only where it may be "." or "..", or names a directory, the root, or nothing. */
    private void entry(DirectoryWalkRecord r, WalkGroup g) throws Exception {
        FileType type = r.childTold() ? r.childType() : null;
        long dir = r.dir();
        long child = r.child();
        if (type != null && type != FileType.DIRECTORY && child != dir && child != root) {
            // a file's name: see salvageByDirectory for why it is not "." nor "..", and holds no '/' or NUL
            if (typed && r.entryType() != type) {
                g.replay = true; // retyped
            } else {
                g.name(r.hash());
            }
            return;
        }
        DirectoryEntry e = r.entry(NO_NAME);
        byte[] name = told.load(r.cookie());
        boolean dot = Arrays.equals(name, DOT);
        boolean dotdot = Arrays.equals(name, DOTDOT);
        if (dot || dotdot) {
            if (e.offset() >= 0 && e.type() != FileType.DIRECTORY && typed) {
                g.replay = true; // its file type set
            } else if (dotdot) {
                g.dotdot = true;
                g.link(dir, LinkRecord.Kind.DOTDOT, child);
            }
            return;
        }
        if (type == null || child == dir || child == root || (typed && e.type() != type) || cutAt(name) < name.length) {
            g.replay = true; // dropped, cut or retyped (a cut name is a problem record of its own: sure)
            return;
        }
        g.name(e.hash());
        g.link(child, LinkRecord.Kind.NAMED_BY, dir); // a directory: the one kind that gets here
    }

    /** The end of directory {@code g} (the walk's next record is at {@code next}): read again, or its links staged. */
    private void endDirectory(WalkGroup g, long next, Replay replay, LinkRecord link, XfArray links, WalkGroup.Start at,
            XfArray starts) throws Exception {
        if (g.dir() < 0) {
            return;
        }
        if (g.replay || !g.dotdot) {
            if (replayed.add(g.dir()) && replayed.size() > RebuiltDirectories.MOST) {
                throw new NotByDirectory(); // more than the heap holds: so many directories are refused anyway
            }
            try {
                replay.records(g.start(), next);
            } catch (XfsFormatException x) {
                refused = x; // said once the clearing has had its say (it plans first, as DirectoryStrategy asks)
            }
        } else {
            g.stageLinks(link, links);
            at.set(g.dir(), g.start()).appendTo(starts);
        }
    }

    /** The index of the first '/' or NUL in {@code name}, or its length. */
    private static int cutAt(byte[] name) {
        int cut = 0;
        while (cut < name.length && name[cut] != '/' && name[cut] != 0) {
            cut++;
        }
        return cut;
    }

    private static final byte[] NO_NAME = {};
    private static final byte[] DOT = {'.'};
    private static final byte[] DOTDOT = {'.', '.'};

    /**
     * The rebuild's rules on the walk's records, names and all: each directory's problems mark it for a rebuild (or
     * refuse it), each entry is staged as it will be written, or dropped (its links counted as dropped), and the links
     * between directories are staged. The whole walk, or one directory's records at a time (salvageByDirectory).
     */
    private final class Replay {
        private final XfBlob own;
        private final XfArray out;
        private final XfArray links;
        private final XfArray dropped;
        private final DirectoryWalkRecord r = new DirectoryWalkRecord();
        private final Salvaged s = new Salvaged();
        private final LinkRecord link = new LinkRecord();
        private final LinkCountRecord gone = new LinkCountRecord();
        private final InodeFinder inodes = new InodeFinder(ctx.observation(Observation.INODE_MAP));
        private long n;

        Replay(XfBlob own, XfArray out, XfArray links, XfArray dropped) {
            this.own = own;
            this.out = out;
            this.links = links;
            this.dropped = dropped;
        }

        /** The records from index {@code from} to before {@code to}; the index of each orders its directory's entries. */
        void records(long from, long to) throws Exception {
            for (long i = r.loadNext(walked, from); i >= 0 && i < to; i = r.loadNext(walked, i + 1)) {
                cancelPoint(++n);
                record(i);
            }
        }

        private void record(long seq) throws Exception {
            switch (r.kind()) {
                case DIRECTORY -> {
                    if (root < 0) {
                        root = r.dir();
                    }
                    rebuilt.directory(r.dir());
                }
                case PROBLEM -> {
                    DirectoryProblem p = r.problem(new String(told.load(r.cookie()), StandardCharsets.UTF_8));
                    if (REFUSED.contains(p.kind())) {
                        throw new XfsFormatException(p.where() + ": " + p.kind().description() + ": " + p.detail()
                                + " (the blocks a rebuild would write into are not known)", "directory");
                    }
                    // a hash that does not match the name may be the name's damage, not the index's: the name is kept
                    // as it reads, and the plan says so (no copy of the old name is anywhere)
                    damaged(p.directory(), p.kind() == DirectoryProblem.Kind.HASH
                            ? p.kind().description() + " (" + p.detail() + "): names kept as they read, one may be damaged"
                            : p.kind().description());
                }
                case ENTRY -> {
                    DirectoryEntry e = r.entry(told.load(r.cookie()));
                    if ((e.isDot() || e.isDotDot()) && e.offset() >= 0 && e.type() != FileType.DIRECTORY && typed) {
                        // the check's rule: both name directories (a short-form ".." records no type); the rebuild
                        // makes them anew with the directory type
                        damaged(e.directory(), "\"" + e.nameString() + "\": file type set to directory");
                    }
                    if (e.isDot()) {
                        return;
                    }
                    if (e.isDotDot()) {
                        link.set(e.directory(), LinkRecord.Kind.DOTDOT, e.child()).appendTo(links);
                        return;
                    }
                    entry(e, seq);
                }
            }
        }

        private void entry(DirectoryEntry e, long seq) throws Exception {
            long dir = e.directory();
            String name = "\"" + e.nameString() + "\"";
            FileType type = r.childTold() ? r.childType() : null;
            if (type == null) {
                InodeMapRecord.State state = inodes.state(e.child());
                if (state == InodeMapRecord.State.IN_USE) {
                    // in use, but not read as an inode (its core is damaged): dropping its name would lose it
                    throw new XfsFormatException("directory inode " + dir + ": " + name + " names inode " + e.child()
                            + ", which is in use but could not be read: not rebuilt", "directory");
                }
                damaged(dir, name + " dropped: it names inode " + e.child() + (state == null ? ", which no inode chunk holds" : ", which is free"));
                return;
            }
            if (e.child() == dir || e.child() == root) {
                // only "." and ".." may name these: the root is named by no entry (xfs_repair junks one that does)
                damaged(dir, name + " dropped: it names " + (e.child() == dir ? "the directory itself" : "the root directory"));
                dropLinks(gone, dropped, dir, e.child(), type);
                return;
            }
            byte[] bytes = e.name();
            int cut = cutAt(bytes);
            long cookie = r.cookie();
            if (cut < bytes.length) {
                if (cut == 0) {
                    damaged(dir, name + " dropped: its name is empty before the first '/' or NUL");
                    dropLinks(gone, dropped, dir, e.child(), type);
                    return;
                }
                bytes = Arrays.copyOf(bytes, cut);
                cookie = own.store(bytes) | Salvaged.OWN;
                damaged(dir, name + " renamed \"" + new String(bytes, StandardCharsets.UTF_8) + "\" (cut at the first '/' or NUL)");
            }
            if (e.type() != type && typed) {
                damaged(dir, name + ": file type set to that of inode " + e.child());
            }
            long key = DirectoryStrategy.nameKey(bytes);
            s.set(dir, key, seq, cookie, e.child(), type).appendTo(out);
            rebuilt.entry(dir, key, bytes);
            if (type == FileType.DIRECTORY) {
                link.set(e.child(), LinkRecord.Kind.NAMED_BY, dir).appendTo(links);
                if (dir == root && Arrays.equals(bytes, LOST_FOUND)) {
                    lostFound = e.child();
                }
            }
            if (dir == root && Arrays.equals(bytes, LOST_FOUND)) {
                rootNamesLostFound = true;
            }
        }
    }

    /** The links an entry gave that its drop takes away: one of its inode, and its directory's ".." link for a subdirectory. */
    private static void dropLinks(LinkCountRecord gone, XfArray dropped, long dir, long child, FileType type) throws StagingException {
        gone.link(child, LinkCountRecord.Kind.ENTRY).appendTo(dropped);
        if (type == FileType.DIRECTORY) {
            gone.link(dir, LinkCountRecord.Kind.DOTDOT).appendTo(dropped);
        }
    }

    private byte[] name(XfBlob own, long cookie) throws StagingException {
        return (cookie & Salvaged.OWN) != 0 ? own.load(cookie & ~Salvaged.OWN) : told.load(cookie);
    }

    /** Sorted by directory and name key: a name held twice is kept once, the first read; the rest go on to {@code kept}. */
    private void keepFirst(XfBlob own, XfArray sorted, XfArray kept, XfArray dropped) throws Exception {
        Salvaged s = new Salvaged();
        Salvaged out = new Salvaged();
        LinkCountRecord gone = new LinkCountRecord();
        long groupDir = -1;
        long groupKey = 0;
        // names of one key in one directory, almost always one: loaded only when a second comes (null until then)
        List<byte[]> groupNames = new ArrayList<>();
        long firstCookie = 0;
        long n = 0;
        for (long i = s.loadNext(sorted, 0); i >= 0; i = s.loadNext(sorted, i + 1)) {
            cancelPoint(++n);
            if (s.dir() != groupDir || s.nameKey() != groupKey) {
                groupDir = s.dir();
                groupKey = s.nameKey();
                groupNames.clear();
                groupNames.add(null);
                firstCookie = s.cookie();
                out.set(s.dir(), 0, s.seq(), s.cookie(), s.child(), s.type()).appendTo(kept); // the first is kept unread
                continue;
            }
            if (groupNames.get(0) == null) {
                groupNames.set(0, name(own, firstCookie));
            }
            byte[] name = name(own, s.cookie());
            boolean twice = false;
            for (byte[] g : groupNames) {
                twice |= Arrays.equals(g, name);
            }
            if (twice) {
                damaged(s.dir(), "\"" + new String(name, StandardCharsets.UTF_8) + "\" held twice: the one naming inode " + s.child()
                        + " dropped");
                dropLinks(gone, dropped, s.dir(), s.child(), s.type());
                continue;
            }
            groupNames.add(name);
            out.set(s.dir(), 0, s.seq(), s.cookie(), s.child(), s.type()).appendTo(kept);
        }
    }

    /**
     * Each subdirectory's parent: the one directory naming it. A ".." that names another marks it for a rebuild. A
     * subdirectory named by two directories or more keeps one name, as xfs_repair's phase 6 keeps it: the one in the
     * directory its ".." names, else (a ".." naming none of them) the first in inode order. There xfs_repair keeps none
     * ("inconsistent with .. value" junks each) and moves it to lost+found; keeping the first leaves the subtree at a
     * path a person knows, its files and names whole, where lost+found/INO would keep them too but lose where they
     * were; the plan says it is a guess and names the other entries, which are dropped, with the links they gave, and
     * their directories rebuilt.
     */
    private Map<Long, Long> parents(XfArray links, XfArray dropped) throws Exception {
        LinkCountRecord gone = new LinkCountRecord();
        // first pass: which names of a directory named twice are dropped (few: held on the heap, bounded)
        LinkRecord r = new LinkRecord();
        long i = r.loadNext(links, 0);
        long n = 0;
        while (i >= 0) {
            long dir = r.dir();
            TreeSet<Long> namers = new TreeSet<>();
            long dotdot = -1;
            int named = 0;
            do {
                cancelPoint(++n);
                if (r.kind() == LinkRecord.Kind.NAMED_BY) {
                    named++;
                    namers.add(r.other());
                } else {
                    dotdot = r.other();
                }
                i = r.loadNext(links, i + 1);
            } while (i >= 0 && r.dir() == dir);
            if (named > 0 && dir == root) {
                throw new XfsFormatException("the root directory (inode " + dir + ") is named by a directory: not rebuilt", "directory");
            }
            if (named > namers.size()) {
                throw new XfsFormatException("directory inode " + dir + " is named twice in one directory: which name is right is not"
                        + " proven; not rebuilt", "directory");
            }
            if (named < 2) {
                continue;
            }
            long keep = namers.contains(dotdot) ? dotdot : namers.first();
            for (long namer : namers) {
                if (namer == keep) {
                    continue;
                }
                if (namedTwiceDrops.size() >= MAX_DIRECTORIES) {
                    throw new XfsFormatException("more than " + MAX_DIRECTORIES + " directories named twice: not planned in one repair",
                            "directory");
                }
                namedTwiceDrops.computeIfAbsent(namer, k -> new TreeSet<>()).add(dir);
                damaged(namer, "the entry naming directory inode " + dir + " dropped: that directory is named by inode " + keep
                        + " too, " + (keep == dotdot ? "which its .. names" : "the first naming it in inode order, a guess: its .. names"
                        + " inode " + dotdot + ", which names it not (xfs_repair drops every name and moves it to lost+found)"));
                dropLinks(gone, dropped, namer, dir, FileType.DIRECTORY);
            }
        }
        Map<Long, Long> parents = new TreeMap<>();
        i = r.loadNext(links, 0);
        while (i >= 0) {
            long dir = r.dir();
            long parent = -1;
            long dotdot = -1;
            do {
                cancelPoint(++n);
                if (r.kind() == LinkRecord.Kind.NAMED_BY) {
                    Set<Long> drops = namedTwiceDrops.get(r.other());
                    if (drops == null || !drops.contains(dir)) {
                        parent = r.other();
                    }
                } else {
                    dotdot = r.other();
                }
                i = r.loadNext(links, i + 1);
            } while (i >= 0 && r.dir() == dir);
            if (dir == root) {
                parent = root;
            }
            if (parent >= 0 && dotdot != parent) {
                damaged(dir, ".. set to inode " + parent + ", the directory that names it");
            }
            if (parent >= 0 && (damaged.contains(dir) || dir == lostFound)) {
                parents.put(dir, parent);
            }
        }
        return parents;
    }

    /** The kept entries of {@code dir}, less those naming a directory named twice whose name here is dropped. */
    private Iterator<SalvagedEntry> withoutNamedTwice(long dir, Iterator<SalvagedEntry> entries) {
        Set<Long> drops = namedTwiceDrops.get(dir);
        if (drops == null) {
            return entries;
        }
        List<SalvagedEntry> out = new ArrayList<>();
        entries.forEachRemaining(e -> {
            if (!drops.contains(e.child())) {
                out.add(e);
            }
        });
        return out.iterator();
    }

    /** Each damaged directory written anew from its kept entries, in the order they were read. */
    private void rebuild(XfBlob own, XfArray kept, Map<Long, Long> parents, Map<Long, BlockImage> blocks) throws Exception {
        Salvaged s = new Salvaged();
        long i = s.loadNext(kept, 0);
        for (long dir : damaged) {
            while (i >= 0 && Long.compareUnsigned(s.dir() + 1, dir + 1) < 0) {
                i = s.loadNext(kept, i + 1);
            }
            Long parent = dir == root ? Long.valueOf(root) : movedDirectories.containsKey(dir) ? Long.valueOf(lostFound) : parents.get(dir);
            if (parent == null) {
                throw new XfsFormatException("directory inode " + dir + ": no directory names it, so its .. is not known: not rebuilt",
                        "directory");
            }
            long first = i;
            long count = 0;
            while (i >= 0 && s.dir() == dir) {
                count++;
                i = s.loadNext(kept, i + 1);
            }
            Iterator<SalvagedEntry> entries = withoutNamedTwice(dir, entries(own, kept, first, count));
            if (dir == lostFound && !orphans.isEmpty()) {
                entries = withoutNamedTwice(dir, withOrphans(own, kept, first, count));
            } else if (movedDirectories.containsKey(dir)) {
                entries = movedDirectories.get(dir).iterator();
            }
            if (dir == root && newLostFound >= 0) {
                entries = withLostFound(entries);
            }
            try {
                // sized to its entries as xfs_repair's rebuild sizes it: blocks from the engine's allocation when they
                // outgrow what the directory maps, the blocks they no longer need unmapped (free space follows)
                for (BlockImage b : ctx.device().resizeDirectory(dir, parent, entries, ctx::allocate)) {
                    blocks.put(b.offset(), b);
                    DirectoryShrink.report(dir, b, changes, CHANGES);
                }
            } catch (UncheckedStagingException e) {
                throw e.getCause();
            }
        }
        if (newLostFound >= 0) {
            // lost+found holds only the disconnected files: no kept entry is its own
            for (BlockImage b : ctx.device().newDirectory(newLostFound, root, withOrphans(own, kept, 0, 0), ctx::allocate)) {
                blocks.put(b.offset(), b);
            }
        }
    }

    /** The root's entries and, last, the new lost+found (as a new entry goes at the end of a directory). */
    private Iterator<SalvagedEntry> withLostFound(Iterator<SalvagedEntry> entries) {
        SalvagedEntry made = new SalvagedEntry(LOST_FOUND.clone(), newLostFound, FileType.DIRECTORY);
        return new Iterator<>() {
            private boolean done;

            @Override
            public boolean hasNext() {
                return entries.hasNext() || !done;
            }

            @Override
            public SalvagedEntry next() {
                if (entries.hasNext()) {
                    return entries.next();
                }
                if (done) {
                    throw new NoSuchElementException();
                }
                done = true;
                return made;
            }
        };
    }

    /**
     * lost+found made, as xfs_repair makes it when a file must go there and there is none: a free inode of an existing
     * chunk, the first of the root's AG (else of any AG) in the inode map, named in the root, which is rebuilt with
     * that entry and gains a link. The inode btrees and counters the inode changes are the next round's (see the class).
     */
    private void makeLostFound(Map<Long, Long> nlinks) throws Exception {
        long first = orphans.keySet().iterator().next();
        if (rootNamesLostFound) {
            throw new XfsFormatException("inode " + first + " would be named by no directory: it needs /lost+found, and the root"
                    + " names something else lost+found (not a directory): not replaced", "directory");
        }
        if (rootNlink == null) {
            throw new XfsFormatException("inode " + first + " would be named by no directory: /lost+found would be made, but the"
                    + " root's link count was not read", "directory");
        }
        long picked = freeInode();
        if (picked < 0) {
            throw new XfsFormatException("inode " + first + " would be named by no directory: /lost+found is missing and no inode"
                    + " chunk has a free inode to make it in (allocating a chunk is not done here)", "directory");
        }
        newLostFound = picked;
        lostFound = picked;
        damaged(root, "lost+found (new, inode " + picked + ") named in it");
        if (changes.size() < CHANGES) {
            changes.add("inode " + picked + " (free) made /lost+found: a directory of mode 0755 owned by root, holding "
                    + orphans.size() + " disconnected file(s)");
        }
        long expected = rootNlink[1] + 1;
        if (expected != rootNlink[0]) {
            nlinks.put(root, expected);
            changes.add("inode " + root + " (the root) nlink: " + rootNlink[0] + " -> " + expected);
        } else {
            nlinks.remove(root);
        }
    }

    /** The first free inode of the root's AG in the inode map (sorted by number), else the first of any AG; -1 when none. */
    private long freeInode() throws Exception {
        XfArray map = ctx.observation(Observation.INODE_MAP);
        int agCount = ctx.info().agCount();
        int rootAg = 0;
        while (rootAg + 1 < agCount && ctx.device().inodeNumber(rootAg + 1, 0) <= root) {
            rootAg++;
        }
        long lo = ctx.device().inodeNumber(rootAg, 0);
        long hi = rootAg + 1 < agCount ? ctx.device().inodeNumber(rootAg + 1, 0) : Long.MAX_VALUE;
        InodeMapRecord r = new InodeMapRecord();
        long any = -1;
        long n = 0;
        for (long i = r.loadNext(map, 0); i >= 0; i = r.loadNext(map, i + 1)) {
            cancelPoint(++n);
            if (r.state() != InodeMapRecord.State.FREE) {
                continue;
            }
            long ino = r.ino();
            if (ino >= lo && ino < hi) {
                return ino;
            }
            if (any < 0) {
                any = ino;
            }
        }
        return any;
    }

    /**
     * lost+found's kept entries, then one per disconnected file, named by its inode number (with ".1", ".2", ... when
     * lost+found holds that name already), as xfs_repair names them. lost+found's entries are held here: a directory
     * the rebuild can write (one hash index block at most) holds few.
     */
    private Iterator<SalvagedEntry> withOrphans(XfBlob own, XfArray kept, long first, long count) throws Exception {
        List<SalvagedEntry> all = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (Iterator<SalvagedEntry> it = entries(own, kept, first, count); it.hasNext(); ) {
            SalvagedEntry e = it.next();
            all.add(e);
            names.add(new String(e.name(), StandardCharsets.ISO_8859_1));
        }
        for (Map.Entry<Long, FileType> o : orphans.entrySet()) {
            String name = Long.toString(o.getKey());
            for (int k = 1; names.contains(name); k++) {
                if (k > MAX_SUFFIX) {
                    throw new XfsFormatException("lost+found holds " + o.getKey() + " and its suffixed names up to ." + MAX_SUFFIX
                            + ": inode " + o.getKey() + " is not named there", "directory");
                }
                name = o.getKey() + "." + k;
            }
            names.add(name);
            all.add(new SalvagedEntry(name.getBytes(StandardCharsets.US_ASCII), o.getKey(), o.getValue()));
            if (changes.size() < CHANGES) {
                changes.add("inode " + o.getKey() + " (disconnected) named lost+found/" + name);
            }
        }
        return all.iterator();
    }

    /** {@code count} kept entries from index {@code first}, their names loaded as they are read. */
    private Iterator<SalvagedEntry> entries(XfBlob own, XfArray kept, long first, long count) {
        Salvaged s = new Salvaged();
        return new Iterator<>() {
            private long at = first;
            private long left = count;

            @Override
            public boolean hasNext() {
                return left > 0;
            }

            @Override
            public SalvagedEntry next() {
                if (left == 0) {
                    throw new NoSuchElementException();
                }
                try {
                    at = s.loadNext(kept, at) + 1;
                    left--;
                    return new SalvagedEntry(name(own, s.cookie()), s.child(), s.type());
                } catch (StagingException e) {
                    throw new UncheckedStagingException(e);
                }
            }
        };
    }

    /**
     * Every link count the tree will show once the plan is written, where it differs from the inode's: the nlinks
     * check's rule (a file one link per name, a directory two and one per subdirectory) on the walk's link counts, less
     * the links dropped (both sorted by inode). An inode left with no name is refused: it needs lost+found.
     * <p>
     * The same pass reads the inode map beside the link counts (both sorted by inode) for {@link #disconnected}: each
     * inode in use that no entry names goes to {@link #unnamedInUse}, so that the link counts are read once, not twice.
     * Only what the disconnected pass can use is kept: past {@link #MAX_ORPHANS} it refuses, and the root and the
     * metadata inodes ({@link DirectoryStrategy#namedByNone}, at most {@link #NAMED_BY_NONE}) are passed over there.
     */
    private Map<Long, Long> linkCounts(XfArray dropped) throws Exception {
        XfArray counts = ctx.observation(Observation.LINK_COUNTS);
        XfArray map = ctx.observation(Observation.INODE_MAP);
        LinkCountRecord r = new LinkCountRecord();
        LinkCountRecord d = new LinkCountRecord();
        InodeMapRecord m = new InodeMapRecord();
        long j = d.loadNext(dropped, 0);
        long i = r.loadNext(counts, 0);
        long k = root < 0 ? -1 : m.loadNext(map, 0); // without a root, nothing is disconnected (as the check has it)
        // each record's inode read once as it is loaded (the two passes read 400,000 records on the benchmark)
        long mapIno = k >= 0 ? m.ino() : Long.MAX_VALUE;
        long next = i >= 0 ? r.ino() : -1;
        Map<Long, Long> nlinks = new TreeMap<>();
        long n = 0;
        while (i >= 0) {
            long ino = next;
            long onDisk = -1;
            boolean dir = false;
            long entries = 0;
            long dotdots = 0;
            // the inodes of the map before this one have no record: no entry names them
            while (mapIno < ino) {
                cancelPoint(++n);
                unnamed(m, false);
                k = m.loadNext(map, k + 1);
                mapIno = k >= 0 ? m.ino() : Long.MAX_VALUE;
            }
            do {
                cancelPoint(++n);
                switch (r.kind()) {
                    case INODE -> {
                        onDisk = r.nlink();
                        dir = r.directory();
                    }
                    case NAMED -> { // an INODE and an ENTRY record in one
                        onDisk = r.nlink();
                        dir = r.directory();
                        entries++;
                    }
                    case ENTRY -> entries++;
                    case DOTDOT -> dotdots++;
                }
                i = r.loadNext(counts, i + 1);
                next = i >= 0 ? r.ino() : -1;
            } while (next == ino);
            while (mapIno == ino) {
                unnamed(m, entries > 0); // named when a NAMED or ENTRY record is among its own (before the drops)
                k = m.loadNext(map, k + 1);
                mapIno = k >= 0 ? m.ino() : Long.MAX_VALUE;
            }
            while (j >= 0 && Long.compareUnsigned(d.ino() + 1, ino + 1) < 0) {
                j = d.loadNext(dropped, j + 1);
            }
            while (j >= 0 && d.ino() == ino) {
                if (d.kind() == LinkCountRecord.Kind.ENTRY) {
                    entries--;
                } else {
                    dotdots--;
                }
                j = d.loadNext(dropped, j + 1);
            }
            if (onDisk < 0) {
                continue;
            }
            if (entries <= 0 && ino != root) {
                if (dir) {
                    throw new XfsFormatException("directory inode " + ino + " would be named by no directory once its entries are"
                            + " dropped: moving a directory to lost+found is not done here", "directory");
                }
                orphan(ino, FileType.FILE); // its type is read when it is named
                entries = 1; // its name in lost+found
            }
            long expected = dir ? 2 + dotdots : entries;
            if (ino == lostFound) {
                lostFoundNlink = new long[] {onDisk, expected}; // a directory moved into it adds one
            }
            if (ino == root) {
                rootNlink = new long[] {onDisk, expected}; // a new lost+found adds one
            }
            if (expected != onDisk) {
                if (nlinks.size() >= MAX_DIRECTORIES) {
                    throw new XfsFormatException("more than " + MAX_DIRECTORIES + " link counts to set: not planned in one repair", "directory");
                }
                nlinks.put(ino, expected);
                if (changes.size() < CHANGES) {
                    changes.add("inode " + ino + " nlink: " + onDisk + " -> " + expected);
                }
            }
        }
        for (; k >= 0; k = m.loadNext(map, k + 1)) { // past the last record: named by none
            cancelPoint(++n);
            unnamed(m, false);
        }
        return nlinks;
    }

    /** Keeps inode map record {@code m} for {@link #disconnected} when it is in use and no entry names it. */
    private void unnamed(InodeMapRecord m, boolean named) {
        if (!named && m.state() == InodeMapRecord.State.IN_USE && unnamedInUse.size() <= MAX_ORPHANS + NAMED_BY_NONE) {
            unnamedInUse.add(m.ino());
        }
    }

    private void orphan(long ino, FileType type) throws XfsFormatException {
        orphans.put(ino, type);
        if (orphans.size() > MAX_ORPHANS) {
            throw new XfsFormatException("more than " + MAX_ORPHANS + " disconnected files: not named in lost+found by one repair", "directory");
        }
    }

    /**
     * Inodes in use no directory reached from the root names (the directory check's rule), and those the drops leave
     * unnamed, each with one link. A disconnected directory is read (the walk never reached it), and what it names is
     * below it, not disconnected on its own: only the tops of what is disconnected are named in lost+found, a directory
     * with its own entries and its ".." set to lost+found (whose link count gains one). Refused: an inode that cannot
     * be read, a disconnected directory whose read finds a problem, disconnected directories that only name each other.
     */
    private void disconnected(Map<Long, Long> nlinks) throws Exception {
        Map<Long, FileType> found = new TreeMap<>();
        // the check's rule (DirectoryStrategy.disconnected) on the inodes linkCounts' pass found unnamed
        Set<Long> byNone = root < 0 ? Set.of() : DirectoryStrategy.namedByNone(ctx, root);
        for (long ino : unnamedInUse) {
            if (byNone.contains(ino)) {
                continue;
            }
            FileType t = ctx.device().fileType(ino);
            if (t == null) {
                throw new XfsFormatException("inode " + ino + " is disconnected and cannot be read", "directory");
            }
            found.put(ino, t);
            if (found.size() > MAX_ORPHANS) {
                throw new XfsFormatException("more than " + MAX_ORPHANS + " disconnected inodes: not named in lost+found by one repair",
                        "directory");
            }
        }
        Set<Long> below = new java.util.HashSet<>();
        Map<Long, List<SalvagedEntry>> read = new TreeMap<>();
        for (Map.Entry<Long, FileType> d : found.entrySet()) {
            if (d.getValue() == FileType.DIRECTORY) {
                List<SalvagedEntry> entries = readDisconnected(d.getKey());
                read.put(d.getKey(), entries);
                entries.forEach(e -> below.add(e.child()));
            }
        }
        for (Map.Entry<Long, FileType> d : found.entrySet()) {
            long ino = d.getKey();
            if (below.contains(ino)) {
                continue; // reached again through the directory above it, moved with it
            }
            orphan(ino, d.getValue());
            if (d.getValue() == FileType.DIRECTORY) {
                movedDirectories.put(ino, read.get(ino));
            } else {
                nlinks.put(ino, 1L); // its one name, in lost+found (its count was not read: the walk never reached it)
            }
        }
        if (!found.isEmpty() && orphans.isEmpty()) {
            throw new XfsFormatException("disconnected directories name each other (inode " + found.keySet().iterator().next()
                    + " is one): no top to name in lost+found", "directory");
        }
        for (Map.Entry<Long, FileType> o : orphans.entrySet()) {
            FileType t = ctx.device().fileType(o.getKey());
            if (t == null || (t == FileType.DIRECTORY && !movedDirectories.containsKey(o.getKey()))) {
                throw new XfsFormatException("inode " + o.getKey() + " would be disconnected and cannot be named in lost+found"
                        + (t == null ? "" : ": moving a directory its entries were dropped from is not done here"), "directory");
            }
            o.setValue(t);
        }
        if (!movedDirectories.isEmpty() && lostFoundNlink != null) {
            long expected = lostFoundNlink[1] + movedDirectories.size();
            if (expected != lostFoundNlink[0]) {
                nlinks.put(lostFound, expected);
                changes.add("inode " + lostFound + " (lost+found) nlink: " + lostFoundNlink[0] + " -> " + expected);
            } else {
                nlinks.remove(lostFound);
            }
        }
    }

    /** A disconnected directory's entries, as the device's verifying reader reads them: refused when it finds a problem. */
    private List<SalvagedEntry> readDisconnected(long dir) throws Exception {
        List<SalvagedEntry> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<DirectoryEntry> entries = new ArrayList<>();
        ctx.device().directory(dir, new org.xfstage.api.device.DirectorySink() {
            @Override
            public void entry(DirectoryEntry e) {
                if (!e.isDot() && !e.isDotDot()) {
                    entries.add(e);
                }
            }

            @Override
            public void problem(DirectoryProblem p) {
                problems.add(p.where() + ": " + p.kind().description() + ": " + p.detail());
            }
        });
        if (!problems.isEmpty()) {
            throw new XfsFormatException("disconnected directory inode " + dir + " is damaged too (" + problems.get(0)
                    + "): not moved to lost+found", "directory");
        }
        for (DirectoryEntry e : entries) {
            if (out.size() >= MAX_ORPHANS) {
                throw new XfsFormatException("disconnected directory inode " + dir + " holds more than " + MAX_ORPHANS
                        + " entries: not moved to lost+found by one repair", "directory");
            }
            FileType t = ctx.device().fileType(e.child());
            if (t == null) {
                throw new XfsFormatException("disconnected directory inode " + dir + ": \"" + e.nameString() + "\" names inode "
                        + e.child() + ", which cannot be read: not moved to lost+found", "directory");
            }
            out.add(new SalvagedEntry(e.name(), e.child(), t));
        }
        return out;
    }

    /** The link counts set, each read through a view with the rebuilt directories in it. */
    private void setLinkCounts(Map<Long, Long> nlinks, Map<Long, BlockImage> blocks) throws Exception {
        if (nlinks.isEmpty()) {
            return;
        }
        // each read through a view with the rebuilt directories in it, so that an inode both changes holds both
        try (XfsDevice view = ctx.device().withPlanned(new ArrayList<>(blocks.values()))) {
            for (Map.Entry<Long, Long> e : nlinks.entrySet()) {
                BlockImage b = view.updateInode(e.getKey(), Map.of(InodeField.NLINK, e.getValue()));
                blocks.put(b.offset(), b);
            }
        }
    }
}
