package org.xfstage.strategies.namespace;

import java.nio.ByteBuffer;

import org.xfstage.api.device.FileType;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * One directory entry as the directory check stages it, read and written in place (a reusable flyweight): the
 * directory holding it, the name's hash and a second hash of its bytes, the inode it names, the cookie of its name
 * in the names blob, what it is ("." and ".." are kept apart from names) and the key it joins on. Names are never
 * held here, only their cookies.
 * <p>
 * Two orders are used: {@link #BY_NAME} brings the entries of one directory with one name together (equal names
 * have equal hashes); {@link #BY_JOIN} brings a subdirectory together with the entries naming it and its own "..".
 */
final class EntryRecord {
    /** Bytes per record. */
    static final int SIZE = 56;

    /** What a record stands for. */
    enum Kind {
        /** A name in a directory (not "." or ".."). */
        NAME,
        /** A directory's "." entry. */
        DOT,
        /** A directory's ".." entry. */
        DOTDOT
    }

    // fields, big-endian: parent + 1 (never an all-zero record), hash, name key, child, name cookie, join key, then
    // kind, entry type (FileType ordinal + 1, 0 for none), whether the child is a directory
    private static final int PARENT = 0;
    private static final int HASH = 8;
    private static final int NAME_KEY = 16;
    private static final int CHILD = 24;
    private static final int COOKIE = 32;
    private static final int JOIN = 40;
    private static final int KIND = 48;
    private static final int TYPE = 49;
    private static final int CHILD_DIR = 50;
    private static final int LONGS_BY_NAME = 3;
    /** The join key of records that join nothing: they sort after every inode number. */
    static final long NO_JOIN = -1L;

    /** Entries of one directory by name: parent, then hash, then name key. */
    static final RecordComparator BY_NAME = RecordComparator.unsignedLongs(LONGS_BY_NAME);

    /** Records by join key (a subdirectory's inode), then kind (names before ".."). */
    static final RecordComparator BY_JOIN = new RecordComparator() {
        @Override
        public int compare(ByteBuffer a, int aOffset, ByteBuffer b, int bOffset) {
            int c = Long.compareUnsigned(a.getLong(aOffset + JOIN), b.getLong(bOffset + JOIN));
            return c != 0 ? c : Byte.compare(a.get(aOffset + KIND), b.get(bOffset + KIND));
        }

        @Override
        public KeyPrefix keyPrefix() {
            return new KeyPrefix(JOIN, Long.BYTES);
        }
    };

    private static final Kind[] KINDS = Kind.values();
    private static final FileType[] TYPES = FileType.values();
    private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

    long parent() {
        return buf.getLong(PARENT) - 1;
    }

    int hash() {
        return (int) buf.getLong(HASH);
    }

    long nameKey() {
        return buf.getLong(NAME_KEY);
    }

    long child() {
        return buf.getLong(CHILD);
    }

    long cookie() {
        return buf.getLong(COOKIE);
    }

    long join() {
        return buf.getLong(JOIN);
    }

    Kind kind() {
        return KINDS[buf.get(KIND)];
    }

    /** The file type the entry records, or null for none. */
    FileType type() {
        int t = buf.get(TYPE);
        return t == 0 ? null : TYPES[t - 1];
    }

    boolean childIsDirectory() {
        return buf.get(CHILD_DIR) != 0;
    }

    /**
     * Sets every field. A name whose child is a directory joins on the child; a ".." joins on its own directory (the
     * child it should be the parent of); the rest join nothing.
     */
    EntryRecord set(long parent, int hash, long nameKey, long child, long cookie, Kind kind, FileType type, boolean childDir) {
        long join = kind == Kind.DOTDOT ? parent : kind == Kind.NAME && childDir ? child : NO_JOIN;
        buf.clear();
        buf.putLong(parent + 1).putLong(Integer.toUnsignedLong(hash)).putLong(nameKey).putLong(child).putLong(cookie).putLong(join)
                .put((byte) kind.ordinal()).put((byte) (type == null ? 0 : type.ordinal() + 1)).put((byte) (childDir ? 1 : 0));
        while (buf.hasRemaining()) {
            buf.put((byte) 0);
        }
        buf.flip();
        return this;
    }

    /** Appends this record to {@code array}. */
    void appendTo(XfArray array) throws StagingException {
        buf.rewind();
        array.append(buf);
        buf.rewind();
    }

    /** Loads the first record at or after {@code from} into this; its index, or -1 at the end. */
    long loadNext(XfArray array, long from) throws StagingException {
        return array.loadNext(from, buf);
    }
}
