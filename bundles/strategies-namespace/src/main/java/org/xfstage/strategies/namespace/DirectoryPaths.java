package org.xfstage.strategies.namespace;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.Progress;

/**
 * The path of every directory the walk read, for messages about it once the walk is over: (inode, path cookie)
 * records staged beside the entries, the paths in the names blob, sorted by inode and found by binary search.
 */
final class DirectoryPaths implements AutoCloseable {
    private static final int SIZE = 16;
    private static final int INO = 0;
    private static final int COOKIE = 8;

    private final XfArray paths;
    private final XfBlob blob;
    private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

    DirectoryPaths(XfArrayFactory arrays, XfBlob blob) throws StagingException {
        this.paths = arrays.create("directory check: paths", SIZE);
        this.blob = blob;
    }

    void add(long ino, String path) throws StagingException {
        long cookie = blob.store(path.getBytes(StandardCharsets.UTF_8));
        buf.clear();
        buf.putLong(ino + 1).putLong(cookie).flip();
        paths.append(buf);
    }

    void sort(Progress progress) throws StagingException {
        paths.sort(RecordComparator.unsignedLongs(1), SortOptions.DEFAULT, progress);
    }

    /** "/a/b (inode 131)", or "inode 131" when the walk did not read it. */
    String name(long ino) throws StagingException {
        long lo = 0;
        long hi = paths.length() - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            paths.load(mid, buf);
            long at = buf.getLong(INO) - 1;
            if (at < ino) {
                lo = mid + 1;
            } else if (at > ino) {
                hi = mid - 1;
            } else {
                return new String(blob.load(buf.getLong(COOKIE)), StandardCharsets.UTF_8) + " (inode " + ino + ")";
            }
        }
        return "inode " + ino;
    }

    @Override
    public void close() {
        paths.close();
    }
}
