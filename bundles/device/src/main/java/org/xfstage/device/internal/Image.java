package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/** Positional reads of an image file or block device, each checked against the end of the device. */
final class Image {
    private final String source;
    private final FileChannel channel;
    private final long size;

    Image(String source, FileChannel channel, long size) {
        this.source = source;
        this.channel = channel;
        this.size = size;
    }

    long size() {
        return size;
    }

    byte[] read(long offset, int length) throws XfsException {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new XfsFormatException("read of " + length + " bytes at offset " + offset + " is past the end of "
                    + source + " (" + size + " bytes): truncated image or bad pointer");
        }
        byte[] b = new byte[length];
        ByteBuffer bb = ByteBuffer.wrap(b);
        try {
            while (bb.hasRemaining()) {
                int n = channel.read(bb, offset + bb.position());
                if (n < 0) {
                    throw new XfsFormatException("unexpected end of " + source + " at offset " + (offset + bb.position()));
                }
            }
        } catch (IOException e) {
            throw new XfsException("cannot read " + source + " at offset " + offset + ": " + e.getMessage(), e);
        }
        return b;
    }
}
