package org.xfstage.xfile.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;

import com.sun.jna.LastErrorException;

import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XFile;
import org.xfstage.api.staging.XFileBacking;
import org.xfstage.api.staging.XFileFullException;
import org.xfstage.api.staging.XFileInfo;
import org.xfstage.api.staging.XFilePage;
import org.xfstage.api.staging.XFileView;

/**
 * An {@link XFile} on a memfd or an unlinked file, reached through memory-mapped windows.
 *
 * <p>Each window keeps a bitmap of the pages that hold data. A page is reserved with
 * {@code fallocate} before the first store touches it, so a full tmpfs or disk fails that call with
 * ENOSPC instead of raising SIGBUS under the mapping (which the JVM would turn into an
 * {@link InternalError}). Loads of pages whose bit is clear return zeros without touching the mapping,
 * so reading a hole never allocates memory (the kernel's 6.6 xfile did). The bitmaps also answer
 * {@link #seekData} and {@link #bytesUsed} without system calls.
 */
final class MappedXFile implements XFile {
    static final int PAGE_SIZE = StagingSettings.PAGE_SIZE;
    private static final int PAGE_SHIFT = 12;
    /** Largest offset we accept: leaves room for a whole window past it without overflowing a long. */
    private static final long MAX_OFFSET = Long.MAX_VALUE - (1L << 31);
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(PAGE_SIZE).asReadOnlyBuffer();

    private final String name;
    private final XFileBacking backing;
    private final LibC libc;
    private final int fd;
    private final FileChannel channel;
    private final int windowShift;
    private final int windowSize;
    private final long maxFileBytes;
    private final StagingBudget budget;
    private final Consumer<MappedXFile> onClose;

    private final ConcurrentSkipListMap<Long, Window> windows = new ConcurrentSkipListMap<>();
    /**
     * Windows with a small index also sit in this array (copied on growth under the lock), so that the
     * hot path of a load or store finds its window with one array read instead of a skip-list search.
     */
    private volatile Window[] dense = new Window[0];
    private static final int MAX_DENSE = 1 << 16;
    /** Guards allocation, discard, window creation and close. Loads and stores of held pages run without it. */
    private final Object lock = new Object();
    private final AtomicLong size = new AtomicLong();
    private final AtomicLong pagesUsed = new AtomicLong();
    private volatile boolean closed;

    /** One mapped window and the bitmap of its pages that hold data. */
    private static final class Window {
        final long base;
        final MappedByteBuffer buffer;
        final AtomicLongArray present;

        Window(long base, MappedByteBuffer buffer, int pages) {
            this.base = base;
            this.buffer = buffer;
            this.present = new AtomicLongArray((pages + 63) >>> 6);
        }

        boolean has(int page) {
            return (present.get(page >>> 6) & (1L << page)) != 0;
        }

        /**
         * As {@link #has}, without ordering against other threads: for the one-page fast path, where a stale answer only
         * sends the call down the general path (bits are set under the lock before a page is used, and cleared only by
         * a discard, which a user does not race with its own loads and stores of that page).
         */
        boolean hasPlain(int page) {
            return (present.getPlain(page >>> 6) & (1L << page)) != 0;
        }

        void set(int page) {
            present.getAndUpdate(page >>> 6, v -> v | (1L << page));
        }

        void clear(int page) {
            present.getAndUpdate(page >>> 6, v -> v & ~(1L << page));
        }
    }

    private MappedXFile(String name, XFileBacking backing, LibC libc, int fd, FileChannel channel,
            StagingSettings settings, StagingBudget budget, Consumer<MappedXFile> onClose) {
        this.name = name;
        this.backing = backing;
        this.libc = libc;
        this.fd = fd;
        this.channel = channel;
        this.windowSize = settings.windowBytes();
        this.windowShift = Integer.numberOfTrailingZeros(windowSize);
        this.maxFileBytes = settings.maxFileBytes();
        this.budget = budget;
        this.onClose = onClose;
    }

