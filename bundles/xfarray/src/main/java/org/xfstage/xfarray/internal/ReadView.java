package org.xfstage.xfarray.internal;

import java.nio.ByteBuffer;

import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.ReadOnlyXfArray;
import org.xfstage.api.staging.XfArrayStats;

/**
 * A reading view of a {@link StagedArray} for one more thread (XfArray#readView): it reads the array's xfile directly
 * (an xfile's loads may come from several threads at once), with a read-ahead of its own for scans, so that the
 * array's own state (its lent view of the file, its last miss, its counters), which one thread at a time may touch, is
 * never touched. Valid while the array does not change; every change through it is refused.
 */
final class ReadView extends ReadOnlyXfArray {
    private final StagedArray array;
    private final int r;
    /** Records [first, first + count) as the last copy read them, for scans. */
    private final ByteBuffer ahead;
    private long first;
    private long count;

    ReadView(StagedArray array) {
        this.array = array;
        this.r = array.recordSize();
        this.ahead = ByteBuffer.allocate(Math.max(1, StagedArray.READ_AHEAD_BYTES / r) * r);
    }

    @Override
    public String name() {
        return array.name();
    }

    @Override
    public int recordSize() {
        return r;
    }

    @Override
    public long length() {
        return array.length();
    }

    private void check(long index, int remaining) {
        if (remaining != r) {
            throw new IllegalArgumentException("a buffer of " + remaining + " bytes for xfarray '" + name() + "', whose records have " + r);
        }
        if (index < 0 || index >= array.length()) {
            throw new IndexOutOfBoundsException("index " + index + " is past the end of xfarray '" + name() + "' (length "
                    + array.length() + ")");
        }
    }

    @Override
    public void load(long index, ByteBuffer dst) throws StagingException {
        check(index, dst.remaining());
        int p = dst.position();
        if (dst.hasArray()) {
            array.file().load(index * r, dst.array(), dst.arrayOffset() + p, r);
        } else {
            array.file().load(index * r, dst);
            dst.position(p);
        }
    }

    @Override
    public void load(long index, byte[] dst) throws StagingException {
        check(index, dst.length);
        array.file().load(index * r, dst, 0, r);
    }

    @Override
    public boolean isNull(long index) throws StagingException {
        ByteBuffer b = ByteBuffer.allocate(r);
        load(index, b);
        return Records.isZero(b, 0, r);
    }

    @Override
    public long loadNext(long from, ByteBuffer dst) throws StagingException {
        if (dst.remaining() != r) {
            check(0, dst.remaining());
        }
        long length = array.length();
        long i = Math.max(0, from);
        int p = dst.position();
        while (i < length) { // bounded: i grows every pass
            if (i < first || i >= first + count) {
                long n = Math.min(ahead.capacity() / r, length - i);
                ahead.clear().limit((int) n * r);
                count = 0; // a copy that fails leaves none
                array.file().load(i * r, ahead);
                first = i;
                count = n;
            }
            int at = (int) (i - first) * r;
            if (!Records.isZero(ahead, at, r)) {
                if (dst.hasArray()) {
                    System.arraycopy(ahead.array(), at, dst.array(), dst.arrayOffset() + p, r);
                } else {
                    dst.put(p, ahead, at, r);
                }
                return i;
            }
            long data = array.file().seekData((i + 1) * r);
            if (data < 0) {
                return -1;
            }
            i = Math.max(i + 1, data / r); // records wholly in a hole are null: skip them unread
        }
        return -1;
    }

    @Override
    public XfArrayStats stats() {
        return array.stats();
    }

    @Override
    protected String refusal() {
        return "xfarray '" + name() + "' is read through a view here, which changes nothing";
    }
}
