package org.xfstage.api.staging;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * An array of fixed-size records staged in an {@link XFile}, outside the Java heap: the Java counterpart of
 * the kernel's xfarray. Record {@code i} lies at byte {@code i * recordSize}. A record of all zero bytes is
 * <em>null</em> (unset): storing one is refused, unset slots read as zeros, and iteration skips them.
 *
 * <p>Buffers passed in or out must have exactly {@link #recordSize()} bytes remaining ({@code byte[]}s
 * exactly that length); their positions are not moved. Indexes are {@code long}s from 0.
 *
 * <p><b>Threads.</b> One thread at a time: the caller locks if several threads share an array (as with the
 * kernel's). {@link #sort} uses worker threads of its own inside the call.
 */
@ProviderType
public interface XfArray extends AutoCloseable {

    /** The name given at creation. */
    String name();

    /** Bytes per record. */
    int recordSize();

    /** One past the highest index ever stored (nulls included). */
    long length();

    /**
     * Reads record {@code index} into {@code dst}.
     *
     * @throws IndexOutOfBoundsException when {@code index >= length()} or negative
     */
    void load(long index, ByteBuffer dst) throws StagingException;

    /** Reads record {@code index} into {@code dst}. */
    void load(long index, byte[] dst) throws StagingException;

    /**
     * Writes record {@code index}; an index at or past {@link #length()} extends the array, and the slots
     * in between are null.
     *
     * @throws IllegalArgumentException when the record is all zeros (null) or the index would overflow
     */
    void store(long index, ByteBuffer src) throws StagingException;

    /** Writes record {@code index}. */
    void store(long index, byte[] src) throws StagingException;

    /** Makes record {@code index} null and gives its memory back where a whole page becomes empty. */
    void unset(long index) throws StagingException;

    /** Whether record {@code index} is null. */
    boolean isNull(long index) throws StagingException;

    /** Stores at {@link #length()} and returns that index. */
    long append(ByteBuffer src) throws StagingException;

    /** Stores at {@link #length()} and returns that index. */
    long append(byte[] src) throws StagingException;

    /** Stores into a null slot made by {@link #unset} if there is one, else appends; returns the index used. */
    long storeAnywhere(byte[] src) throws StagingException;

    /**
     * Iteration that skips nulls: loads the first non-null record at or after {@code from} into {@code dst}
     * and returns its index, or returns -1 when there is none. Holes of the staging file are skipped
     * without reading them.
     */
    long loadNext(long from, ByteBuffer dst) throws StagingException;

    /**
     * The first {@code count} non-null records at or after {@code from}, each decoded by {@code decode} as it is
     * loaded: for a consumer that reads them once, in order, and holds none (a bulk load). The buffer passed to
     * {@code decode} is reused. A staging failure while iterating, or fewer records than {@code count}, comes out
     * as {@link UncheckedStagingException}.
     */
    default <T> java.util.Iterator<T> iterator(long from, long count, java.util.function.Function<ByteBuffer, T> decode) {
        ByteBuffer rec = ByteBuffer.allocate(recordSize());
        return new java.util.Iterator<>() {
            private long index = from;
            private long left = count;

            @Override
            public boolean hasNext() {
                return left > 0;
            }

            @Override
            public T next() {
                if (left == 0) {
                    throw new java.util.NoSuchElementException();
                }
                try {
                    index = loadNext(index, rec);
                    if (index < 0) {
                        throw new StagingException(name() + ": fewer than " + count + " records from index " + from);
                    }
                } catch (StagingException e) {
                    throw new UncheckedStagingException(e);
                }
                index++;
                left--;
                return decode.apply(rec);
            }
        };
    }

    /**
     * Sorts records {@code [0, length())} by {@code comparator} (not stable; nulls are records like others).
     * The heap used is bounded by a constant; staging memory up to twice the array's size is used while it
     * runs. When {@code progress} cancels, the call throws {@link CancelledException} and the array holds a
     * permutation of its records.
     */
    void sort(RecordComparator comparator, SortOptions options, Progress progress) throws StagingException;

    /** Counters since the array was made. */
    XfArrayStats stats();

    /** Frees the staging memory. Calling it twice is harmless. */
    @Override
    void close();

    /**
     * Stores the records of {@code src} (a whole number of records, from its position to its limit) at {@link #length()}
     * and on, and returns the index of the first: many records in one move, for a producer that appends thousands (the
     * one-record calls pay their checks and the page lookup per record). No record is stored when one of them is null
     * (all zeros). The buffer's position is not moved.
     *
     * @throws IllegalArgumentException when the bytes are not a whole number of records, or a record is all zeros
     */
    default long appendAll(ByteBuffer src) throws StagingException {
        int size = recordSize();
        int p = src.position();
        int n = src.remaining();
        if (n % size != 0) {
            throw new IllegalArgumentException("a batch of " + n + " bytes for xfarray '" + name() + "', whose records have " + size);
        }
        ByteBuffer one = src.duplicate();
        ByteBuffer zeros = ByteBuffer.allocate(size);
        for (int at = p; at < p + n; at += size) { // all checked first: a refused batch stores nothing
            one.limit(at + size).position(at);
            if (one.equals(zeros)) {
                throw new IllegalArgumentException("record " + (at - p) / size + " of a batch for xfarray '" + name()
                        + "' is all zeros (null) and cannot be stored");
            }
        }
        long first = length();
        for (int at = p; at < p + n; at += size) {
            one.limit(at + size).position(at);
            append(one);
        }
        return first;
    }

    /**
     * A view of this array for one more reading thread: its loads and scans may run at the same time as those of
     * other views and of the array itself, with no lock, as long as nothing changes the array (no store, append, unset
     * or sort while any view is read). The view changes nothing (its changes throw {@link UnsupportedOperationException})
     * and closing it closes nothing; it is used by one thread at a time, as an array is. For readers that share a
     * staged array at once (a scrub's checks run in parallel).
     *
     * @return the view, or null when this implementation has none (then the callers lock, as for any array)
     * @since 1.6
     */
    default XfArray readView() {
        return null;
    }
}
