package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayStats;

/**
 * An xfarray on the heap, with the contract the strategies rely on (null records refused and skipped, positions not
 * moved). It counts {@link #loadNext} calls and fails past a budget, so that a loop that never ends fails the test
 * instead of hanging it.
 */
final class FakeXfArray implements XfArray {
    private final String name;
    private final int recordSize;
    private final List<byte[]> records = new ArrayList<>();
    private long loadNextBudget = 1_000_000;
    private long loadNextCalls;
    private boolean closed;

    FakeXfArray(String name, int recordSize) {
        this.name = name;
        this.recordSize = recordSize;
    }

    /** Fails the {@code calls + 1}-th call of {@link #loadNext}. */
    FakeXfArray loadNextBudget(long calls) {
        this.loadNextBudget = calls;
        return this;
    }

    long loadNextCalls() {
        return loadNextCalls;
    }

    boolean closed() {
        return closed;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    private byte[] bytes(ByteBuffer src) {
        if (src.remaining() != recordSize) {
            throw new IllegalArgumentException(name + ": " + src.remaining() + " bytes for records of " + recordSize);
        }
        byte[] b = new byte[recordSize];
        src.get(src.position(), b);
        return b;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int recordSize() {
        return recordSize;
    }

    @Override
    public long length() {
        return records.size();
    }

    @Override
    public void load(long index, ByteBuffer dst) {
        open();
        if (dst.remaining() != recordSize) {
            throw new IllegalArgumentException(name + ": " + dst.remaining() + " bytes for records of " + recordSize);
        }
        byte[] b = records.get(Math.toIntExact(index));
        dst.put(dst.position(), b == null ? new byte[recordSize] : b);
    }

    @Override
    public void load(long index, byte[] dst) {
        load(index, ByteBuffer.wrap(dst));
    }

    @Override
    public void store(long index, ByteBuffer src) {
        open();
        byte[] b = bytes(src);
        if (isZero(b)) {
            throw new IllegalArgumentException(name + ": a null record cannot be stored");
        }
        int i = Math.toIntExact(index);
        while (records.size() <= i) {
            records.add(null);
        }
        records.set(i, b);
    }

    @Override
    public void store(long index, byte[] src) {
        store(index, ByteBuffer.wrap(src));
    }

    @Override
    public void unset(long index) {
        open();
        records.set(Math.toIntExact(index), null);
    }

    @Override
    public boolean isNull(long index) {
        return records.get(Math.toIntExact(index)) == null;
    }

    @Override
    public long append(ByteBuffer src) {
        long at = length();
        store(at, src);
        return at;
    }

    @Override
    public long append(byte[] src) {
        return append(ByteBuffer.wrap(src));
    }

    @Override
    public long storeAnywhere(byte[] src) {
        int free = records.indexOf(null);
        if (free < 0) {
            return append(src);
        }
        store(free, src);
        return free;
    }

    @Override
    public long loadNext(long from, ByteBuffer dst) {
        open();
        if (++loadNextCalls > loadNextBudget) {
            throw new IllegalStateException(name + ": loadNext called " + loadNextCalls + " times: a loop that does not end");
        }
        for (long i = Math.max(0, from); i < records.size(); i++) {
            if (records.get((int) i) != null) {
                load(i, dst);
                return i;
            }
        }
        return -1;
    }

    @Override
    public void sort(RecordComparator comparator, SortOptions options, Progress progress) {
        open();
        records.sort((a, b) -> {
            if (a == null || b == null) {
                return a == null ? (b == null ? 0 : -1) : 1;
            }
            return comparator.compare(ByteBuffer.wrap(a), 0, ByteBuffer.wrap(b), 0);
        });
    }

    @Override
    public XfArrayStats stats() {
        return new XfArrayStats(loadNextCalls, 0, 0, 0, (long) records.size() * recordSize);
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return name + " " + records.stream().map(Arrays::toString).toList();
    }
}
