package org.xfstage.api.staging;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Variable-length records staged in an xfile, outside the heap: directory entry names, attribute names and values,
 * symlink targets. Each is addressed by the cookie {@link #store} returns; records that refer to a blob (a directory
 * entry in an {@link XfArray}, say) hold the cookie, never the bytes. As in the kernel's xfblob, every blob is
 * preceded by a small key (a magic, its size and its own offset), so a load checks that a cookie is really one: a
 * cookie that is stale, freed or made up fails with a {@link StagingException}, never returns another blob's bytes.
 * Space is not compacted: {@link #free} gives the pages back that the blob covered wholly. Not thread-safe.
 */
@ProviderType
public interface XfBlob extends AutoCloseable {
    /** The name given at creation. */
    String name();

    /** Stores {@code len} bytes of {@code src} from {@code off}; returns the blob's cookie (never 0). */
    long store(byte[] src, int off, int len) throws StagingException;

    /** Stores all of {@code src}; returns its cookie. */
    default long store(byte[] src) throws StagingException {
        return store(src, 0, src.length);
    }

    /** The size in bytes of the blob at {@code cookie}. */
    int size(long cookie) throws StagingException;

    /** The blob at {@code cookie}. */
    byte[] load(long cookie) throws StagingException;

    /**
     * Loads the blob at {@code cookie} into {@code dst} from {@code off}; returns its size.
     *
     * @throws StagingException when the cookie is not a blob's, or {@code dst} has less room than the blob
     */
    int load(long cookie, byte[] dst, int off) throws StagingException;

    /** Frees the blob: its cookie is no longer valid, its memory (whole pages) is given back. */
    void free(long cookie) throws StagingException;

    /** Blobs stored and not freed. */
    long count();

    /** Bytes of staging the blobs take (keys included), as allocated. */
    long bytesUsed();

    /** Frees everything; calling it twice is harmless. */
    @Override
    void close();
}
