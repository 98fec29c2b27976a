package org.xfstage.xfarray.internal;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Consumer;

import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XFile;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayInfo;
import org.xfstage.api.staging.XfArrayStats;

/**
 * An {@link XfArray} on one {@link XFile}. Slots made null by {@link #unset} are remembered on a stack kept in
 * a second xfile (8 bytes a slot), so {@link #storeAnywhere} finds one in O(1) instead of scanning.
 */
final class StagedArray implements XfArray {
    private static final int PAGE = 4096;

    private final String name;
    private final int r;
    private final XFileFactory files;
    private final Consumer<StagedArray> onClose;
    private XFile file;
    private XFile freeSlots;
    private long freeCount;
    private long length;
    private volatile boolean closed;
    private final ByteBuffer slot = ByteBuffer.allocate(8);
    private final ByteBuffer pageBuffer = ByteBuffer.allocate(PAGE);

    /** Highest index whose record still ends inside a 64-bit byte offset. */
    private final long maxIndex;
    private final byte[] nullRecord;
    private long loads;
    private long stores;
    private long compares;
    private long partitions;

    StagedArray(String name, int recordSize, XFileFactory files, Consumer<StagedArray> onClose) throws StagingException {
        this.name = name;
        this.r = recordSize;
        this.files = files;
        this.onClose = onClose;
        this.maxIndex = Long.MAX_VALUE / recordSize - 1;
        this.nullRecord = new byte[recordSize];
        this.file = files.create("xfarray " + name);
    }

    /** Whether this array stages its records through that xfile service. */
    boolean madeBy(XFileFactory f) {
        return files == f;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int recordSize() {
        return r;
    }

    @Override
    public long length() {
        return length;
    }

    XFile file() {
        return file;
    }

    /** A new staging file for a sort pass, named after this array. */
    XFile newFile(String purpose) throws StagingException {
        return files.create("xfarray " + name + " (" + purpose + ")");
    }

    /** Puts a complete new file in place of the current one, which is closed. */
    void replaceFile(XFile complete) {
        XFile old = file;
        file = complete;
        old.close();
    }

    XfArrayInfo info() {
        return new XfArrayInfo(name, length, r, bytesStaged());
    }

    private long bytesStaged() {
        XFile f = file;
        XFile s = freeSlots;
        return (f == null ? 0 : f.bytesUsed()) + (s == null ? 0 : s.bytesUsed());
    }

    private void checkOpen() throws StagingClosedException {
        if (closed) {
            throw new StagingClosedException("xfarray '" + name + "' is closed (closed by its user, or its xfarray or xfile service went away)");
        }
    }

    private void checkIndex(long index) throws StagingClosedException {
        checkOpen();
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("index " + index + " is past the end of xfarray '" + name + "' (length " + length + ")");
        }
    }

    private void checkSize(int remaining) {
        if (remaining != r) {
            throw new IllegalArgumentException("a buffer of " + remaining + " bytes for xfarray '" + name + "', whose records have " + r);
        }
    }

    private long offsetOf(long index) {
        if (index < 0) {
            throw new IndexOutOfBoundsException("negative index " + index + " for xfarray '" + name + "'");
        }
        if (index > maxIndex) {
            throw new IllegalArgumentException("index " + index + " of xfarray '" + name + "' overflows a 64-bit byte offset");
        }
        return index * r;
    }

    @Override
    public void load(long index, ByteBuffer dst) throws StagingException {
        checkSize(dst.remaining());
        checkIndex(index);
        int p = dst.position();
        file.load(index * r, dst);
        dst.position(p);
        loads++;
    }

    @Override
    public void load(long index, byte[] dst) throws StagingException {
        checkSize(dst.length);
        checkIndex(index);
        file.load(index * r, dst, 0, r);
        loads++;
    }

    @Override
    public void store(long index, ByteBuffer src) throws StagingException {
        checkSize(src.remaining());
        checkOpen();
        long off = offsetOf(index);
        if (Records.isZero(src, src.position(), r)) {
            throw new IllegalArgumentException("an all-zero record is null and cannot be stored in xfarray '" + name + "'; use unset");
        }
        int p = src.position();
        file.store(off, src);
        src.position(p);
        grow(index);
    }

