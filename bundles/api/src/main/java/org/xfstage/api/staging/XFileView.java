package org.xfstage.api.staging;

import java.nio.ByteBuffer;

/**
 * A run of an {@link XFile}'s allocated pages lent as the staging memory itself ({@link XFile#view}): byte 0 of
 * {@code bytes} is file offset {@code start}, and its capacity is the run's length. Reads and writes through it are
 * the file's; it holds while nothing in the run is discarded and the file is open (an access after that reads zeros
 * or fails with an {@link InternalError}, which the caller turns into the file's own failure by retrying through
 * the file). A write through it does not move {@link XFile#size()}.
 *
 * @param start the file offset of the run's first byte (a multiple of {@link XFile#pageSize()})
 * @param bytes the run's bytes: position 0, limit and capacity the run's length
 */
public record XFileView(long start, ByteBuffer bytes) {
}
