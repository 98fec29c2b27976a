package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Copies and fingerprints of test images that skip their zero blocks. The corpus images are 512 MiB to 2 GiB of which
 * a few MiB hold data: {@code Files.copy} writes every zero of them (a second and a fully allocated file per case) and a
 * SHA-256 of the whole file hashes them all, which made the oracle tests spend most of their time on zeros.
 */
public final class SparseFiles {
    private static final int BLOCK = 4096;
    private static final int CHUNK = 1 << 20;
    private static final byte[] ZERO = new byte[BLOCK];

    private SparseFiles() {
    }

    /** Copies {@code from} to {@code to} (replaced), writing only blocks that are not all zero; same length, same bytes. */
    public static Path copy(Path from, Path to) throws IOException {
        Files.deleteIfExists(to);
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
                FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            long size = in.size();
            for (long pos = 0; pos < size; pos += CHUNK) {
                int n = fill(in, buf, pos);
                for (int off = 0; off < n; off += BLOCK) {
                    int len = Math.min(BLOCK, n - off);
                    if (!zero(buf.array(), off, len)) {
                        out.write(ByteBuffer.wrap(buf.array(), off, len), pos + off);
                    }
                }
            }
            if (out.size() < size) {
                out.write(ByteBuffer.wrap(new byte[1]), size - 1); // the length, with a zero last byte
            }
        }
        return to;
    }

    /**
     * A SHA-256 over the file's length and every block that is not all zero, with its offset: equal exactly when the
     * files' bytes are equal (a zero block hashes as its absence, which only an equal file also has).
     */
    public static String digest(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            ByteBuffer offset = ByteBuffer.allocate(Long.BYTES);
            long size = in.size();
            for (long pos = 0; pos < size; pos += CHUNK) {
                int n = fill(in, buf, pos);
                for (int off = 0; off < n; off += BLOCK) {
                    int len = Math.min(BLOCK, n - off);
                    if (!zero(buf.array(), off, len)) {
                        md.update(offset.clear().putLong(pos + off).array());
                        md.update(buf.array(), off, len);
                    }
                }
            }
            md.update(offset.clear().putLong(size).array());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static int fill(FileChannel in, ByteBuffer buf, long pos) throws IOException {
        buf.clear();
        while (buf.hasRemaining()) {
            if (in.read(buf, pos + buf.position()) < 0) {
                break;
            }
        }
        return buf.position();
    }

    private static boolean zero(byte[] b, int off, int len) {
        return java.util.Arrays.mismatch(b, off, off + len, ZERO, 0, len) < 0;
    }
}
