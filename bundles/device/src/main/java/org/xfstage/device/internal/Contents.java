package org.xfstage.device.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.xfstage.api.device.XfsException;

/**
 * What inodes hold: directory entries (short form, and data blocks of block, leaf and node directories), symlink
 * targets (local, and remote blocks with their headers), and file content read through the extent map.
 */
final class Contents {
    static final long DIR3_BLOCK_MAGIC = 0x58444233L; // XDB3
    static final long DIR3_DATA_MAGIC = 0x58444433L; // XDD3
    static final long SYMLINK_MAGIC = 0x58534C4DL; // XSLM
    /** Directory data lives below 32 GiB of directory address space; leaf and free blocks above. */
    static final long DIR2_LEAF_OFFSET = 1L << 35;
    private static final int DIR3_DATA_HDR = 64;
    private static final int SYMLINK_HDR = 56;
    private static final int SYMLINK_MAXLEN = 1024;
    private static final int READ_CHUNK = 1 << 20;

    /** One directory entry. */
    record DirEntry(String name, long ino) {
    }

    private final Image image;
    private final Geometry g;

    Contents(Image image, Geometry g) {
        this.image = image;
        this.g = g;
    }

    /** The entries of a directory, without "." and "..". */
    List<DirEntry> directory(Inode dir) throws XfsException {
        return dir.format == Inode.FMT_LOCAL ? shortForm(dir) : dataBlocks(dir);
    }

    private List<DirEntry> shortForm(Inode dir) throws XfsException {
        byte[] d = dir.localData();
        String where = "directory inode " + dir.ino + " (short form)";
        Headers.check(d.length >= 6, () -> where + ": header truncated");
        int count = d[0] & 0xff;
        boolean i8 = (d[1] & 0xff) != 0;
        int inoSize = i8 ? 8 : 4;
        int pos = 2 + inoSize;
        List<DirEntry> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Headers.check(pos + 3 <= d.length, where + ": entry " + i + " past the end");
            int namelen = d[pos] & 0xff;
            int nameAt = pos + 3;
            int inoAt = nameAt + namelen + (g.hasFtype() ? 1 : 0);
            Headers.check(namelen > 0 && inoAt + inoSize <= d.length, where + ": entry " + i + " past the end");
            long ino = i8 ? Inode.u64(d, inoAt) & 0x00FFFFFFFFFFFFFFL : Inode.u32(d, inoAt);
            out.add(new DirEntry(new String(d, nameAt, namelen, StandardCharsets.UTF_8), ino));
            pos = inoAt + inoSize;
        }
        return out;
    }

    private List<DirEntry> dataBlocks(Inode dir) throws XfsException {
        List<Inode.Extent> map = dir.extents(image, g);
        long leafBlock = DIR2_LEAF_OFFSET >> g.blockLog;
        int fsbPerDirBlock = g.dirBlockSize / g.blockSize;
        List<DirEntry> out = new ArrayList<>();
        for (Inode.Extent e : map) {
            for (long b = e.startOff(); b < e.startOff() + e.count() && b < leafBlock; b++) {
                if (b % fsbPerDirBlock != 0) {
                    continue; // not the first block of a directory block
                }
                byte[] block = readDirBlock(map, b, fsbPerDirBlock, dir.ino);
                entries(block, dir.ino, b, out);
            }
        }
        return out;
    }

    /** The directory block starting at file block {@code first}, mapped block by block. */
    private byte[] readDirBlock(List<Inode.Extent> map, long first, int fsbPerDirBlock, long ino) throws XfsException {
        byte[] out = new byte[g.dirBlockSize];
        for (int i = 0; i < fsbPerDirBlock; i++) {
            long fsb = map(map, first + i);
            Headers.check(fsb >= 0, () -> "directory inode " + ino + ": directory block at file block " + first + " is not fully mapped");
            System.arraycopy(image.read(g.fsbOffset(fsb), g.blockSize), 0, out, i * g.blockSize, g.blockSize);
        }
        return out;
    }

    private static long map(List<Inode.Extent> map, long fileBlock) {
        for (Inode.Extent e : map) {
            if (fileBlock >= e.startOff() && fileBlock < e.startOff() + e.count()) {
                return e.startBlock() + (fileBlock - e.startOff());
            }
        }
        return -1;
    }

    private void entries(byte[] block, long ino, long fileBlock, List<DirEntry> out) throws XfsException {
        String where = "directory inode " + ino + " block " + fileBlock; // one per directory block, not per entry
        Struct h = new Struct(Layouts.DIR3_DATA, block, 0);
        long magic = h.get("magic");
        Headers.check(magic == DIR3_BLOCK_MAGIC || magic == DIR3_DATA_MAGIC, () -> where + ": bad magic");
        Headers.check(h.crcValid(0, block.length), () -> where + ": checksum mismatch");
        Headers.check(h.get("owner") == ino, () -> where + ": owned by inode " + h.get("owner"));
        Headers.check(Headers.sameUuid(h, g), () -> where + ": uuid is not this filesystem's");
        int end = block.length;
        if (magic == DIR3_BLOCK_MAGIC) {
            long count = Inode.u32(block, block.length - 8);
            Headers.check(count <= (block.length - DIR3_DATA_HDR - 8) / 8, () -> where + ": bad leaf count " + count);
            end = block.length - 8 - (int) count * 8;
        }
        int pos = DIR3_DATA_HDR;
        while (pos < end) {
            Headers.check(pos + 8 <= end, where + ": entry at " + pos + " runs past the data");
            if (Inode.u16(block, pos) == 0xFFFF) { // unused space: freetag, length
                int len = Inode.u16(block, pos + 2);
                Headers.check(len >= 8 && len % 8 == 0 && pos + len <= end, where + ": bad free space length " + len + " at " + pos);
                pos += len;
                continue;
            }
            long entIno = Inode.u64(block, pos);
            int namelen = block[pos + 8] & 0xff;
            int entsize = (8 + 1 + namelen + (g.hasFtype() ? 1 : 0) + 2 + 7) & ~7;
            Headers.check(namelen > 0 && pos + entsize <= end, where + ": bad entry at " + pos);
            Headers.check(Inode.u16(block, pos + entsize - 2) == pos, where + ": entry tag at " + pos + " does not point back");
            String name = new String(block, pos + 9, namelen, StandardCharsets.UTF_8);
            if (!name.equals(".") && !name.equals("..")) {
                out.add(new DirEntry(name, entIno));
            }
            pos += entsize;
        }
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
