package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.xfstage.api.device.ReadSink;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * Reads of an image file or block device, each checked against the end of the device. The device is mapped
 * read-only in windows on first use, so the millions of small reads of a walk (an inode, a btree block) are copies
 * from the page cache instead of system calls; a read that straddles two windows is assembled from both.
 * <p>
 * Reads may come from several threads at once (a scrub walks AGs in parallel): they use the mappings' absolute gets,
 * which move no buffer position, and a window is mapped once and published safely.
 */
final class Image {
    /** Window size: large enough that a walk maps few windows, small enough for any address space. */
    private static final int WINDOW_SHIFT = 28;
    private static final long WINDOW = 1L << WINDOW_SHIFT;

    private final String source;
    private final FileChannel channel;
    private final long size;
    /** Mapped on first use; an atomic array so that a window mapped by one thread is seen whole by the others. */
    private final AtomicReferenceArray<MappedByteBuffer> windows;
    /** Planned block contents by offset that reads see instead of the device's (a view of a repair before it is written). */
    private final java.util.NavigableMap<Long, byte[]> overlay;
    /**
     * The overlay's offsets in order and their contents, the same index in both: a read looks its blocks up with a
     * binary search on primitives, where the map's lookup and view of a range cost a boxed key and objects per read (a
     * re-check of a view reads every inode and directory through it; the overlay is not changed once made).
     */
    private final long[] planned;
    private final byte[][] plannedBytes;
    /** Told of every read, or null: a recording view's ({@link #recording}). */
    private final ReadSink sink;

    Image(String source, FileChannel channel, long size) {
        this(source, channel, size, null);
    }

    Image(String source, FileChannel channel, long size, java.util.NavigableMap<Long, byte[]> overlay) {
        this(source, channel, size, overlay, null);
    }

    /** A view's reads, told to {@code sink} when it is not null (a view made from a recording view records too). */
    Image(String source, FileChannel channel, long size, java.util.NavigableMap<Long, byte[]> overlay,
            ReadSink sink) {
        this.source = source;
        this.channel = channel;
        this.size = size;
        this.windows = new AtomicReferenceArray<>((int) ((size + WINDOW - 1) >>> WINDOW_SHIFT));
        this.overlay = overlay;
        this.sink = sink;
        int n = overlay == null ? 0 : overlay.size();
        planned = new long[n];
        plannedBytes = new byte[n][];
        if (overlay != null) {
            int i = 0;
            for (var e : overlay.entrySet()) {
                planned[i] = e.getKey();
                plannedBytes[i++] = e.getValue();
            }
        }
    }

    /** The same reads as {@code base}'s (its windows, its planned blocks), each told to {@code sink} too. */
    private Image(Image base, ReadSink sink) {
        this.source = base.source;
        this.channel = base.channel;
        this.size = base.size;
        this.windows = base.windows; // mapped once for both: a recording view is made per check
        this.overlay = base.overlay;
        this.planned = base.planned;
        this.plannedBytes = base.plannedBytes;
        this.sink = sink;
    }

    /** These reads, each told to {@code sink} (null: not told). */
    Image recording(ReadSink sink) {
        return new Image(this, sink);
    }

    /** What this image's reads are told to, or null: an image made from this one records into it too. */
    ReadSink sink() {
        return sink;
    }

    /** The planned contents this view reads instead of the device's, or null when it is no view. */
    java.util.NavigableMap<Long, byte[]> overlay() {
        return overlay;
    }

    long size() {
        return size;
    }

    byte[] read(long offset, int length) throws XfsException {
        if (sink != null) {
            sink.read(offset, length); // before the bounds check: a read that fails was asked for all the same
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new XfsFormatException("read of " + length + " bytes at offset " + offset + " is past the end of "
                    + source + " (" + size + " bytes): truncated image or bad pointer");
        }
        byte[] b = new byte[length];
        int done = 0;
        try {
            while (done < length) {
                long at = offset + done;
                int w = (int) (at >>> WINDOW_SHIFT);
                int inWindow = (int) (at & (WINDOW - 1));
                int n = (int) Math.min(length - done, WINDOW - inWindow);
                window(w).get(inWindow, b, done, n);
                done += n;
            }
        } catch (InternalError e) {
            // a fault under the mapping: the device shrank or failed underneath us
            throw new XfsException("cannot read " + source + " at offset " + (offset + done) + ": I/O error under the mapping", e);
        }
        // from the last planned block at or before the offset (else the first after it) to the end of the read, in order
        int i = java.util.Arrays.binarySearch(planned, offset);
        if (i < 0) {
            i = Math.max(0, -i - 2);
        }
        for (; i < planned.length && planned[i] < offset + length; i++) {
            long from = Math.max(offset, planned[i]);
            long to = Math.min(offset + length, planned[i] + plannedBytes[i].length);
            if (from < to) {
                System.arraycopy(plannedBytes[i], (int) (from - planned[i]), b, (int) (from - offset), (int) (to - from));
            }
        }
        return b;
    }

    private MappedByteBuffer window(int w) throws XfsException {
        MappedByteBuffer m = windows.get(w);
        return m != null ? m : map(w);
    }

    /**
     * Maps window {@code w} once: threads that need it at the same moment wait for the one that maps it (the lock is
     * the windows', which recording views share).
     */
    private MappedByteBuffer map(int w) throws XfsException {
        synchronized (windows) {
            return mapLocked(w);
        }
    }

    private MappedByteBuffer mapLocked(int w) throws XfsException {
        MappedByteBuffer m = windows.get(w);
        if (m == null) {
            long start = (long) w << WINDOW_SHIFT;
            try {
                m = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(WINDOW, size - start));
            } catch (IOException e) {
                throw new XfsException("cannot map " + source + " at offset " + start + ": " + e.getMessage(), e);
            }
            windows.set(w, m);
        }
        return m;
    }
}
