package org.xfstage.strategies.namespace;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.TreeWalkCheck;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * directory: every directory reachable from the root, read by the device's verifying reader, and what only the whole
 * tree shows.
 * <p>
 * The engine's walk reads the tree once ({@code XfsDevice.directoryTree}) for the link counts and tells this check
 * every event as it reads it ({@link #treeWalkCheck}); without it the device walks the tree here. Either way each
 * directory is read once with every check it can
 * be held to on its own (names, file types, inode numbers, "." and "..", short-form counts, data blocks and their
 * free-space tables, the hash index against every name, the free index, the size), each problem it finds becomes a
 * finding here, and each inode an entry names is read for its type. While the entries stream by, this checks what
 * needs the inode map or the named inode: an entry naming an inode that is free or that no inode chunk holds (looked
 * up only when the named inode does not read as one in use, so a clean tree costs no lookups), and an entry whose
 * file type is not the named inode's. A directory's names are held on the heap until its last entry is in, up to a
 * bound ({@link DirectoryNames}), and checked for one held twice then: nothing per entry is staged. A directory past
 * the bound has each entry staged as a fixed record ({@link EntryRecord}: parent, hash, name cookie, child, file type)
 * in an xfarray, its name in an xfblob, and
 * sorted, the records show one directory holding a name twice (equal names of one directory are neighbours). The
 * links between directories (a name naming a subdirectory, a "..") are staged apart ({@link LinkRecord}, few: two
 * per directory) and sorted by subdirectory: a subdirectory named by two directories, or whose ".." is not the
 * directory that names it, shows in its group.
 * <p>
 * Its repairs: a single-block directory whose only fault is its size gets its size ({@link DirectorySizePlan});
 * any other damage to a directory's entries or indexes is a rebuild of that directory from the entries the walk
 * salvaged, with the link counts that follow ({@link DirectoryRebuildPlan}), and disconnected files and directories
 * are named in /lost+found, made (in a free inode of an existing chunk) when it is missing; a directory named by two
 * directories keeps the name its ".." names (else the first). Damage that loses a directory's blocks is not repaired.
 * Before any of it, a directory whose format does not go with its size or extent map, and an inode that does not
 * decode for a rule xfs_repair clears it for, are cleared as xfs_repair clears them ({@link DirectoryClearing}): the
 * next round rebuilds what named them and sends a cleared directory's files to lost+found.
 */
@Component(property = RepairStrategy.STRUCTURE + "=" + DirectoryStrategy.STRUCTURE)
public class DirectoryStrategy implements RepairStrategy {
    /** The structure this strategy checks, as findings name it. */
    static final String STRUCTURE = "directory";
    /** Findings listed at most; the rest are counted in one last finding (a wrecked directory has thousands). */
    static final int MAX_FINDINGS = 100;
    /** Records between two looks at cancellation in the passes over the staged entries. */
    private static final int CANCEL_CHECK = 65_536;
    /** Named in several places below: how many naming directories a message lists. */
    private static final int PARENTS_LISTED = 3;

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_MAP, Observation.LINK_COUNTS);
    }

    /** The rebuild salvages entries from the walk's record (DirectoryRebuildPlan); a scrub alone never stages it. */
    @Override
    public Set<Observation> planNeeds() {
        return Set.of(Observation.DIRECTORY_WALK, Observation.INODE_PROBLEMS); // the inodes cleared before a rebuild
    }

    /** The engine's one tree walk tells this check every directory and entry as it reads them: nothing is read twice. */
    @Override
    public TreeWalkCheck treeWalkCheck(ScrubContext ctx) throws Exception {
        return new TreeCheck(ctx);
    }

    /** Without the engine's walk (it did not ask for {@link #treeWalkCheck}): the device walks the tree here. */
    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        try (TreeCheck c = new TreeCheck(ctx)) {
            ctx.device().directoryTree(ctx.progress(), c);
            c.finish(ctx, findings);
        }
    }

    @Override
    public org.xfstage.api.repair.Plan plan(ScrubContext ctx, java.util.List<Finding> findings) throws Exception {
        // the rebuild reads the walk first (once, for the clearing's directories of bad format too), then asks these
        return DirectoryRebuildPlan.plan(ctx, STRUCTURE, badFormat -> {
            org.xfstage.api.repair.Plan cleared = DirectoryClearing.plan(ctx, STRUCTURE, badFormat);
            if (cleared != null) {
                return cleared; // the next round rebuilds what names them, on a view where they are free
            }
            String size = DirectoryProblem.Kind.SIZE.description() + ": ";
            if (!findings.isEmpty() && findings.stream().allMatch(f -> f.problem().startsWith(size))) {
                return DirectorySizePlan.plan(ctx, findings, STRUCTURE, MAX_FINDINGS); // a single-block directory's size, set in the inode
            }
            return null;
        });
    }

    /** How a disconnected inode's finding ends. */
    private static final String DISCONNECTED = "(disconnected)";

    /**
     * The check of one run: told the tree walk's events (by the engine's walk, or the device's here), then finished with
     * what only the whole tree shows. Its own staging (the entries of directories too large for the heap, the links
     * between directories, the paths) lives from the walk to its close.
     */
    private static final class TreeCheck implements TreeWalkCheck {
        private final XfBlob names;
        private final XfArray entries;
        private final XfArray links;
        private final DirectoryPaths paths;
        private final Findings out = new Findings();
        private final Walk walk;

        TreeCheck(ScrubContext ctx) throws StagingException {
            XfBlob b = ctx.blobs().create("directory check: names");
            XfArray e = null;
            XfArray l = null;
            try {
                e = ctx.arrays().create("directory check: entries", EntryRecord.SIZE);
                l = ctx.arrays().create("directory check: links", LinkRecord.SIZE);
                paths = new DirectoryPaths(ctx.arrays(), b);
            } catch (StagingException | RuntimeException x) {
                for (XfArray a : new XfArray[] {e, l}) {
                    if (a != null) {
                        a.close();
                    }
                }
                b.close();
                throw x;
            }
            names = b;
            entries = e;
            links = l;
            walk = new Walk(ctx, names, entries, links, paths, out);
        }

        @Override
        public void directory(long ino, String path) {
            walk.directory(ino, path);
        }

        @Override
        public void entry(DirectoryEntry e) {
            walk.entry(e);
        }

        @Override
        public void problem(DirectoryProblem p) {
            walk.problem(p);
        }

        @Override
        public void child(long ino, FileType type) {
            walk.child(ino, type);
        }

        @Override
        public void finish(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
            walk.finish();
            paths.sort(ctx.progress());
            if (entries.length() > 0) { // only the directories too large for the heap staged their names
                entries.sort(EntryRecord.ORDER, SortOptions.DEFAULT, ctx.progress());
                duplicateNames(ctx, entries, names, paths, out);
            }
            links.sort(LinkRecord.ORDER, SortOptions.DEFAULT, ctx.progress());
            parents(ctx, links, paths, out, walk.root);
            disconnected(ctx, out, walk.root);
            out.finish(findings);
        }

        @Override
        public void close() {
            paths.close();
            links.close();
            entries.close();
            names.close();
        }
    }

    /**
     * Keeps findings up to {@link #MAX_FINDINGS} (the walk finds them before the check phase has a consumer), then
     * counts them.
     */
    private static final class Findings {
        private final List<Finding> listed = new java.util.ArrayList<>();
        private long count;

        void add(String location, String problem, String expected) {
            if (count++ < MAX_FINDINGS) {
                listed.add(new Finding(STRUCTURE, -1, location, problem, expected));
            }
        }

        void finish(Consumer<Finding> sink) {
            listed.forEach(sink);
            if (count > MAX_FINDINGS) {
                sink.accept(new Finding(STRUCTURE, -1, "directories", (count - MAX_FINDINGS) + " more findings not listed", null));
            }
        }
    }

    /**
     * Receives the tree walk: problems become findings, entries are checked against the inode map and the named
     * inode's type, and each directory's names are checked for one held twice when its last entry is in (on the heap,
     * {@link DirectoryNames}; a directory too large for it is staged and checked once the walk is over). An entry other
     * than "." is followed by its child's type: the entry waits for it.
     */
    private static final class Walk implements DirectorySink {
        private final ScrubContext ctx;
        private final XfBlob names;
        private final XfArray entries;
        private final XfArray links;
        private final DirectoryPaths paths;
        private final Findings out;
        private final InodeFinder inodes;
        private final EntryRecord rec = new EntryRecord();
        private final LinkRecord link = new LinkRecord();
        private final boolean typed;
        private String path = "/";
        /** The walk's first directory: the root. */
        private long root = -1;
        private DirectoryEntry pending;
        /** The names of the directory being read, and whether it outgrew them (then its entries are staged). */
        private final DirectoryNames held = new DirectoryNames();
        private String heldPath;
        private long heldDir = -1;
        private boolean spilled;
        /** A ".." waiting for its child's type: the inode map is asked only when the parent does not read as in use. */
        private DirectoryEntry dotdot;
        private StagingException failure;

        Walk(ScrubContext ctx, XfBlob names, XfArray entries, XfArray links, DirectoryPaths paths, Findings out) {
            this.ctx = ctx;
            this.names = names;
            this.entries = entries;
            this.links = links;
            this.paths = paths;
            this.out = out;
            XfArray map = ctx.observation(Observation.INODE_MAP);
            this.inodes = map == null ? null : new InodeFinder(map);
            this.typed = ctx.info().has(Feature.FTYPE);
        }

        private String here(long ino) {
            return "directory " + path + " (inode " + ino + ")";
        }

        @Override
        public void directory(long ino, String p) {
            flush(null);
            endDirectory();
            path = p;
            if (root < 0) {
                root = ino;
            }
            if (failure == null) {
                try {
                    paths.add(ino, p);
                } catch (StagingException e) {
                    failure = e;
                }
            }
        }

        @Override
        public void problem(DirectoryProblem p) {
            StringBuilder where = new StringBuilder(here(p.directory()));
            if (p.block() >= 0) {
                where.append(" block ").append(p.block());
            }
            if (p.offset() >= 0) {
                where.append(" offset ").append(p.offset());
            }
            out.add(where.toString(), p.kind().description() + ": " + p.detail(), null);
        }

        @Override
        public void entry(DirectoryEntry e) {
            flush(null);
            dotdot = null;
            if ((e.isDot() || e.isDotDot()) && typed && e.offset() >= 0 && e.type() != FileType.DIRECTORY) {
                // both name directories: "." its own, ".." its parent (a short-form ".." records no type)
                out.add(here(e.directory()) + " entry \"" + e.nameString() + "\"", "file type " + typeName(e.type())
                        + ", but it names a directory", typeName(FileType.DIRECTORY));
            }
            if (e.isDot()) {
                return;
            }
            if (e.isDotDot()) {
                link(e.directory(), LinkRecord.Kind.DOTDOT, e.child());
                dotdot = e; // its child's type follows
                return;
            }
            pending = e;
        }

        @Override
        public void child(long ino, FileType type) {
            if (dotdot != null) {
                if (type == null) {
                    inMap(dotdot);
                }
                dotdot = null;
                return;
            }
            flush(type);
        }

        /** The named inode is in the inode map and in use (unreadable ones are the inode walk's to report). */
        private void inMap(DirectoryEntry e) {
            if (failure != null || inodes == null) {
                return;
            }
            try {
                InodeMapRecord.State state = inodes.state(e.child());
                if (state == null) {
                    out.add(here(e.directory()) + " entry \"" + e.nameString() + "\"", "names inode " + e.child()
                            + ", which no inode chunk holds", null);
                } else if (state == InodeMapRecord.State.FREE) {
                    out.add(here(e.directory()) + " entry \"" + e.nameString() + "\"", "names inode " + e.child()
                            + ", which is free", null);
                }
            } catch (StagingException ex) {
                failure = ex;
            }
        }

        /** Stages the pending name, now that its child's type is known (null: not an inode in use, or not told). */
        private void flush(FileType childType) {
            DirectoryEntry e = pending;
            if (e == null) {
                return;
            }
            pending = null;
            if (childType == null) {
                // the named inode is not one in use: the inode map says whether it is free or not an inode at all (a
                // named inode that reads as in use is in use; an inode btree that disagrees is that check's finding)
                inMap(e);
            }
            if (typed && childType != null && e.type() != childType) {
                out.add(here(e.directory()) + " entry \"" + e.nameString() + "\"", "file type " + typeName(e.type())
                        + ", but inode " + e.child() + " is a " + typeName(childType), typeName(childType));
            }
            if (failure != null) {
                return;
            }
            hold(e);
            if (childType == FileType.DIRECTORY) {
                link(e.child(), LinkRecord.Kind.NAMED_BY, e.directory());
            }
        }

        private void link(long dir, LinkRecord.Kind kind, long other) {
            if (failure != null) {
                return;
            }
            try {
                link.set(dir, kind, other).appendTo(links);
            } catch (StagingException ex) {
                failure = ex;
            }
        }

        /** One name of the directory being read: held, or staged when the directory has outgrown the heap's bound. */
        private void hold(DirectoryEntry e) {
            long key = nameKey(e.name());
            if (e.directory() != heldDir) { // the walk tells a directory's entries together: a new one begins
                endDirectory();
                heldDir = e.directory();
                heldPath = path;
            }
            if (!spilled && held.add(e.hash(), key, e.child(), e.type(), e.name())) {
                return;
            }
            if (!spilled) { // stage what was held, then every later name of this directory
                spilled = true;
                held.forEach((hash, k, child, type, name) -> stage(heldDir, hash, k, child, type, name));
                held.clear();
            }
            stage(e.directory(), e.hash(), key, e.child(), e.type(), e.name());
        }

        private void stage(long dir, int hash, long key, long child, FileType type, byte[] name) {
            if (failure != null) {
                return;
            }
            try {
                rec.set(dir, hash, key, child, names.store(name), type).appendTo(entries);
            } catch (StagingException ex) {
                failure = ex;
            }
        }

        /** The directory whose names are held is complete: a name it holds twice is reported. */
        private void endDirectory() {
            if (heldDir >= 0 && !spilled) {
                String where = "directory " + heldPath + " (inode " + heldDir + ")";
                held.duplicates((name, first, child) -> out.add(where, "holds \"" + new String(name, StandardCharsets.UTF_8)
                        + "\" twice (inodes " + first + " and " + child + ")", null));
            }
            held.clear();
            heldDir = -1;
            spilled = false;
        }

        void finish() throws StagingException {
            flush(null);
            endDirectory();
            if (failure != null) {
                throw failure;
            }
            if (ctx.progress().isCancelled()) {
                throw new CancelledException("directory check cancelled");
            }
        }
    }

    private static String typeName(FileType t) {
        return t == null ? "unknown" : t.name().toLowerCase().replace('_', ' ');
    }

    /**
     * Every inode in use that no entry of the tree names is disconnected (xfs_repair moves it to lost+found): the
     * inode map and the link counts (the same walk's entries, already sorted by inode), merged. The root and the
     * metadata inodes the superblock names are named by none. Skipped without either observation.
     */
    private static void disconnected(ScrubContext ctx, Findings out, long root) throws Exception {
        disconnected(ctx, root, ino -> out.add("inode " + ino, "in use, but no directory reached from the root names it " + DISCONNECTED,
                null));
    }

    /** Receives the disconnected inodes. */
    interface Disconnected {
        void inode(long ino) throws Exception;
    }

    /** Each disconnected inode, in inode order (see {@link #disconnected(ScrubContext, Findings, long)}). */
    static void disconnected(ScrubContext ctx, long root, Disconnected out) throws Exception {
        XfArray map = ctx.observation(Observation.INODE_MAP);
        XfArray links = ctx.observation(Observation.LINK_COUNTS);
        if (map == null || links == null || root < 0) {
            return;
        }
        Set<Long> unnamed = namedByNone(ctx, root);
        InodeMapRecord inode = new InodeMapRecord();
        LinkCountRecord link = new LinkCountRecord();
        long n = link.loadNext(links, 0);
        long seen = 0;
        for (long i = inode.loadNext(map, 0); i >= 0; i = inode.loadNext(map, i + 1)) {
            if (++seen % CANCEL_CHECK == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("directory check cancelled");
            }
            long ino = inode.ino();
            // its records come together, its own (INODE) before those of the entries naming it
            while (n >= 0 && (link.ino() < ino || (link.ino() == ino && link.kind() == LinkCountRecord.Kind.INODE))) {
                n = link.loadNext(links, n + 1);
            }
            boolean isNamed = n >= 0 && link.ino() == ino && link.isEntry();
            if (!isNamed && inode.state() == InodeMapRecord.State.IN_USE && !unnamed.contains(ino)) { // cheapest test first
                out.inode(ino);
            }
        }
    }

    /** The inodes in use no entry names that are not disconnected: the root and the metadata inodes the superblock names. */
    static Set<Long> namedByNone(ScrubContext ctx, long root) throws Exception {
        Set<Long> unnamed = new java.util.HashSet<>(Set.of(root));
        Map<HeaderField, Long> sb = ctx.device().header(HeaderKind.SUPERBLOCK, 0);
        for (HeaderField f : List.of(HeaderField.SB_ROOTINO, HeaderField.SB_RBMINO, HeaderField.SB_RSUMINO, HeaderField.SB_UQUOTINO,
                HeaderField.SB_GQUOTINO, HeaderField.SB_PQUOTINO)) {
            Long ino = sb.get(f);
            if (ino != null) {
                unnamed.add(ino);
            }
        }
        return unnamed;
    }

    /** A 64-bit FNV-1a hash of a name: with the name hash, it sorts equal names next to each other. */
    static long nameKey(byte[] name) {
        long h = FNV_OFFSET;
        for (byte b : name) {
            h = (h ^ (b & BYTE)) * FNV_PRIME;
        }
        return h;
    }

    private static final long FNV_OFFSET = -3750763034362895579L;
    private static final long FNV_PRIME = 1099511628211L;
    private static final int BYTE = 255;

    /** Sorted by directory and name: a name held twice in one directory shows as neighbours with the same bytes. */
    private static void duplicateNames(ScrubContext ctx, XfArray entries, XfBlob names, DirectoryPaths paths, Findings out)
            throws StagingException {
        EntryRecord r = new EntryRecord();
        long prevParent = -1;
        int prevHash = 0;
        long prevKey = 0;
        long prevCookie = 0;
        long prevChild = -1;
        boolean havePrev = false;
        long seen = 0;
        for (long i = r.loadNext(entries, 0); i >= 0; i = r.loadNext(entries, i + 1)) {
            if (++seen % CANCEL_CHECK == 0 && ctx.progress().isCancelled()) {
                throw new CancelledException("directory check cancelled");
            }
            if (havePrev && r.parent() == prevParent && r.hash() == prevHash && r.nameKey() == prevKey) {
                byte[] name = names.load(r.cookie());
                if (Arrays.equals(name, names.load(prevCookie))) {
                    out.add("directory " + paths.name(r.parent()), "holds \"" + new String(name, StandardCharsets.UTF_8)
                            + "\" twice (inodes " + prevChild + " and " + r.child() + ")", null);
                    continue; // compare later copies with the first
                }
            }
            havePrev = true;
            prevParent = r.parent();
            prevHash = r.hash();
            prevKey = r.nameKey();
            prevCookie = r.cookie();
            prevChild = r.child();
        }
    }

    /**
     * Sorted by subdirectory: each one's group holds the directories naming it and its own "..". One directory must
     * name it (none the root), and its ".." must be that directory.
     */
    private static void parents(ScrubContext ctx, XfArray links, DirectoryPaths paths, Findings out, long root)
            throws StagingException {
        LinkRecord r = new LinkRecord();
        long i = r.loadNext(links, 0);
        long seen = 0;
        while (i >= 0) {
            long dir = r.dir();
            long named = 0;
            long[] parents = new long[PARENTS_LISTED];
            long dotdot = -1;
            do {
                if (++seen % CANCEL_CHECK == 0 && ctx.progress().isCancelled()) {
                    throw new CancelledException("directory check cancelled");
                }
                if (r.kind() == LinkRecord.Kind.NAMED_BY) {
                    if (named < PARENTS_LISTED) {
                        parents[(int) named] = r.other();
                    }
                    named++;
                } else {
                    dotdot = r.other();
                }
                i = r.loadNext(links, i + 1);
            } while (i >= 0 && r.dir() == dir);
            if (named > 1 || (named == 1 && dir == root)) {
                StringBuilder by = new StringBuilder();
                for (int k = 0; k < Math.min(named, PARENTS_LISTED); k++) {
                    by.append(k == 0 ? "" : ", ").append(paths.name(parents[k]));
                }
                out.add("directory " + paths.name(dir), (dir == root ? "the root directory is named by " : "named by ") + named
                        + (named == 1 ? " directory: " : " directories: ") + by + (named > PARENTS_LISTED ? ", ..." : ""),
                        dir == root ? "none" : "one");
            } else if (named == 1 && dotdot >= 0 && dotdot != parents[0] && dotdot != dir) {
                // (a ".." naming its own directory is reported by the device)
                out.add("directory " + paths.name(dir), ".. names " + paths.name(dotdot) + ", but the directory is in "
                        + paths.name(parents[0]), String.valueOf(parents[0]));
            }
        }
    }
}
