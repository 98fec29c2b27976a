package org.xfstage.api.device;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told of every byte range a recording view of a device reads ({@link XfsDevice#recordingReads}), so that a caller can
 * tell afterwards whether a block it plans to write was among them.
 * <p>
 * <b>Threads.</b> A view may be read from several threads at once: an implementation takes that into account.
 */
@ConsumerType
public interface ReadSink {

    /**
     * The view read (or was asked for, when the read fails) {@code length} bytes at byte offset {@code offset} of the
     * image, or holds what the device read there when it was opened and keeps for every read after (the superblock it
     * chose, say).
     */
    void read(long offset, int length);
}
