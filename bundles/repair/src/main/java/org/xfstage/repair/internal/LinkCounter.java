package org.xfstage.repair.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

import org.xfstage.api.device.FileType;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * Stages the LINK_COUNTS observation from the tree walk: each inode with its on-disk link count, each entry naming
 * it, and each subdirectory's ".." naming its parent. The walk is depth first, so the parent of an entry is on a
 * stack of the directories above it (heap bounded by the tree's depth, not its size).
 */
final class LinkCounter implements Consumer<ManifestEntry> {

    private record Dir(String path, long ino) {
    }

    private final XfArray links;
    private final Deque<Dir> ancestors = new ArrayDeque<>();
    private final LinkCountRecord rec = new LinkCountRecord();
    private StagingException failure;

    LinkCounter(XfArray links) {
        this.links = links;
    }

    @Override
    public void accept(ManifestEntry e) {
        boolean dir = e.type() == FileType.DIRECTORY;
        add(rec.inode(e.inode(), e.nlink(), dir));
        if (!e.path().equals("/")) {
            String parent = e.path().substring(0, Math.max(1, e.path().lastIndexOf('/')));
            while (!ancestors.isEmpty() && !ancestors.peek().path().equals(parent)) {
                ancestors.pop();
            }
            if (!ancestors.isEmpty()) {
                long p = ancestors.peek().ino();
                add(rec.link(e.inode(), LinkCountRecord.Kind.ENTRY));
                if (dir) {
                    add(rec.link(p, LinkCountRecord.Kind.DOTDOT));
                }
            }
        }
        if (dir) {
            ancestors.push(new Dir(e.path(), e.inode()));
        }
    }

    private void add(LinkCountRecord r) {
        if (failure != null) {
            return;
        }
        try {
            r.appendTo(links);
        } catch (StagingException ex) {
            failure = ex;
        }
    }

    void finish() throws StagingException {
        if (failure != null) {
            throw failure;
        }
    }
}
