package org.xfstage.strategies.space;

import java.nio.ByteBuffer;

import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.RefcountExtent;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;

/**
 * An extent of one AG that this bundle stages in its own xfarrays, read and written in place (a reusable flyweight,
 * not thread-safe, like the api's staged records). The one place that knows the byte layout of the bundle's staging:
 * free extents ({@link #forFreeSpace()}: start and length) and reference counts ({@link #forRefcounts()}: start,
 * length, how many owners share the blocks and whether they are CoW staging). Both layouts begin with the start and
 * the length, so {@link #BY_START} orders either.
 */
final class StagedExtent {
    // start u32, length u32; big-endian. Every staged extent has a length, so no record is all zeros (null).
    private static final int FREE_SIZE = 8;
    // start u32, length u32, refcount u32, cow u32; big-endian
    private static final int REFCOUNT_SIZE = 16;
    private static final int START = 0;
    private static final int LENGTH = 4;
    private static final int REFCOUNT = 8;
    private static final int COW = 12;

    /** The order of staged extents by start, then length (the first long of both layouts, read unsigned). */
    static final RecordComparator BY_START = RecordComparator.unsignedLongs(1);

    private final ByteBuffer buf;

    private StagedExtent(int size) {
        buf = ByteBuffer.allocate(size);
    }

    /** A flyweight for free extents. */
    static StagedExtent forFreeSpace() {
        return new StagedExtent(FREE_SIZE);
    }

    /** A flyweight for reference-count extents. */
    static StagedExtent forRefcounts() {
        return new StagedExtent(REFCOUNT_SIZE);
    }

    /** Makes an array of staged free extents; the caller closes it. */
    static XfArray freeArray(XfArrayFactory arrays, String name) throws StagingException {
        return arrays.create(name, FREE_SIZE);
    }

    /** Makes an array of staged reference-count extents; the caller closes it. */
    static XfArray refcountArray(XfArrayFactory arrays, String name) throws StagingException {
        return arrays.create(name, REFCOUNT_SIZE);
    }

    /** The first AG block. */
    long start() {
        return Integer.toUnsignedLong(buf.getInt(START));
    }

    /** Blocks. */
    long length() {
        return Integer.toUnsignedLong(buf.getInt(LENGTH));
    }

    /** The AG block after the last. */
    long end() {
        return start() + length();
    }

    /** How many owners share the blocks (reference-count extents only). */
    long refcount() {
        return Integer.toUnsignedLong(buf.getInt(REFCOUNT));
    }

    /** Sets a free extent. */
    StagedExtent set(FreeExtent e) {
        return set(e.start(), e.length());
    }

    /** Sets a free extent. */
    StagedExtent set(long start, long length) {
        buf.putInt(START, (int) start).putInt(LENGTH, (int) length);
        return this;
    }

    /** Sets a reference-count extent. */
    StagedExtent set(long start, long length, long refcount, boolean cow) {
        buf.putInt(START, (int) start).putInt(LENGTH, (int) length).putInt(REFCOUNT, (int) refcount).putInt(COW, cow ? 1 : 0);
        return this;
    }

    /** Sets a reference-count extent from the device's typed record. */
    StagedExtent set(RefcountExtent e) {
        return set(e.start(), e.length(), e.refcount(), e.cow());
    }

    /** Decodes a staged reference-count extent handed out by {@link XfArray#iterator}. */
    static RefcountExtent refcountExtent(ByteBuffer staged) {
        return new RefcountExtent(Integer.toUnsignedLong(staged.getInt(START)), Integer.toUnsignedLong(staged.getInt(LENGTH)),
                Integer.toUnsignedLong(staged.getInt(REFCOUNT)), staged.getInt(COW) != 0);
    }

    /** Whether both hold the same extent with the same fields. */
    boolean sameAs(StagedExtent other) {
        return buf.equals(other.buf);
    }

    /** Compares in {@link #BY_START} order. */
    int compareTo(StagedExtent other) {
        return BY_START.compare(buf, 0, other.buf, 0);
    }

    /** Loads the first record at or after {@code from} into this; its index, or -1 at the end. */
    long loadNext(XfArray array, long from) throws StagingException {
        return array.loadNext(from, buf);
    }

    /** Appends this record to {@code array}. */
    void appendTo(XfArray array) throws StagingException {
        buf.rewind();
        array.append(buf);
    }
}
