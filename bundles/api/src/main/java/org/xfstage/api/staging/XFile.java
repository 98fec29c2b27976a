package org.xfstage.api.staging;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A pageable, byte-addressed, sparse staging file outside the Java heap: the Java counterpart of
 * the kernel's xfile. Bytes never stored (holes) read as zeros and cost no memory.
 *
 * <p><b>Threads.</b> {@code load}, {@code store}, {@code page}, {@code discard} and the queries may be
 * called from several threads at once. Stores to disjoint byte ranges never disturb each other; stores
 * and loads that overlap have no defined order, so a caller that shares a range between threads
 * supplies its own lock (as in the kernel). {@link #close()} may come from any thread; calls that begin
 * after it fail with {@link StagingClosedException}.
 */
@ProviderType
public interface XFile extends AutoCloseable {

    /** The name given at creation, for listings and messages. */
    String name();

    /** Where the bytes live. */
    XFileBacking backing();

    /** The granularity of allocation and of {@link #page(long)}, in bytes (4096). */
    int pageSize();

    /** Logical size: one past the highest byte ever stored (or 0). */
    long size();

    /** Bytes really allocated: pages written and not discarded, times the page size. */
    long bytesUsed();

    /**
     * Reads {@code dst.remaining()} bytes starting at {@code pos} into {@code dst}, advancing its
     * position. Holes and bytes past {@link #size()} read as zeros.
     */
    void load(long pos, ByteBuffer dst) throws StagingException;

    /** Reads {@code len} bytes at {@code pos} into {@code dst[off..off+len)}. */
    void load(long pos, byte[] dst, int off, int len) throws StagingException;

    /**
     * Writes {@code src.remaining()} bytes at {@code pos}, advancing the buffer, allocating pages as
     * needed and growing {@link #size()}.
     *
     * @throws XFileFullException when a configured limit or the staging file system is full; nothing
     *                             of this call past the last whole page that fitted is written
     */
    void store(long pos, ByteBuffer src) throws StagingException;

    /** Writes {@code src[off..off+len)} at {@code pos}. */
    void store(long pos, byte[] src, int off, int len) throws StagingException;

    /**
     * Allocates the pages of {@code [pos, pos+len)} now (they read as zeros), so that a long pass can fail at
     * its start, not half-way, when staging is short, and does not pay for allocation page by page.
     *
     * @throws XFileFullException when a limit or the staging file system cannot hold the range
     */
    void reserve(long pos, long len) throws StagingException;

    /**
     * The offset of the first byte at or after {@code pos} that lies in an allocated page, or -1 when
     * there is none (the rest of the file is a hole).
     */
    long seekData(long pos) throws StagingException;

    /**
     * Gives back the memory of {@code [pos, pos+len)}: whole pages inside the range are freed (punched
     * out), partial pages at its ends are zeroed. The range reads as zeros afterwards; {@link #size()}
     * does not change.
     */
    void discard(long pos, long len) throws StagingException;

    /**
     * Lends the page that contains {@code pos}, allocating it if it is a hole. Release it with
     * {@link XFilePage#close()}; hold few pages at once.
     */
    XFilePage page(long pos) throws StagingException;

    /** Frees everything the file holds. Calling it twice is harmless. */
    @Override
    void close();

    /**
     * The run of allocated pages around {@code pos} (the longest that contains it and lies in one mapping of the
     * file) lent as a view of the staging memory, or null when {@code pos} lies in a hole or the provider lends no
     * views (the default). For a caller that loads and stores many small records in one area: it checks each offset
     * against the run and copies through the view, instead of a range check and a page lookup in the file per
     * record. See {@link XFileView} for how long it holds.
     */
    default XFileView view(long pos) throws StagingException {
        return null;
    }
}
