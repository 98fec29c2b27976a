package org.xfstage.api.staging;

import java.nio.ByteBuffer;

/**
 * Appends records to an {@link XfArray} a batch at a time ({@link XfArray#appendAll}): a producer of many records
 * (a btree walk, a merge) hands them over one by one as {@link StagedRecord} views, and the array receives one store
 * per batch instead of one per record. The records are in the array only after {@link #flush}; the batch lives on the
 * heap, {@code batchRecords} records of the array's size. Not thread-safe.
 */
public final class Appender {
    private final XfArray array;
    private final ByteBuffer batch;

    /** An appender to {@code array} holding up to {@code batchRecords} records (at least one) before it stores them. */
    public Appender(XfArray array, int batchRecords) {
        this.array = array;
        this.batch = ByteBuffer.allocate(Math.max(1, batchRecords) * array.recordSize());
    }

    /**
     * Copies {@code record} into the batch, storing the batch first when it is full.
     *
     * @throws IllegalArgumentException when the record's size is not the array's, or (when the batch is stored) a
     *                                  record is null
     */
    public void add(StagedRecord<?> record) throws StagingException {
        ByteBuffer b = record.buf;
        if (b.capacity() != array.recordSize()) {
            throw new IllegalArgumentException("a record of " + b.capacity() + " bytes for xfarray '" + array.name()
                    + "', whose records have " + array.recordSize());
        }
        if (!batch.hasRemaining()) {
            flush();
        }
        batch.put(batch.position(), b, 0, b.capacity());
        batch.position(batch.position() + b.capacity());
    }

    /** Stores the records batched so far; the array then holds every record added. */
    public void flush() throws StagingException {
        if (batch.position() > 0) {
            batch.flip();
            try {
                array.appendAll(batch);
            } finally {
                batch.clear();
            }
        }
    }
}