    /** Creates the backing (memfd, or a file in the staging directory unlinked at once) and opens it. */
    static MappedXFile create(String name, LibC libc, StagingSettings settings, StagingBudget budget,
            Consumer<MappedXFile> onClose) throws StagingException {
        int fd;
        try {
            if (settings.backing() == XFileBacking.MEMFD) {
                fd = libc.memfd_create("xfstage:" + name, LibC.MFD_CLOEXEC);
            } else {
                Path dir = settings.directory();
                Path path = dir.resolve("xfstage-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".xfile");
                fd = libc.open(path.toString(), LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0600);
                try {
                    java.nio.file.Files.delete(path);
                } catch (IOException e) {
                    libc.close(fd);
                    throw new StagingException("cannot unlink staging file " + path + ": " + e.getMessage(), e);
                }
            }
        } catch (LastErrorException e) {
            String where = settings.backing() == XFileBacking.MEMFD ? "a memfd" : "a file in " + settings.directory();
            throw new StagingException("cannot create xfile '" + name + "' as " + where + ": "
                    + libc.strerror(e.getErrorCode()), e);
        }
        try {
            FileChannel channel = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            return new MappedXFile(name, settings.backing(), libc, fd, channel, settings, budget, onClose);
        } catch (IOException e) {
            closeQuietly(libc, fd);
            throw new StagingException("cannot open xfile '" + name + "': " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public XFileBacking backing() {
        return backing;
    }

    @Override
    public int pageSize() {
        return PAGE_SIZE;
    }

    @Override
    public long size() {
        return size.get();
    }

    @Override
    public long bytesUsed() {
        return pagesUsed.get() * PAGE_SIZE;
    }

    XFileInfo info() {
        return new XFileInfo(name, size(), bytesUsed(), backing);
    }

    /** Bytes the kernel really has allocated to the backing (st_blocks), to prove that discard frees memory. */
    long allocatedByKernel() throws StagingException {
        checkOpen();
        byte[] stat = new byte[LibC.STAT_SIZE];
        libc.fstat(fd, stat);
        return ByteBuffer.wrap(stat).order(java.nio.ByteOrder.nativeOrder()).getLong(LibC.STAT_BLOCKS_OFFSET) * 512;
    }

    @Override
    public void load(long pos, ByteBuffer dst) throws StagingException {
        int len = dst.remaining();
        checkRange(pos, len);
        try {
            while (len > 0) {
                int woff = (int) (pos & (windowSize - 1));
                int n = Math.min(len, windowSize - woff);
                Window w = lookup(pos >>> windowShift);
                if (w == null) {
                    zero(dst, n);
                } else {
                    readWindow(w, woff, dst, n);
                }
                pos += n;
                len -= n;
            }
        } catch (InternalError e) {
            throw translate(e);
        }
    }

    private static void readWindow(Window w, int woff, ByteBuffer dst, int n) {
        while (n > 0) {
            int page = woff >>> PAGE_SHIFT;
            int inPage = Math.min(n, PAGE_SIZE - (woff & (PAGE_SIZE - 1)));
            if (w.has(page)) {
                dst.put(dst.position(), w.buffer, woff, inPage);
                dst.position(dst.position() + inPage);
            } else {
                zero(dst, inPage);
            }
            woff += inPage;
            n -= inPage;
        }
    }

    private static void zero(ByteBuffer dst, int n) {
        while (n > 0) {
            int k = Math.min(n, PAGE_SIZE);
            dst.put(dst.position(), ZEROS, 0, k);
            dst.position(dst.position() + k);
            n -= k;
        }
    }

    @Override
    public void load(long pos, byte[] dst, int off, int len) throws StagingException {
        Objects.checkFromIndexSize(off, len, dst.length);
        Window w = withinOnePage(pos, len);
        if (w != null) { // the common case of a small record: one bounds check, one copy
            try {
                w.buffer.get((int) (pos & (windowSize - 1)), dst, off, len);
            } catch (InternalError e) {
                throw translate(e);
            }
            return;
        }
        load(pos, ByteBuffer.wrap(dst, off, len));
    }

    /**
     * The window of [pos, pos+len) when that range lies inside one allocated page of an open file, else null
     * (the general path then handles holes, page and window edges, allocation and errors).
     */
    private Window withinOnePage(long pos, int len) {
        // no read of `closed` here: close() empties `dense` after setting it, so a call that sees the new array takes the
        // general path and is refused there, and one racing with the close reaches the truncated mapping, whose fault
        // is translated into the same refusal (translate); a record load or store then pays one ordered read, not two
        if (pos < 0 || len <= 0 || ((pos & (PAGE_SIZE - 1)) + len) > PAGE_SIZE) {
            return null;
        }
        Window w = lookup(pos >>> windowShift);
        if (w == null || !w.hasPlain((int) ((pos & (windowSize - 1)) >>> PAGE_SHIFT))) {
            return null;
        }
        return w;
    }

    @Override
    public void store(long pos, ByteBuffer src) throws StagingException {
        int len = src.remaining();
        checkRange(pos, len);
        try {
            while (len > 0) {
                int woff = (int) (pos & (windowSize - 1));
                int n = Math.min(len, windowSize - woff);
                Window w = windowFor(pos >>> windowShift);
                allocate(w, woff >>> PAGE_SHIFT, (woff + n - 1) >>> PAGE_SHIFT, true);
                w.buffer.put(woff, src, src.position(), n);
                src.position(src.position() + n);
                pos += n;
                len -= n;
                growSize(pos);
            }
        } catch (InternalError e) {
            throw translate(e);
        }
    }

    @Override
    public void store(long pos, byte[] src, int off, int len) throws StagingException {
        Objects.checkFromIndexSize(off, len, src.length);
        Window w = withinOnePage(pos, len);
        if (w != null) {
            try {
                w.buffer.put((int) (pos & (windowSize - 1)), src, off, len);
            } catch (InternalError e) {
                throw translate(e);
            }
            growSize(pos + len);
            return;
        }
        store(pos, ByteBuffer.wrap(src, off, len));
    }

    private void growSize(long end) {
        // most stores land below the end: skip the CAS; a stale plain read is smaller (the size only grows), which costs
        // one needless CAS at worst
        if (end > size.getPlain()) {
            size.accumulateAndGet(end, Math::max);
        }
    }

    @Override
    public void reserve(long pos, long len) throws StagingException {
        if (len < 0) {
            throw new IllegalArgumentException("negative length " + len);
        }
        checkRange(pos, len);
        long end = pos + len;
        while (pos < end) {
            int woff = (int) (pos & (windowSize - 1));
            long n = Math.min(end - pos, windowSize - woff);
            Window w = windowFor(pos >>> windowShift);
            allocate(w, woff >>> PAGE_SHIFT, (int) ((woff + n - 1) >>> PAGE_SHIFT), false);
            pos += n;
            growSize(pos);
        }
    }

    @Override
    public long seekData(long pos) throws StagingException {
        checkRange(pos, 0);
        long first = pos >>> windowShift;
        Window here = lookup(first);
        if (here != null && here.has((int) ((pos - (first << windowShift)) >>> PAGE_SHIFT))) {
            return pos; // the common case (a scan through stored records): no search
        }
        for (Map.Entry<Long, Window> e : windows.tailMap(first, true).entrySet()) {
            long base = e.getKey() << windowShift;
            int startPage = e.getKey() == first ? (int) ((pos - base) >>> PAGE_SHIFT) : 0;
            Window w = e.getValue();
            for (int p = startPage; p < windowSize >>> PAGE_SHIFT; p++) {
                if (w.has(p)) {
                    return Math.max(pos, base + ((long) p << PAGE_SHIFT));
                }
            }
        }
        return -1;
    }

    @Override
    public void discard(long pos, long len) throws StagingException {
        if (len < 0) {
            throw new IllegalArgumentException("negative length " + len);
        }
        checkRange(pos, len);
        long end = pos + len;
        synchronized (lock) {
            checkOpen();
            long firstWhole = (pos + PAGE_SIZE - 1) & -PAGE_SIZE;
            long lastWhole = end & -PAGE_SIZE; // exclusive
            if (firstWhole >= lastWhole) {
                zeroRange(pos, end);
                return;
            }
            zeroRange(pos, firstWhole);
            zeroRange(lastWhole, end);
            punch(firstWhole, lastWhole);
        }
    }

    /** Zeroes bytes of data pages within one page's partial range (held lock). */
    private void zeroRange(long from, long to) throws StagingException {
        for (long p = from; p < to; ) {
            long pageEnd = Math.min(to, (p & -PAGE_SIZE) + PAGE_SIZE);
            Window w = windows.get(p >>> windowShift);
            int woff = (int) (p & (windowSize - 1));
            if (w != null && w.has(woff >>> PAGE_SHIFT)) {
                w.buffer.put(woff, ZEROS, 0, (int) (pageEnd - p));
            }
            p = pageEnd;
        }
    }

    /** Frees whole pages in [from, to) that hold data (held lock). */
    private void punch(long from, long to) throws StagingException {
        for (Map.Entry<Long, Window> e : windows.subMap(from >>> windowShift, true, (to - 1) >>> windowShift, true)
                .entrySet()) {
            long base = e.getKey() << windowShift;
            Window w = e.getValue();
            int p0 = (int) (Math.max(from, base) - base) >>> PAGE_SHIFT;
            int p1 = (int) ((Math.min(to, base + windowSize) - base) >>> PAGE_SHIFT);
            int freed = 0;
            for (int p = p0; p < p1; p++) {
                if (w.has(p)) {
                    w.clear(p);
                    freed++;
                }
            }
            if (freed > 0) {
                long start = base + ((long) p0 << PAGE_SHIFT);
                try {
                    libc.fallocate(fd, LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, start,
                            (long) (p1 - p0) << PAGE_SHIFT);
                } catch (LastErrorException ex) {
                    throw new StagingException("cannot discard bytes of xfile '" + name + "': "
                            + libc.strerror(ex.getErrorCode()), ex);
                } finally {
                    pagesUsed.addAndGet(-freed);
                    budget.release((long) freed * PAGE_SIZE);
                }
            }
        }
    }

    @Override
    public XFilePage page(long pos) throws StagingException {
        checkRange(pos, 1);
        long start = pos & -PAGE_SIZE;
        Window w = windowFor(start >>> windowShift);
        int woff = (int) (start & (windowSize - 1));
        allocate(w, woff >>> PAGE_SHIFT, woff >>> PAGE_SHIFT, false);
        growSize(start + PAGE_SIZE);
        ByteBuffer view = w.buffer.slice(woff, PAGE_SIZE);
        return new XFilePage() {
            @Override
            public long position() {
                return start;
            }

            @Override
            public ByteBuffer buffer() {
                return view;
            }

            @Override
            public void close() {
                // The view needs no bookkeeping: the page stays allocated and dirty like any stored page.
            }
        };
    }

    /** The run of present pages around pos in its window (at most a window's pages looked at each way). */
    @Override
    public XFileView view(long pos) throws StagingException {
        checkRange(pos, 1);
        Window w = lookup(pos >>> windowShift);
        int page = (int) ((pos & (windowSize - 1)) >>> PAGE_SHIFT);
        if (w == null || !w.has(page)) {
            return null;
        }
        int pages = windowSize >>> PAGE_SHIFT;
        int first = page;
        while (first > 0 && w.has(first - 1)) {
            first--;
        }
        int last = page;
        while (last + 1 < pages && w.has(last + 1)) {
            last++;
        }
        int from = first << PAGE_SHIFT;
        return new XFileView(w.base + from, w.buffer.slice(from, (last - first + 1) << PAGE_SHIFT));
    }

    private Window lookup(long index) {
        Window[] d = dense;
        if (index < d.length) {
            return d[(int) index];
        }
        // every window below MAX_DENSE is in the dense array, so one past its end does not exist
        return index < MAX_DENSE ? null : windows.get(index);
    }

    /** The window with this index, mapped on first use. */
    private Window windowFor(long index) throws StagingException {
        Window w = lookup(index);
        if (w != null) {
            return w;
        }
        synchronized (lock) {
            checkOpen();
            w = windows.get(index);
            if (w == null) {
                try {
                    MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, index << windowShift, windowSize);
                    w = new Window(index << windowShift, buffer, windowSize >>> PAGE_SHIFT);
                } catch (IOException e) {
                    throw new StagingException("cannot map window " + index + " of xfile '" + name + "': " + e.getMessage(), e);
                }
                windows.put(index, w);
                if (index < MAX_DENSE) {
                    Window[] d = dense;
                    if (index >= d.length) {
                        d = java.util.Arrays.copyOf(d, (int) Math.min(MAX_DENSE, Math.max(index + 1, 2L * d.length)));
                    } else {
                        d = d.clone();
                    }
                    d[(int) index] = w;
                    dense = d;
                }
            }
            return w;
        }
    }

    /**
     * Pages allocated ahead when a store grows a run of data pages (the page before is present): appends then
     * pay one fallocate per 64 KiB instead of one per page, and a sparse store still allocates only its pages.
     */
    private static final int GROW_AHEAD_PAGES = 16;

    /** Makes sure pages [p0, p1] of the window hold allocated memory, reserving what is missing. */
    private void allocate(Window w, int p0, int p1, boolean growAhead) throws StagingException {
        if (allPresent(w, p0, p1)) {
            if (closed) {
                throw closedException();
            }
            return;
        }
        synchronized (lock) {
            checkOpen();
            for (int p = p0; p <= p1; p++) {
                if (w.has(p)) {
                    continue;
                }
                int exact = missingRun(w, p, p1);
                int run = exact;
                if (growAhead && p > 0 && w.has(p - 1)) {
                    run = missingRun(w, p, Math.max(p1, Math.min(p + GROW_AHEAD_PAGES - 1, (windowSize >>> PAGE_SHIFT) - 1)));
                }
                try {
                    allocateRun(w, p, run);
                } catch (XFileFullException e) {
                    if (run == exact) {
                        throw e;
                    }
                    run = exact; // the pages ahead did not fit: take only what this call needs
                    allocateRun(w, p, run);
                }
                p = run;
            }
        }
    }

    /** The last page of the run of missing pages that starts at p, not past {@code last}. */
    private static int missingRun(Window w, int p, int last) {
        int run = p;
        while (run + 1 <= last && !w.has(run + 1)) {
            run++;
        }
        return run;
    }

    /** Reserves pages [p, run] of the window against the limits and with fallocate (held lock). */
    private void allocateRun(Window w, int p, int run) throws StagingException {
        long bytes = (long) (run - p + 1) << PAGE_SHIFT;
        long usedNow = bytesUsed();
        if (usedNow + bytes > maxFileBytes) {
            throw new XFileFullException("xfile '" + name + "' is full: it uses " + usedNow
                    + " bytes and needs " + bytes + " more, over maxFileBytes=" + maxFileBytes
                    + " (configuration org.xfstage.xfile)");
        }
        budget.reserve(name, bytes);
        try {
            libc.fallocate(fd, LibC.FALLOC_FL_KEEP_SIZE, w.base + ((long) p << PAGE_SHIFT), bytes);
        } catch (LastErrorException e) {
            budget.release(bytes);
            int errno = e.getErrorCode();
            String what = backing == XFileBacking.MEMFD ? "memory for memfd staging" : "staging directory";
            if (errno == LibC.ENOSPC || errno == LibC.ENOMEM || errno == LibC.EDQUOT) {
                throw new XFileFullException("xfile '" + name + "' cannot grow: the " + what + " is full ("
                        + libc.strerror(errno) + ")", e);
            }
            throw new StagingException("xfile '" + name + "' cannot grow: " + libc.strerror(errno), e);
        }
        for (int q = p; q <= run; q++) {
            w.set(q);
        }
        pagesUsed.addAndGet(run - p + 1);
    }

    private static boolean allPresent(Window w, int p0, int p1) {
        for (int p = p0; p <= p1; p++) {
            if (!w.has(p)) {
                return false;
            }
        }
        return true;
    }

    private void checkRange(long pos, long len) throws StagingException {
        if (pos < 0 || len < 0 || pos > MAX_OFFSET - len) {
            throw new IllegalArgumentException("xfile '" + name + "': range [" + pos + ", +" + len
                    + ") is outside 0.." + MAX_OFFSET);
        }
        if (closed) {
            throw closedException();
        }
    }

    private void checkOpen() throws StagingClosedException {
        if (closed) {
            throw closedException();
        }
    }

    private StagingClosedException closedException() {
        return new StagingClosedException("xfile '" + name + "' is closed (closed by its user or its xfile service went away)");
    }

    /** A fault under a mapping: the file was closed under us, or the backing could not supply a page. */
    private StagingException translate(InternalError e) {
        if (closed) {
            return closedException();
        }
        return new XFileFullException("xfile '" + name + "': staging memory could not be accessed ("
                + e.getMessage() + "); the staging file system may be full", e);
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                // Truncating frees every page at once, even while a lent page view or a racing thread still
                // holds the mapping; such a late access then faults and is reported as closed (see translate).
                channel.truncate(0);
                channel.close();
            } catch (IOException e) {
                // The memory is released when the descriptor closes below; nothing more to do.
            }
            closeQuietly(libc, fd);
            budget.release(bytesUsed());
            pagesUsed.set(0);
            windows.clear();
            dense = new Window[0];
        }
        onClose.accept(this);
    }

    private static void closeQuietly(LibC libc, int fd) {
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            // closing a descriptor we own can only fail for EINTR/EIO; the kernel has released it anyway
        }
    }

    @Override
    public String toString() {
        return "xfile '" + name + "' (" + backing + ", " + size() + " bytes, " + bytesUsed() + " used)";
    }
}
