package org.xfstage.repair.internal;

import java.nio.ByteBuffer;

import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.ReadOnlyXfArray;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayStats;

/**
 * One check's reads of a staged array that has no reading view (XfArray#readView; CheckReads): a scan ({@link #loadNext}) copies up to 16 KiB of records out of the array
 * under its lock, then serves them from that copy without it; every other read takes the lock for itself. The lock is one per array, shared by every check's reader of it
 * (an xfarray is read by one thread at a time); two checks scanning the same array then wait on each other's copies,
 * which is why an array's own view is taken first. Changes are refused: a check only reads observations.
 */
final class LockedReader extends ReadOnlyXfArray {
    private static final int BATCH_BYTES = 16 << 10;

    private final XfArray array;
    private final Object lock;
    private final int size;
    /** The non-null records of [covFrom, covTo): their indexes and bytes, {@code count} of them. */
    private final long[] index;
    private final byte[] bytes;
    private final ByteBuffer slot;
    private int count;
    private long covFrom;
    private long covTo; // covFrom == covTo: nothing copied yet
    private int at;

    LockedReader(XfArray array, Object lock) {
        this.array = array;
        this.lock = lock;
        this.size = array.recordSize();
        int n = Math.max(1, BATCH_BYTES / size);
        this.index = new long[n];
        this.bytes = new byte[n * size];
        this.slot = ByteBuffer.wrap(bytes);
    }

    @Override
    public String name() {
        return array.name();
    }

    @Override
    public int recordSize() {
        return size;
    }

    @Override
    public long length() {
        synchronized (lock) {
            return array.length();
        }
    }

    @Override
    public void load(long i, ByteBuffer dst) throws StagingException {
        synchronized (lock) {
            array.load(i, dst);
        }
    }

    @Override
    public void load(long i, byte[] dst) throws StagingException {
        synchronized (lock) {
            array.load(i, dst);
        }
    }

    @Override
    public boolean isNull(long i) throws StagingException {
        synchronized (lock) {
            return array.isNull(i);
        }
    }

    @Override
    public long loadNext(long from, ByteBuffer dst) throws StagingException {
        if (dst.remaining() != size) {
            throw new IllegalArgumentException("a buffer of " + dst.remaining() + " bytes for a record of " + size
                    + " of xfarray '" + name() + "'");
        }
        // the reader's own state is the check's, which reads an array from one thread at a time (XfArray's
        // contract); only the copy out of the shared array takes its lock, once per batch
        long from0 = Math.max(0, from);
        if (from0 < covFrom || from0 >= covTo) {
            copy(from0);
        }
        // bounded: each pass either answers or copies the next batch, which begins past the last one's end
        while (true) {
            if (at > 0 && index[at - 1] >= from0) {
                at = 0; // a step back inside the batch (a merge's restart)
            }
            while (at < count && index[at] < from0) {
                at++;
            }
            if (at < count) {
                int p = dst.position();
                if (dst.hasArray()) {
                    System.arraycopy(bytes, at * size, dst.array(), dst.arrayOffset() + p, size);
                } else {
                    dst.put(p, bytes, at * size, size);
                }
                return index[at];
            }
            if (covTo == Long.MAX_VALUE) {
                return -1;
            }
            copy(covTo);
        }
    }

    /** Copies the non-null records from {@code from} on, as many as the batch holds, under the array's lock. */
    private void copy(long from) throws StagingException {
        count = 0;
        at = 0;
        covFrom = from;
        covTo = from; // nothing held until the copy is whole: a failed copy leaves none
        long next = from;
        synchronized (lock) {
            while (count < index.length) {
                slot.limit((count + 1) * size).position(count * size);
                long i = array.loadNext(next, slot);
                if (i < 0) {
                    covTo = Long.MAX_VALUE;
                    return;
                }
                index[count++] = i;
                next = i + 1;
            }
        }
        covTo = next;
    }

    @Override
    public XfArrayStats stats() {
        synchronized (lock) {
            return array.stats();
        }
    }

    @Override
    protected String refusal() {
        return "a check changed the staged observation '" + name() + "', which other checks read at the same time; a check only reads observations";
    }
}