    @Override
    public void store(long index, byte[] src) throws StagingException {
        checkSize(src.length);
        checkOpen();
        long off = offsetOf(index);
        if (java.util.Arrays.mismatch(src, nullRecord) < 0) {
            throw new IllegalArgumentException("an all-zero record is null and cannot be stored in xfarray '" + name + "'; use unset");
        }
        file.store(off, src, 0, r);
        grow(index);
    }

    private void grow(long index) {
        stores++;
        if (index >= length) {
            length = index + 1;
        }
    }

    @Override
    public void unset(long index) throws StagingException {
        checkIndex(index);
        long off = index * r;
        file.discard(off, r);
        stores++;
        releaseEmptyPages(off, off + r);
        if (freeSlots == null) {
            freeSlots = files.create("xfarray " + name + " (free slots)");
        }
        slot.clear().putLong(index).flip();
        freeSlots.store(freeCount * 8, slot);
        freeCount++;
    }

    /** Punches out the pages touched by [from, to) that now hold only zeros. */
    private void releaseEmptyPages(long from, long to) throws StagingException {
        for (long page = from & -PAGE; page < to; page += PAGE) {
            pageBuffer.clear();
            file.load(page, pageBuffer);
            if (Records.isZero(pageBuffer, 0, PAGE)) {
                file.discard(page, PAGE);
            }
        }
    }

    @Override
    public boolean isNull(long index) throws StagingException {
        checkIndex(index);
        return loadIsNull(index);
    }

    private boolean loadIsNull(long index) throws StagingException {
        ByteBuffer b = ByteBuffer.allocate(r);
        file.load(index * r, b);
        return Records.isZero(b, 0, r);
    }

    @Override
    public long append(ByteBuffer src) throws StagingException {
        long index = length;
        store(index, src);
        return index;
    }

    @Override
    public long append(byte[] src) throws StagingException {
        long index = length;
        store(index, src);
        return index;
    }

    @Override
    public long storeAnywhere(byte[] src) throws StagingException {
        checkSize(src.length);
        checkOpen();
        while (freeCount > 0) {
            freeCount--;
            slot.clear();
            freeSlots.load(freeCount * 8, slot);
            long index = slot.getLong(0);
            if (freeCount == 0 || (freeCount * 8) % PAGE == 0) {
                freeSlots.discard(freeCount * 8, PAGE); // the stack shrank past a page: give it back
            }
            if (index < length && loadIsNull(index)) { // a later store may have refilled it
                store(index, src);
                return index;
            }
        }
        return append(src);
    }

    @Override
    public long loadNext(long from, ByteBuffer dst) throws StagingException {
        checkSize(dst.remaining());
        checkOpen();
        long i = Math.max(0, from);
        int p = dst.position();
        while (i < length) {
            // A scan through stored records finds one at i nearly always: load it first, and search for data
            // (skipping a hole unread) only after a null record, not before every record.
            file.load(i * r, dst);
            dst.position(p);
            loads++;
            if (!Records.isZero(dst, p, r)) {
                return i;
            }
            long data = file.seekData((i + 1) * r);
            if (data < 0) {
                return -1;
            }
            i = Math.max(i + 1, data / r); // records wholly in a hole are null: skip them unread
        }
        return -1;
    }

    @Override
    public void sort(RecordComparator comparator, SortOptions options, Progress progress) throws StagingException {
        sort(comparator, options, progress, ExternalSort.CHUNK_BYTES);
    }

    void sort(RecordComparator comparator, SortOptions options, Progress progress, int chunkBytes) throws StagingException {
        Objects.requireNonNull(comparator, "comparator");
        checkOpen();
        ExternalSort sort = new ExternalSort(this, comparator, options == null ? SortOptions.DEFAULT : options, progress,
                chunkBytes);
        try {
            sort.run();
        } finally {
            loads += sort.loads.sum();
            stores += sort.stores.sum();
            compares += sort.compares.sum();
            partitions += sort.partitions.sum();
        }
    }

    @Override
    public XfArrayStats stats() {
        return new XfArrayStats(loads, stores, compares, partitions, bytesStaged());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        file.close();
        if (freeSlots != null) {
            freeSlots.close();
        }
        onClose.accept(this);
    }

    @Override
    public String toString() {
        return "xfarray '" + name + "' (" + length + " records of " + r + " bytes)";
    }
}
