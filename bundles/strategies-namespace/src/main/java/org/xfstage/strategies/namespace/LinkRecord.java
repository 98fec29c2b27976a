package org.xfstage.strategies.namespace;

import java.nio.ByteBuffer;

import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * One link between directories, staged by the directory check (a reusable flyweight): a name that names a
 * subdirectory, or a directory's "..", both keyed by the subdirectory. Sorted by {@link #ORDER}, a subdirectory's
 * naming entries and its own ".." come together.
 */
final class LinkRecord {
    /** Bytes per record. */
    static final int SIZE = 24;
    /** By subdirectory, then kind (names before ".."). */
    static final RecordComparator ORDER = RecordComparator.unsignedLongs(2);

    /** What a record says about its subdirectory. */
    enum Kind {
        /** A directory holds a name for it ({@link #other()}: that directory). */
        NAMED_BY,
        /** Its own ".." ({@link #other()}: the directory it names). */
        DOTDOT
    }

    // subdirectory + 1 (never an all-zero record), kind, the other directory; big-endian
    private static final int DIR = 0;
    private static final int KIND = 8;
    private static final int OTHER = 16;
    private static final Kind[] KINDS = Kind.values();
    private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

    long dir() {
        return buf.getLong(DIR) - 1;
    }

    Kind kind() {
        return KINDS[(int) buf.getLong(KIND)];
    }

    long other() {
        return buf.getLong(OTHER);
    }

    LinkRecord set(long dir, Kind kind, long other) {
        buf.clear();
        buf.putLong(dir + 1).putLong(kind.ordinal()).putLong(other).flip();
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
