package org.xfstage.strategies.namespace;

import java.nio.ByteBuffer;

import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * An inode an entry of the tree names, staged by the directory check (a reusable flyweight): sorted, merged with the
 * inode map, the inodes in use that none names show.
 */
final class NamedRecord {
    /** Bytes per record. */
    static final int SIZE = 8;
    /** By inode. */
    static final RecordComparator ORDER = RecordComparator.unsignedLongs(1);

    // inode + 1 (never an all-zero record); big-endian
    private static final int INO = 0;
    private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

    long ino() {
        return buf.getLong(INO) - 1;
    }

    NamedRecord set(long ino) {
        buf.clear();
        buf.putLong(ino + 1).flip();
        return this;
    }

    void appendTo(XfArray array) throws StagingException {
        buf.rewind();
        array.append(buf);
        buf.rewind();
    }

    long loadNext(XfArray array, long from) throws StagingException {
        return array.loadNext(from, buf);
    }
}
