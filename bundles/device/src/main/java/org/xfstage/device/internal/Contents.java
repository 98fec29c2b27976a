package org.xfstage.device.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * What inodes hold: directory entries (through the verifying reader, {@link Directories}), symlink targets (local,
 * and remote blocks with their headers), and file content read through the extent map.
 */
final class Contents {
    static final long SYMLINK_MAGIC = 0x58534C4DL; // XSLM
    /** Directory data lives below 32 GiB of directory address space; leaf and free blocks above. */
    static final long DIR2_LEAF_OFFSET = 1L << 35;
    private static final int SYMLINK_HDR = 56;
    private static final int SYMLINK_MAXLEN = 1024;
    private static final int READ_CHUNK = 1 << 20;

    /** One directory entry. */
    record DirEntry(String name, long ino) {
    }

    private final Image image;
    private final Geometry g;
    private final Directories directories;

    Contents(Image image, Geometry g, Directories directories) {
        this.image = image;
        this.g = g;
        this.directories = directories;
    }

    /**
     * The entries of a directory, without "." and "..", as the verifying reader lists them (data blocks or short form
     * only, not the hash index). Damage that may lose or misread entries ends the read at the first such problem;
     * damage that leaves the entries readable (a wrong hash, a bad free-space table) is the directory check's to report.
     */
    List<DirEntry> directory(Inode dir) throws XfsException {
        List<DirEntry> out = new ArrayList<>();
        DirectoryProblem[] lost = {null};
        directories.read(dir, new DirectorySink() {
            @Override
            public void entry(DirectoryEntry e) {
                if (!e.isDot() && !e.isDotDot()) {
                    out.add(new DirEntry(new String(e.name(), StandardCharsets.UTF_8), e.child()));
                }
            }

            @Override
            public void problem(DirectoryProblem p) {
                if (p.entriesLost() && lost[0] == null) {
                    lost[0] = p;
                }
            }
        }, false);
        if (lost[0] != null) {
            throw new XfsFormatException(lost[0].where() + ": " + lost[0].detail(), "directory");
        }
        return out;
    }

    /** The target of a symlink. */
    String symlink(Inode link) throws XfsException {
        String where = "symlink inode " + link.ino;
        Headers.check(link.size > 0 && link.size <= SYMLINK_MAXLEN, () -> where + ": bad target length " + link.size);
        if (link.format == Inode.FMT_LOCAL) {
            return new String(link.localData(), StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream target = new ByteArrayOutputStream();
        for (Inode.Extent e : link.extents(image, g)) {
            Headers.check(e.count() <= 3, () -> where + ": remote mapping too long");
            long offset = g.fsbOffset(e.startBlock());
            byte[] buf = image.read(offset, (int) e.count() * g.blockSize);
            Struct h = new Struct(Layouts.SYMLINK, buf, 0);
            Headers.check(h.get("magic") == SYMLINK_MAGIC, () -> where + ": remote block has no XSLM header");
            Headers.check(h.crcValid(0, buf.length), () -> where + ": remote block checksum mismatch");
            Headers.check(h.get("owner") == link.ino, () -> where + ": remote block owned by inode " + h.get("owner"));
            Headers.check(h.get("offset") == target.size(), () -> where + ": remote block offset " + h.get("offset"));
            long bytes = h.get("bytes");
            Headers.check(bytes <= buf.length - SYMLINK_HDR, () -> where + ": remote block claims " + bytes + " bytes");
            target.write(buf, SYMLINK_HDR, (int) bytes);
        }
        Headers.check(target.size() == link.size, () -> where + ": target has " + target.size() + " bytes, inode says " + link.size);
        return target.toString(StandardCharsets.UTF_8);
    }

    /**
     * Holes a file may have and still be hashed as plain content. Beyond it (a 1 TiB sparse VM image on a small
     * filesystem, or a fuzzed di_size) hashing zeros would take hours, so the digest describes the holes instead.
     */
    static final long MAX_HASHED_HOLES = 1L << 30;

    /**
     * The content digest of a regular file: SHA-256 of its bytes (mapped blocks read, holes and unwritten extents
     * as zeros, up to di_size). When its holes exceed {@link #MAX_HASHED_HOLES}, "sparse:" followed by the SHA-256
     * of the data with each hole replaced by its length (8 bytes, big-endian, after a 0xFF marker), which still
     * changes with any byte or hole that changes.
     */
    String sha256(Inode file) throws XfsException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
        if (file.format == Inode.FMT_LOCAL) {
            md.update(file.localData());
            return HexFormat.of().formatHex(md.digest());
        }
        List<Inode.Extent> extents = file.extents(image, g);
        long mapped = 0;
        for (Inode.Extent e : extents) {
            long start = e.startOff() << g.blockLog;
            if (start < file.size && !e.unwritten()) {
                mapped += Math.min(file.size, (e.startOff() + e.count()) << g.blockLog) - start;
            }
        }
        boolean sparse = file.size - mapped > MAX_HASHED_HOLES;
        Hole hole = sparse ? (m, n) -> m.update(ByteBuffer.allocate(9).put((byte) 0xFF).putLong(n).array()) : Contents::zeroFill;
        long done = 0;
        for (Inode.Extent e : extents) {
            long start = e.startOff() << g.blockLog;
            if (start >= file.size) {
                break; // blocks past EOF (preallocation) are legal and not content
            }
            long end = Math.min(file.size, (e.startOff() + e.count()) << g.blockLog);
            long base = g.fsbOffset(e.startBlock());
            g.fsbOffset(e.startBlock() + e.count() - 1); // the whole extent must lie inside the filesystem
            if (e.unwritten()) {
                continue; // reads as zeros: part of the next hole
            }
            if (start > done) {
                hole.add(md, start - done);
            }
            for (done = start; done < end; ) {
                int n = (int) Math.min(READ_CHUNK, end - done);
                md.update(image.read(base + (done - start), n));
                done += n;
            }
        }
        if (file.size > done) {
            hole.add(md, file.size - done); // a sparse tail
        }
        return (sparse ? "sparse:" : "") + HexFormat.of().formatHex(md.digest());
    }

    /** How a run of zeros enters the digest. */
    private interface Hole {
        void add(MessageDigest md, long length);
    }

    private static final byte[] ZEROS = new byte[READ_CHUNK];

    private static void zeroFill(MessageDigest md, long length) {
        while (length > 0) {
            int n = (int) Math.min(ZEROS.length, length);
            md.update(ZEROS, 0, n);
            length -= n;
        }
    }
}
