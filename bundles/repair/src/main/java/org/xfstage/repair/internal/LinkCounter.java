package org.xfstage.repair.internal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

import org.xfstage.api.device.FileType;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * Stages the LINK_COUNTS observation from the tree walk: each inode with its on-disk link count, each entry naming
 * it, and each subdirectory's ".." naming its parent. The walk is depth first, so the parent of an entry is on a
 * stack of the directories above it (heap bounded by the tree's depth, not its size).
 */
final class LinkCounter implements Consumer<ManifestEntry> {
    static final int RECORD = 24;
    static final long KIND_SELF = 0;
    static final long KIND_ENTRY = 1;
    static final long KIND_DOTDOT = 2;

    private record Dir(String path, long ino) {
    }

    private final XfArray links;
    private final Deque<Dir> ancestors = new ArrayDeque<>();
    private final ByteBuffer rec = ByteBuffer.allocate(RECORD);
    private StagingException failure;

    LinkCounter(XfArray links) {
        this.links = links;
    }

    @Override
    public void accept(ManifestEntry e) {
        boolean dir = e.type() == FileType.DIRECTORY;
        add(e.inode(), KIND_SELF, (e.nlink() & 0xffffffffL) | (dir ? 1L << 32 : 0));
        if (!e.path().equals("/")) {
            String parent = e.path().substring(0, Math.max(1, e.path().lastIndexOf('/')));
            while (!ancestors.isEmpty() && !ancestors.peek().path().equals(parent)) {
                ancestors.pop();
            }
            if (!ancestors.isEmpty()) {
                long p = ancestors.peek().ino();
                add(e.inode(), KIND_ENTRY, 0);
                if (dir) {
                    add(p, KIND_DOTDOT, 0);
                }
            }
        }
        if (dir) {
            ancestors.push(new Dir(e.path(), e.inode()));
        }
    }

    private void add(long ino, long kind, long value) {
        if (failure != null) {
            return;
        }
        rec.clear();
        rec.putLong(ino + 1).putLong(kind).putLong(value).flip();
        try {
            links.append(rec);
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
