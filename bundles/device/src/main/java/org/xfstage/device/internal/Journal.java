package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.XfsException;

/**
 * The undo journal of a commit: the image's identity (size, filesystem uuid), then for every block its offset, the
 * old contents and the SHA-256 of the new contents, then a SHA-256 of all of it. Written and forced to disk (with its
 * directory) before the first block of the image is touched.
 */
final class Journal {
    private static final byte[] MAGIC = "XFSTAGE-UNDO-1\n\0".getBytes(StandardCharsets.US_ASCII);

    /** One journaled block. */
    record Entry(long offset, byte[] old, byte[] newDigest) {
    }

    final long imageSize;
    final long uuid0;
    final long uuid1;
    final List<Entry> entries;

    Journal(long imageSize, long uuid0, long uuid1, List<Entry> entries) {
        this.imageSize = imageSize;
        this.uuid0 = uuid0;
        this.uuid1 = uuid1;
        this.entries = entries;
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /** Builds the journal of writing {@code blocks} over what {@code image} holds now. */
    static Journal of(Image image, long uuid0, long uuid1, List<BlockImage> blocks) throws XfsException {
        List<Entry> entries = new ArrayList<>();
        for (BlockImage b : blocks) {
            entries.add(new Entry(b.offset(), image.read(b.offset(), b.bytes().length), sha256(b.bytes())));
        }
        return new Journal(image.size(), uuid0, uuid1, entries);
    }

    /** Writes the journal to a new file and makes it durable, file and directory. */
    void writeDurably(Path path) throws XfsException {
        int size = MAGIC.length + 8 + 16 + 4;
        for (Entry e : entries) {
            size += 8 + 4 + e.old().length + 32;
        }
        ByteBuffer b = ByteBuffer.allocate(size + 32);
        b.put(MAGIC).putLong(imageSize).putLong(uuid0).putLong(uuid1).putInt(entries.size());
        for (Entry e : entries) {
            b.putLong(e.offset()).putInt(e.old().length).put(e.old()).put(e.newDigest());
        }
        b.put(sha256(Arrays.copyOf(b.array(), size)));
        b.flip();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        } catch (IOException e) {
            throw new XfsException("cannot write the undo journal " + path + ": " + e.getMessage() + "; nothing was written to the image", e);
        }
        Path dir = path.toAbsolutePath().getParent();
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // the journal's directory entry must survive a crash too
        } catch (IOException e) {
            throw new XfsException("cannot make the directory of the undo journal durable (" + dir + "): " + e.getMessage()
                    + "; nothing was written to the image", e);
        }
    }

    static Journal read(Path path) throws XfsException {
        byte[] all;
        try {
            all = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new XfsException("cannot read the undo journal " + path + ": " + e.getMessage(), e);
        }
        String bad = path + " is not an xfstage undo journal (or it is damaged)";
        if (all.length < MAGIC.length + 28 + 32 || !Arrays.equals(Arrays.copyOf(all, MAGIC.length), MAGIC)) {
            throw new XfsException(bad);
        }
        byte[] digest = Arrays.copyOfRange(all, all.length - 32, all.length);
        if (!Arrays.equals(digest, sha256(Arrays.copyOf(all, all.length - 32)))) {
            throw new XfsException(bad);
        }
        ByteBuffer b = ByteBuffer.wrap(all, MAGIC.length, all.length - MAGIC.length - 32);
        long size = b.getLong();
        long u0 = b.getLong();
        long u1 = b.getLong();
        int n = b.getInt();
        List<Entry> entries = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                long offset = b.getLong();
                int len = b.getInt();
                byte[] old = new byte[len];
                b.get(old);
                byte[] nd = new byte[32];
                b.get(nd);
                entries.add(new Entry(offset, old, nd));
            }
        } catch (RuntimeException e) {
            throw new XfsException(bad);
        }
        return new Journal(size, u0, u1, entries);
    }
}
