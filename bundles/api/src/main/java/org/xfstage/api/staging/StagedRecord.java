package org.xfstage.api.staging;

import java.nio.ByteBuffer;

/**
 * A typed view of one fixed-size record of an {@link XfArray}, read and written in place: the subclass names the
 * fields, this holds the bytes and moves them to and from the array. One view is reused record after record, so a
 * pass over millions of records allocates nothing. Not thread-safe.
 *
 * @param <T> the subclass itself, which {@link #load} returns
 */
public abstract class StagedRecord<T extends StagedRecord<T>> {
    /** The record's bytes, big-endian, position 0 and limit the record size between calls. */
    protected final ByteBuffer buf;

    /** A view of records of {@code size} bytes. */
    protected StagedRecord(int size) {
        this.buf = ByteBuffer.allocate(size);
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    /** Loads record {@code index} of {@code array} into this. */
    public T load(XfArray array, long index) throws StagingException {
        array.load(index, buf);
        return self();
    }

    /** Loads the first record at or after {@code from} into this; its index, or -1 at the end. */
    public long loadNext(XfArray array, long from) throws StagingException {
        return array.loadNext(from, buf);
    }

    /** Appends this record to {@code array}; its index. */
    public long appendTo(XfArray array) throws StagingException {
        buf.rewind();
        long index = array.append(buf);
        buf.rewind();
        return index;
    }

    /** Copies another record of the same kind into this. */
    public T copy(T other) {
        buf.put(0, ((StagedRecord<T>) other).buf, 0, buf.capacity());
        return self();
    }
}
