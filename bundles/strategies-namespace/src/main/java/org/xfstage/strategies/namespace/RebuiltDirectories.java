package org.xfstage.strategies.namespace;

import java.util.HashSet;
import java.util.Set;

import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The directories a directory rebuild may write, known before its entries are sorted, so that only their entries are
 * (DirectoryRebuildPlan): sorting every entry of the tree twice to find the names held twice took two thirds of the
 * plan on the 200,448-inode benchmark, where one directory of 500 entries was rebuilt. A superset is enough: the sort
 * of a directory that is not rebuilt finds nothing and costs only its entries.
 * <p>
 * While the walk is replayed, each directory's salvaged names (as the rebuild will write them, cut at a '/' or NUL) are
 * held on the heap up to {@link DirectoryNames}' bound, as the directory check holds them: a directory holding a name
 * twice, or too large to hold, is one. After the replay: every directory damaged by then, the root and its
 * lost+found (a lost+found made or filled later rebuilds them), and from the sorted links between directories each
 * directory named by two or more (and every directory naming it: their entries for it are dropped) or whose ".." is
 * not the one directory naming it. Past {@link #MOST} directories, or when the replay does not tell each directory's
 * entries together, it gives up ({@link #all()}): the caller sorts every entry, as before; so large a plan is refused
 * by its bound on rebuilt directories anyway.
 */
final class RebuiltDirectories {
    /** Directories held at most (each a boxed number on the heap): the rebuild's bound on rebuilt ones, three times over. */
    static final int MOST = 3 * DirectoryRebuildPlan.MAX_DIRECTORIES + 2;

    private final DirectoryNames held = new DirectoryNames();
    private final Set<Long> dirs = new HashSet<>();
    /** The directory whose entries are being told, or -1 between directories. */
    private long current = -1;
    private boolean spilled;
    private boolean all;

    /** The replay reached directory {@code ino}: the entries it tells next are that directory's. */
    void directory(long ino) {
        endDirectory();
        current = ino;
    }

    /** One salvaged entry of directory {@code dir}, its name as it will be written and that name's key. */
    void entry(long dir, long key, byte[] name) {
        if (all) {
            return;
        }
        if (dir != current) { // the walk reads a directory once and tells its entries together: never here, but sure
            all = true;
            return;
        }
        if (spilled) {
            return;
        }
        if (!held.add(0, key, 0, null, name)) {
            spilled = true; // too many names for the heap: its entries are sorted to find the names held twice
            held.clear();
            add(dir);
        }
    }

    /** The replay is over. */
    void endReplay() {
        endDirectory();
    }

    private void endDirectory() {
        if (current >= 0 && !spilled && !all) {
            long dir = current;
            boolean[] twice = {false};
            held.duplicates((name, first, child) -> twice[0] = true);
            if (twice[0]) {
                add(dir);
            }
        }
        held.clear();
        current = -1;
        spilled = false;
    }

    /** Adds {@code dir} (a directory damaged, the root, lost+found); -1 is none. */
    void add(long dir) {
        if (dir >= 0 && !all && dirs.add(dir) && dirs.size() > MOST) {
            all = true;
            dirs.clear();
        }
    }

    /**
     * From the links between directories (sorted by {@link LinkRecord#ORDER}): a directory named by two or more and
     * those naming it, and one whose ".." is not the directory naming it (the rebuild's rules in its parents pass).
     */
    void fromLinks(XfArray links) throws StagingException {
        LinkRecord r = new LinkRecord();
        java.util.List<Long> namers = new java.util.ArrayList<>(); // of one directory: almost always one
        long i = r.loadNext(links, 0);
        while (i >= 0 && !all) {
            long dir = r.dir();
            long dotdot = -1;
            namers.clear();
            do {
                if (r.kind() == LinkRecord.Kind.NAMED_BY) {
                    if (namers.size() <= MOST) { // past it, all() holds anyway
                        namers.add(r.other());
                    }
                } else {
                    dotdot = r.other();
                }
                i = r.loadNext(links, i + 1);
            } while (i >= 0 && r.dir() == dir);
            if (namers.size() > 1) {
                add(dir);
                namers.forEach(this::add);
            } else if (namers.size() == 1 && dotdot != namers.get(0)) {
                add(dir);
            }
        }
    }

    /** Whether every directory's entries must be sorted (too many directories, or the walk out of its order). */
    boolean all() {
        return all;
    }

    /** Whether {@code dir}'s entries may be written by the rebuild. */
    boolean contains(long dir) {
        return all || dirs.contains(dir);
    }

    /** The directories held (none when {@link #all()}). */
    Set<Long> directories() {
        return java.util.Collections.unmodifiableSet(dirs);
    }

    /** How many directories (for the figures; 0 when {@link #all()}). */
    int size() {
        return dirs.size();
    }
}
