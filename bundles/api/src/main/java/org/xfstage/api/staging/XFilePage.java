package org.xfstage.api.staging;

import java.nio.ByteBuffer;

/**
 * One page of an {@link XFile} lent to the caller for zero-copy work. The buffer is a view of the
 * staging memory itself: writes through it are writes to the file. Release it with {@link #close()};
 * the buffer must not be used afterwards.
 */
public interface XFilePage extends AutoCloseable {

    /** Byte offset in the file of the first byte of this page (a multiple of {@link XFile#pageSize()}). */
    long position();

    /** The page's bytes: position 0, limit and capacity {@link XFile#pageSize()}. */
    ByteBuffer buffer();

    /** Gives the page back. Calling it twice is harmless. */
    @Override
    void close();
}
