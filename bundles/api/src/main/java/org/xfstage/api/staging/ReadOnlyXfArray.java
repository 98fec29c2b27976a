package org.xfstage.api.staging;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The base of an array that only reads another (a view for one more reading thread, {@link XfArray#readView()}, or a
 * reader that locks): every change is refused with an {@link UnsupportedOperationException} that says why, and
 * closing it closes nothing (the array it reads belongs to someone else).
 *
 * @since 1.6
 */
@ConsumerType
public abstract class ReadOnlyXfArray implements XfArray {

    /** Why a change through this array is refused, for the exception's message. */
    protected abstract String refusal();

    private UnsupportedOperationException refused() {
        return new UnsupportedOperationException(refusal());
    }

    @Override
    public void close() {
        // it reads another's array: the owner closes that
    }

    @Override
    public final void store(long index, ByteBuffer src) {
        throw refused();
    }

    @Override
    public final void store(long index, byte[] src) {
        throw refused();
    }

    @Override
    public final void unset(long index) {
        throw refused();
    }

    @Override
    public final long append(ByteBuffer src) {
        throw refused();
    }

    @Override
    public final long append(byte[] src) {
        throw refused();
    }

    @Override
    public final long appendAll(ByteBuffer src) {
        throw refused();
    }

    @Override
    public final long storeAnywhere(byte[] src) {
        throw refused();
    }

    @Override
    public final void sort(RecordComparator comparator, SortOptions options, Progress progress) {
        throw refused();
    }
}
