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
import org.xfstage.api.staging.XFileView;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayInfo;
import org.xfstage.api.staging.XfArrayStats;

/**
 * An {@link XfArray} on one {@link XFile}. Slots made null by {@link #unset} are remembered on a stack kept in
 * a second xfile (8 bytes a slot), so {@link #storeAnywhere} finds one in O(1) instead of scanning.
 */
final class StagedArray implements XfArray, Provider.Staged {
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
    private long loads;
    /** Bumped by every change of the records: a thread's read-ahead copy from before a change is not used after it. */
    private long changes;
    /**
     * Each reading thread's copy of the records after the one it read last, for {@link #loadNext}: a scan through
     * the array then pays one copy out of the xfile per {@link #READ_AHEAD_BYTES}, not a range check, a page lookup and
     * a copy per record. Static state only (no reference to this array), so a thread's entry is dropped when the array
     * is gone.
     */
    private final ThreadLocal<ReadAhead> readAhead;
    /**
     * The read-ahead of the thread that read last: a scan asks the ThreadLocal once, not per record (a JFR profile of
     * the scrub put ThreadLocalMap lookups at 11% of its CPU: strategy threads' maps fill with the entries of arrays
     * closed on other threads, and a lookup then walks past them). Immutable owner, so a racy read is safe.
     */
    private volatile ReadAhead lastAhead;
    static final int READ_AHEAD_BYTES = 16 << 10;
    /**
     * The run of the file's allocated pages the last load or store outside it found (XFile#view), and where it lies:
     * a load or store inside it checks its offset and copies, where the file would check the range, find the window
     * and test the page per record (measured at 0.68-0.72x a raw mapping's speed that way). Dropped by whatever
     * discards pages of the file or replaces it (unset, sort, close). Stores through it end at the file's size when it
     * was lent, because they do not move that size: appends go through the file.
     */
    private ByteBuffer view;
    private long viewStart;
    private long viewEnd;
    private long viewStoreEnd;
    /** The offset of the last load or store the view did not hold: a view is taken only for a scan, not a search. */
    private long lastMiss = -1;
    private long stores;
    private long compares;
    private long partitions;

    StagedArray(String name, int recordSize, XFileFactory files, Consumer<StagedArray> onClose) throws StagingException {
        this.name = name;
        this.r = recordSize;
        int perRead = Math.max(1, READ_AHEAD_BYTES / this.r) * this.r;
        this.readAhead = ThreadLocal.withInitial(() -> new ReadAhead(perRead, Thread.currentThread()));
        this.files = files;
        this.onClose = onClose;
        this.maxIndex = Long.MAX_VALUE / recordSize - 1;
        this.file = files.create("xfarray " + name);
    }

    /** A view for one more reading thread, reading the file directly with state of its own (ReadView). */
    @Override
    public XfArray readView() {
        return new ReadView(this);
    }

    /** Whether this array stages its records through that xfile service. */
    @Override
    public boolean madeBy(XFileFactory f) {
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
        changes++;
        view = null;
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
        if (dst.hasArray()) { // the flyweights' heap buffers
            load(index * r, dst.array(), dst.arrayOffset() + p);
        } else {
            file.load(index * r, dst);
            dst.position(p);
        }
        loads++;
    }

    @Override
    public void load(long index, byte[] dst) throws StagingException {
        checkSize(dst.length);
        checkIndex(index);
        load(index * r, dst, 0);
        loads++;
    }

    /** One record at byte {@code off}: through the view when it holds it, else through the file (and a new view). */
    private void load(long off, byte[] dst, int at) throws StagingException {
        ByteBuffer v = view;
        if (v != null && off >= viewStart && off + r <= viewEnd) {
            try {
                Records.copy(v, (int) (off - viewStart), dst, at, r);
                return;
            } catch (InternalError e) {
                view = null; // the file was closed or punched under the view: the file's own call says which
            }
        }
        file.load(off, dst, at, r);
        missed(off);
    }

    /** One record at byte {@code off}: through the view when it holds it, else through the file. */
    private void store(long off, byte[] src, int at) throws StagingException {
        ByteBuffer v = view;
        if (v != null && off >= viewStart && off + r <= viewStoreEnd) {
            try {
                Records.copy(src, at, v, (int) (off - viewStart), r);
                return;
            } catch (InternalError e) {
                view = null;
            }
        }
        file.store(off, src, at, r);
        if (off + r < file.size()) { // an overwrite: the area is in use (an append would ask for a view per record)
            missed(off);
        }
    }

    /**
     * After a load or store the view did not hold: takes the view of the run around it when the access goes on from
     * the last miss or from the view's end (a scan), not when it jumps (a binary search, whose every probe would pay
     * for a view it never uses again).
     */
    private void missed(long off) throws StagingException {
        boolean scanning = off == lastMiss + r || off == lastMiss - r || (view != null && off == viewEnd);
        lastMiss = off;
        if (scanning) {
            lend(off);
        }
    }

