package org.xfstage.repair.internal;

import java.nio.charset.StandardCharsets;

import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * Receives the device's tree walk (each directory reached from the root read once by its verifying reader, each inode
 * an entry names read for its type and link count) and stages, from that one read, two observations: LINK_COUNTS
 * (each entry naming an inode in use, with that inode's on-disk link count, in one record; an entry naming none; the
 * root; and for each subdirectory a ".." naming the directory whose entry names it) and DIRECTORY_WALK (what the reader told, in order, for the directory check: so
 * that check reads no directory again). An entry's directory is its inode number, never derived from a path (names
 * may hold '/'); the walk goes on past damage, so entries after a broken directory are still counted.
 */
final class LinkCounter implements DirectorySink {
    private final XfArray links;
    private final XfArray walk;
    private final XfBlob bytes;
    private final LinkCountRecord rec = new LinkCountRecord();
    private final DirectoryWalkRecord told = new DirectoryWalkRecord();
    /** An entry other than ".", staged once the inode it names has been read (the walk tells it right after). */
    private DirectoryEntry pending;
    private long pendingCookie;
    private StagingException failure;
    /** Where the walk's next record goes (see the constructor), or -1: appended. */
    private long at;

    /**
     * @param links the LINK_COUNTS array, or null to stage only the walk (WalkForPlans: the counts are staged already)
     * @param walk  the DIRECTORY_WALK array, or null to stage only link counts
     * @param bytes its blob (names, paths, details)
     */
    LinkCounter(XfArray links, XfArray walk, XfBlob bytes) {
        this(links, walk, bytes, -1);
    }

    /**
     * @param at the index the walk's first record is stored at, the next ones after it (LateWalkRecord: a record staged
     *           in two parts, the later first); -1: appended
     */
    LinkCounter(XfArray links, XfArray walk, XfBlob bytes, long at) {
        this.links = links;
        this.walk = walk;
        this.bytes = bytes;
        this.at = at;
    }

    /** Stages {@code r} into the walk's array: appended, or at the next index when a start was given. */
    private void stage(DirectoryWalkRecord r) throws StagingException {
        if (at < 0) {
            r.appendTo(walk);
        } else {
            r.storeTo(walk, at++);
        }
    }

    @Override
    public void directory(long ino, String path, long nlink) {
        flush(false, null);
        if (nlink >= 0 && path.equals("/")) {
            add(rec.inode(ino, nlink, true)); // every other directory is counted as the child of an entry
        }
        if (walk != null && failure == null) {
            try {
                stage(told.directory(ino, bytes.store(path.getBytes(StandardCharsets.UTF_8))));
            } catch (StagingException e) {
                failure = e;
            }
        }
    }

    @Override
    public void entry(DirectoryEntry e) {
        flush(false, null);
        if (walk == null || failure != null) {
            pending = e;
            return;
        }
        try {
            pendingCookie = bytes.store(e.name());
            pending = e;
            if (e.isDot()) { // the walk reads no inode for "."
                flush(false, null);
            }
        } catch (StagingException ex) {
            failure = ex;
        }
    }

    @Override
    public void child(long ino, FileType type, long nlink) {
        DirectoryEntry e = pending;
        flush(true, type);
        if (e == null || e.isDotDot()) {
            return; // a ".." is counted from the entry that names the subdirectory
        }
        boolean dir = type == FileType.DIRECTORY;
        if (ino < 0 || ino > LinkCountRecord.MAX_INO) {
            return; // no inode of any filesystem: the directory check reports the entry, no link count can hold it
        }
        // an inode in use: one record says both what it reads and that this entry names it
        add(nlink >= 0 ? rec.named(ino, nlink, dir) : rec.link(ino, LinkCountRecord.Kind.ENTRY));
        if (dir) {
            add(rec.link(e.directory(), LinkCountRecord.Kind.DOTDOT));
        }
    }

    @Override
    public void problem(DirectoryProblem p) {
        flush(false, null);
        if (walk == null || failure != null) {
            return;
        }
        try {
            stage(told.problem(p, bytes.store(p.detail().getBytes(StandardCharsets.UTF_8))));
        } catch (StagingException e) {
            failure = e;
        }
    }

    /** Stages the pending entry, with the type of the inode it names when {@code childTold}. */
    private void flush(boolean childTold, FileType childType) {
        DirectoryEntry e = pending;
        pending = null;
        if (e == null || walk == null || failure != null) {
            return;
        }
        try {
            stage(told.entry(e, pendingCookie, childTold, childType));
        } catch (StagingException ex) {
            failure = ex;
        }
    }

    private void add(LinkCountRecord r) {
        if (failure != null || links == null) {
            return;
        }
        try {
            r.appendTo(links);
        } catch (StagingException ex) {
            failure = ex;
        }
    }

    void finish() throws StagingException {
        flush(false, null);
        if (failure != null) {
            throw failure;
        }
    }
}
