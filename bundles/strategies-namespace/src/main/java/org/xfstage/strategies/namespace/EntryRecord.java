package org.xfstage.strategies.namespace;

import java.nio.ByteBuffer;

import org.xfstage.api.device.FileType;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * One name of a directory (not "." or "..") as the directory check stages it, read and written in place (a reusable
 * flyweight): the directory holding it, the name's hash, a second 64-bit hash of its bytes, the inode it names, the
 * cookie of the name in the names blob and the file type the entry records. Names are never held here, only their
 * cookies.
 * <p>
 * The first 8 bytes mix the directory and the name's second hash, so that the xfarray's radix pass (on those 8
 * bytes) already brings equal names of one directory together; {@link #ORDER} settles the rare ties of different
 * names by directory, hash and second hash.
 */
final class EntryRecord {
    /** Bytes per record. */
    static final int SIZE = 49;

    // fields, big-endian: sort key, parent + 1 (never an all-zero record), hash (as a long, so that the type stays
    // out of the compared part), name key, child, name cookie, type
    private static final int KEY = 0;
    private static final int PARENT = 8;
    private static final int HASH = 16;
    private static final int NAME_KEY = 24;
    private static final int CHILD = 32;
    private static final int COOKIE = 40;
    private static final int TYPE = 48;
    /** Multiplier of the 64-bit mix (a golden-ratio odd constant): spreads directories over the key's high bits. */
    private static final long MIX = -7046029254386353131L;
    private static final int LONGS = 4;

    /** By sort key, then directory, hash and name key: names of one directory with equal bytes are neighbours. */
    static final RecordComparator ORDER = RecordComparator.unsignedLongs(LONGS);

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

    /** The file type the entry records, or null for none. */
    FileType type() {
        int t = buf.get(TYPE);
        return t == 0 ? null : TYPES[t - 1];
    }

    /** Sets every field. */
    EntryRecord set(long parent, int hash, long nameKey, long child, long cookie, FileType type) {
        buf.clear();
        buf.putLong((parent * MIX) ^ nameKey).putLong(parent + 1).putLong(Integer.toUnsignedLong(hash)).putLong(nameKey)
                .putLong(child).putLong(cookie).put((byte) (type == null ? 0 : type.ordinal() + 1)).flip();
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