    /** Takes the view of the run around {@code off}, when the file lends one. */
    private void lend(long off) throws StagingException {
        XFileView v = file.view(off);
        if (v == null) {
            view = null;
            return;
        }
        view = v.bytes().duplicate().order(java.nio.ByteOrder.nativeOrder()); // the order Records' long copies read
        viewStart = v.start();
        viewEnd = v.start() + v.bytes().capacity();
        viewStoreEnd = Math.min(viewEnd, file.size());
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
        if (src.hasArray()) { // the flyweights' heap buffers: the view, or the xfile's one-page fast path
            store(off, src.array(), src.arrayOffset() + p);
        } else {
            file.store(off, src);
            src.position(p);
        }
        grow(index);
    }

    @Override
    public void store(long index, byte[] src) throws StagingException {
        checkSize(src.length);
        checkOpen();
        long off = offsetOf(index);
        if (Records.isZero(src)) {
            throw new IllegalArgumentException("an all-zero record is null and cannot be stored in xfarray '" + name + "'; use unset");
        }
        store(off, src, 0);
        grow(index);
    }

    private void grow(long index) {
        stores++;
        changes++;
        if (index >= length) {
            length = index + 1;
        }
    }

    @Override
    public void unset(long index) throws StagingException {
        checkIndex(index);
        long off = index * r;
        view = null; // pages may be punched out below
        file.discard(off, r);
        stores++;
        changes++;
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

    /** Every record checked, then one store into the xfile: its range check and page lookups paid once per batch. */
    @Override
    public long appendAll(ByteBuffer src) throws StagingException {
        int n = src.remaining();
        if (n % r != 0) {
            throw new IllegalArgumentException("a batch of " + n + " bytes for xfarray '" + name + "', whose records have " + r);
        }
        checkOpen();
        long first = length;
        long count = n / r;
        if (count == 0) {
            return first;
        }
        long off = offsetOf(first + count - 1) - (count - 1) * r; // the last one's offset must fit too
        int p = src.position();
        for (int at = p; at < p + n; at += r) {
            if (Records.isZero(src, at, r)) {
                throw new IllegalArgumentException("record " + (at - p) / r + " of a batch for xfarray '" + name
                        + "' is all zeros (null) and cannot be stored; use unset");
            }
        }
        file.store(off, src);
        src.position(p);
        stores += count;
        changes++;
        length = first + count;
        return first;
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
        ReadAhead ahead = lastAhead;
        if (ahead == null || ahead.owner != Thread.currentThread()) {
            ahead = readAhead.get();
            lastAhead = ahead;
        }
        while (i < length) {
            if (ahead.changes != changes || i < ahead.first || i >= ahead.first + ahead.count) {
                fill(ahead, i);
            }
            int at = (int) (i - ahead.first) * r;
            loads++;
            if (!Records.isZero(ahead.buf, at, r)) {
                if (dst.hasArray()) { // the flyweights' heap buffers: a plain array copy, cheaper for a few bytes
                    System.arraycopy(ahead.buf.array(), at, dst.array(), dst.arrayOffset() + p, r);
                } else {
                    dst.put(p, ahead.buf, at, r);
                }
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

    /** Copies records from {@code from} on (as many as fit) into a thread's read-ahead. */
    private void fill(ReadAhead ahead, long from) throws StagingException {
        long n = Math.min(ahead.buf.capacity() / r, length - from);
        ahead.buf.clear().limit((int) n * r);
        file.load(from * r, ahead.buf);
        ahead.first = from;
        ahead.count = n;
        ahead.changes = changes;
    }

    /** One thread's read-ahead: records [first, first + count) as they were at {@code changes}. */
    private static final class ReadAhead {
        final ByteBuffer buf;
        long first;
        long count;
        long changes = -1;
        final Thread owner;

        ReadAhead(int bytes, Thread owner) {
            buf = ByteBuffer.allocate(bytes);
            this.owner = owner;
        }
    }

    /** The path the last sort took (package-private: tests check which path a comparator and input lead to). */
    ExternalSort.Path lastSortPath = ExternalSort.Path.NONE;

    @Override
    public void sort(RecordComparator comparator, SortOptions options, Progress progress) throws StagingException {
        sort(comparator, options, progress, ExternalSort.CHUNK_BYTES);
    }

    void sort(RecordComparator comparator, SortOptions options, Progress progress, int chunkBytes) throws StagingException {
        Objects.requireNonNull(comparator, "comparator");
        checkOpen();
        ExternalSort sort = new ExternalSort(this, comparator, options == null ? SortOptions.DEFAULT : options, progress,
                chunkBytes);
        changes++;
        view = null; // a consuming sort gives pages back, and a sort past one chunk replaces the file
        try {
            sort.run();
        } finally {
            lastSortPath = sort.path;
            changes++;
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
        view = null;
        readAhead.remove();
        lastAhead = null;
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
