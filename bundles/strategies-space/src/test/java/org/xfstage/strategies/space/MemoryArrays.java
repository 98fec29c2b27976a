package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfArrayInfo;
import org.xfstage.api.staging.XfArrayStats;

/**
 * xfarrays on the heap, for tests: the contract of {@link XfArray} that strategies rely on (fixed-size records, an
 * all-zero record is null and skipped by {@code loadNext}, buffers' positions not moved, sort by a
 * {@link RecordComparator}), without xfiles. Knows which arrays are still open, so a test can see that a strategy
 * closed what it made.
 */
final class MemoryArrays implements XfArrayFactory {
    private final List<Array> open = new ArrayList<>();

    @Override
    public XfArray create(String name, int recordSize) {
        if (recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) {
            throw new IllegalArgumentException("record size " + recordSize);
        }
        Array a = new Array(name, recordSize);
        open.add(a);
        return a;
    }

    @Override
    public List<XfArrayInfo> liveArrays() {
        List<XfArrayInfo> out = new ArrayList<>();
        for (Array a : open) {
            out.add(new XfArrayInfo(a.name, a.length(), a.size, a.length() * a.size));
        }
        return out;
    }

    /** An array of records on the heap. */
    final class Array implements XfArray {
        private final String name;
        private final int size;
        private final List<byte[]> records = new ArrayList<>(); // null: a null record

        Array(String name, int size) {
            this.name = name;
            this.size = size;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int recordSize() {
            return size;
        }

        @Override
        public long length() {
            return records.size();
        }

        @Override
        public void load(long index, ByteBuffer dst) {
            byte[] r = records.get(checked(index));
            dst.put(dst.position(), r == null ? new byte[size] : r);
        }

        @Override
        public void load(long index, byte[] dst) {
            load(index, ByteBuffer.wrap(dst));
        }

        @Override
        public void store(long index, ByteBuffer src) {
            byte[] r = new byte[size];
            if (src.remaining() != size) {
                throw new IllegalArgumentException(name + ": " + src.remaining() + " bytes for a record of " + size);
            }
            src.get(src.position(), r);
            if (Arrays.equals(r, new byte[size])) {
                throw new IllegalArgumentException(name + ": an all-zero record is null");
            }
            while (records.size() <= index) {
                records.add(null);
            }
            records.set((int) index, r);
        }

        @Override
        public void store(long index, byte[] src) {
            store(index, ByteBuffer.wrap(src));
        }

        @Override
        public void unset(long index) {
            records.set(checked(index), null);
        }

        @Override
        public boolean isNull(long index) {
            return records.get(checked(index)) == null;
        }

        @Override
        public long append(ByteBuffer src) {
            long at = records.size();
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
            for (long i = from; i < records.size(); i++) {
                if (records.get((int) i) != null) {
                    load(i, dst);
                    return i;
                }
            }
            return -1;
        }

        @Override
        public void sort(RecordComparator comparator, SortOptions options, Progress progress) {
            records.replaceAll(r -> r == null ? new byte[size] : r);
            records.sort((x, y) -> comparator.compare(ByteBuffer.wrap(x), 0, ByteBuffer.wrap(y), 0));
            records.replaceAll(r -> Arrays.equals(r, new byte[size]) ? null : r);
        }

        @Override
        public XfArrayStats stats() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
            open.remove(this);
        }

        private int checked(long index) {
            if (index < 0 || index >= records.size()) {
                throw new IndexOutOfBoundsException(name + ": index " + index + " of " + records.size());
            }
            return (int) index;
        }
    }
}
