package org.xfstage.device.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectoryProblem.Kind;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;

/**
 * The walk of the directory tree for checking it: every directory reached from the root is read once by the verifying
 * reader, and every inode an entry other than "." names is read for its type and link count (one inode read per entry,
 * as the manifest's walk does; the engine counts links from this walk, so nothing reads the tree twice). A directory named a second time is not read again (the caller sees both entries); the walk goes on past
 * any damage. The heap holds the directories still to read and the set of those read, as the manifest's walk does.
 */
final class DirectoryTree {
    /** Deepest nesting followed (as the manifest's walk): PATH_MAX allows about 2048. */
    private static final int MAX_DEPTH = 4096;

    private final Image image;
    private final Geometry g;
    private final InodeNumbers inodes;
    private final Directories directories;

    DirectoryTree(Image image, Geometry g, InodeNumbers inodes, Directories directories) {
        this.image = image;
        this.g = g;
        this.inodes = inodes;
        this.directories = directories;
    }

    private record Pending(long ino, String path, int depth) {
    }

    void walk(Progress progress, DirectorySink sink) throws CancelledException {
        walk(progress, sink, 1);
    }

    /**
     * The walk, with {@code threads} above one read on a thread of its own while the caller's thread tells {@code sink}
     * the events in the same order ({@link TreeWalkPipe}): what is read, and so the order, never depends on the sink.
     */
    void walk(Progress progress, DirectorySink sink, int threads) throws CancelledException {
        Progress p = progress == null ? Progress.NONE : progress;
        if (threads < 2) {
            read(new Steps() {
                @Override
                public void next() throws CancelledException {
                    if (p.isCancelled()) {
                        throw new CancelledException("directory walk cancelled");
                    }
                }

                @Override
                public void done() {
                    p.increment(1);
                }
            }, sink);
        } else {
            new TreeWalkPipe(this::read).walk(p, sink);
        }
    }

    /**
     * The walk's two points that are not the sink's: before each directory taken from the stack (where it may be
     * cancelled), and after each directory read (one unit of progress). A piped walk tells both on the caller's thread.
     */
    interface Steps {
        void next() throws CancelledException;

        void done();
    }

    /** The walk itself: reads the tree and tells {@code sink} and {@code steps} in the walk's order. */
    void read(Steps steps, DirectorySink sink) throws CancelledException {
        Deque<Pending> stack = new ArrayDeque<>();
        Set<Long> read = new HashSet<>();
        stack.push(new Pending(g.rootIno, "/", 0));
        while (!stack.isEmpty()) {
            steps.next();
            Pending at = stack.pop();
            if (!read.add(at.ino())) {
                continue;
            }
            Inode dir;
            try {
                dir = Inode.read(image, g, at.ino());
            } catch (XfsException e) {
                sink.directory(at.ino(), at.path(), -1);
                sink.problem(new DirectoryProblem(at.ino(), Kind.UNREADABLE, -1, -1, e.getMessage(), true));
                continue;
            }
            sink.directory(at.ino(), at.path(), dir.nlink & 0xffffffffL);
            try {
                if (dir.type() != FileType.DIRECTORY) {
                    sink.problem(new DirectoryProblem(at.ino(), Kind.FORMAT, -1, -1, "the root inode is not a directory", true));
                    continue;
                }
            } catch (XfsException e) {
                sink.problem(new DirectoryProblem(at.ino(), Kind.UNREADABLE, -1, -1, e.getMessage(), true));
                continue;
            }
            List<Pending> subdirs = new ArrayList<>();
            String prefix = at.path().equals("/") ? "/" : at.path() + "/";
            directories.read(dir, new DirectorySink() {
                @Override
                public void entry(DirectoryEntry e) {
                    sink.entry(e);
                    if (e.isDot()) {
                        return;
                    }
                    Named child = named(e.child());
                    FileType type = child == null ? null : child.type();
                    sink.child(e.child(), type, child == null ? -1 : child.nlink());
                    if (e.isDotDot()) {
                        return;
                    }
                    if (type == FileType.DIRECTORY && !read.contains(e.child())) {
                        subdirs.add(new Pending(e.child(), prefix + Directories.printable(e.name()), at.depth() + 1));
                    }
                }

                @Override
                public void problem(DirectoryProblem problem) {
                    sink.problem(problem);
                }
            }, true);
            steps.done();
            if (at.depth() >= MAX_DEPTH && !subdirs.isEmpty()) {
                // not the directory's format (a repair clears a directory of bad format): its subtree is not read
                sink.problem(new DirectoryProblem(at.ino(), Kind.UNREADABLE, -1, -1, "directory tree deeper than " + MAX_DEPTH
                        + " at " + at.path() + ": not followed further", false));
                continue;
            }
            for (int i = subdirs.size() - 1; i >= 0; i--) {
                stack.push(subdirs.get(i));
            }
        }
    }

    /** What the walk tells of a named inode: its type and link count. */
    private record Named(FileType type, long nlink) {
    }

    /** The inode an entry names, or null when it is no readable inode in use. */
    private Named named(long ino) {
        if (!inodes.validForEntry(ino)) {
            return null;
        }
        try {
            Inode child = Inode.read(image, g, ino);
            return child.mode == 0 ? null : new Named(child.type(), child.nlink & 0xffffffffL);
        } catch (XfsException e) {
            return null; // free, unreadable or not an inode: the inode walk and the inode map say which
        }
    }
}
