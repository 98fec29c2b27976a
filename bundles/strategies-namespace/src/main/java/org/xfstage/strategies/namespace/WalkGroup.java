package org.xfstage.strategies.namespace;

import java.nio.ByteBuffer;

import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * What the directory rebuild's pass by directory (DirectoryRebuildPlan) learns of one directory of the walk without
 * reading most of its names: whether the rebuild has anything to say about it ({@link #replay}), and, when it has not,
 * the links between directories it gives, held here until the directory's last record so that they are staged in the
 * walk's order. A directory that is replayed has its records read again, names and all, by the rebuild's own rules.
 * <p>
 * A name held twice shows as a hash held twice: the device hashes each name as the filesystem does (DirectoryEntry's
 * hash), so equal names have equal hashes; the hashes are held in a small open-addressing table (no name is loaded),
 * and any hash met twice makes the directory one to replay, where the names themselves are compared. Past
 * {@link #MOST_NAMES} names or {@link #MOST_LINKS} links the directory is replayed too: the heap holds one bounded
 * directory at a time, as DirectoryNames does.
 */
final class WalkGroup {
    /** Hashes held for one directory at most (DirectoryNames' bound on names held). */
    static final int MOST_NAMES = DirectoryNames.MAX_NAMES;
    /** Links held for one directory at most (each three longs). */
    static final int MOST_LINKS = 4096;
    private static final int FIRST = 1024;
    /** Table slots kept from one directory to the next (larger tables of rare large directories are given back). */
    private static final int KEEP = 16_384;
    /** Links kept room for from one directory to the next. */
    private static final int KEEP_LINKS = 1024;
    /** Multiplier of the hash's mix into a slot (the 32-bit golden-ratio odd constant). */
    private static final int MIX = -1640531527;

    private long dir = -1;
    private long start;
    /** Whether the rebuild reads this directory's records again, names and all. */
    boolean replay;
    /** Whether its ".." was told (its name read): a directory without one is replayed. */
    boolean dotdot;

    // the hashes of the names: a slot is used when its stamp is the current one (so nothing is cleared per directory)
    private int[] hashes = new int[FIRST];
    private int[] stamps = new int[FIRST];
    private int stamp = 1;
    private int names;

    // the links: subdirectory, kind, other directory, in the order they were told
    private long[] links = new long[3 * 64];
    private int linkCount;

    /** The walk reached directory {@code ino}, whose record is at {@code index}: nothing is known of it yet. */
    void start(long ino, long index) {
        dir = ino;
        start = index;
        replay = false;
        dotdot = false;
        names = 0;
        linkCount = 0;
        if (hashes.length > KEEP) {
            hashes = new int[FIRST];
            stamps = new int[FIRST];
        }
        if (++stamp == 0) { // every 2^32 directories: the stamps wrap, so the table is cleared once
            java.util.Arrays.fill(stamps, 0);
            stamp = 1;
        }
        if (links.length > 3 * KEEP_LINKS) {
            links = new long[3 * 64];
        }
    }

    /** The directory being told, or -1 before the first. */
    long dir() {
        return dir;
    }

    /** The index of its record in the walk. */
    long start() {
        return start;
    }

    /** One name of it, by its hash: a hash met before (maybe the same name) makes it one to replay. */
    void name(int hash) {
        if (replay) {
            return;
        }
        if (names >= MOST_NAMES) {
            replay = true;
            return;
        }
        if (2 * (names + 1) > hashes.length) {
            grow();
        }
        if (!insert(hashes, stamps, hash)) {
            replay = true;
            return;
        }
        names++;
    }

    /** Inserts {@code hash}; false when it is there already. */
    private boolean insert(int[] table, int[] used, int hash) {
        int mask = table.length - 1;
        int slot = (hash * MIX) >>> (32 - Integer.numberOfTrailingZeros(table.length));
        while (used[slot] == stamp) { // the table is never more than half full: the probe ends
            if (table[slot] == hash) {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        used[slot] = stamp;
        table[slot] = hash;
        return true;
    }

    private void grow() {
        int[] t = new int[hashes.length * 2];
        int[] u = new int[t.length];
        for (int i = 0; i < hashes.length; i++) {
            if (stamps[i] == stamp) {
                insert(t, u, hashes[i]);
            }
        }
        hashes = t;
        stamps = u;
    }

    /** One link between directories it gives, staged at its end unless it is replayed. */
    void link(long subdirectory, LinkRecord.Kind kind, long other) {
        if (replay) {
            return;
        }
        if (linkCount >= MOST_LINKS) {
            replay = true;
            return;
        }
        if (3 * (linkCount + 1) > links.length) {
            links = java.util.Arrays.copyOf(links, Math.min(3 * MOST_LINKS, links.length * 2));
        }
        links[3 * linkCount] = subdirectory;
        links[3 * linkCount + 1] = kind.ordinal();
        links[3 * linkCount + 2] = other;
        linkCount++;
    }

    /** Stages the links held, in the order they were told. */
    void stageLinks(LinkRecord rec, XfArray to) throws StagingException {
        LinkRecord.Kind[] kinds = LinkRecord.Kind.values();
        for (int i = 0; i < linkCount; i++) {
            rec.set(links[3 * i], kinds[(int) links[3 * i + 1]], links[3 * i + 2]).appendTo(to);
        }
    }

    /**
     * Where a directory that is not replayed begins in the walk (a reusable flyweight): the directory + 1 (never an
     * all-zero record) and the index of its record, so that the few the rebuild needs after all are read again
     * without reading the walk again.
     */
    static final class Start {
        static final int SIZE = 16;
        // fields, big-endian, in this order
        private static final int DIR = 0;
        private static final int INDEX = 8;
        private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

        Start set(long ino, long index) {
            buf.clear();
            buf.putLong(ino + 1).putLong(index).flip();
            return this;
        }

        long dir() {
            return buf.getLong(DIR) - 1;
        }

        long index() {
            return buf.getLong(INDEX);
        }

        void appendTo(XfArray a) throws StagingException {
            buf.rewind();
            a.append(buf);
            buf.rewind();
        }

        long loadNext(XfArray a, long from) throws StagingException {
            return a.loadNext(from, buf);
        }
    }
}
