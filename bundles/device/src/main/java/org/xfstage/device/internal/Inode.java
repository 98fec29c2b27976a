package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.xfstage.api.device.FileType;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * One decoded v3 inode: its core, its data fork, and the extent map of that fork (from the inode for EXTENTS,
 * through the bmbt for BTREE). Verified on read: magic, version, CRC, di_ino, uuid, fork bounds.
 */
final class Inode {
    static final int CORE_SIZE = 176;
    static final int FMT_DEV = 0;
    static final int FMT_LOCAL = 1;
    static final int FMT_EXTENTS = 2;
    static final int FMT_BTREE = 3;
    static final long BMBT_MAGIC = 0x424D4133L; // BMA3
    private static final int LBLOCK_HDR = 72;
    private static final int BMBT_REC = 16;
    /** No bmbt is deeper than this (XFS allows at most 9 levels for the data fork on 512-byte blocks). */
    private static final int MAX_BMBT_LEVELS = 10;
    private static final long NREXT64_FLAG = 1L << 4;

    /** One mapping of the data fork: file blocks [startOff, startOff+count) at filesystem block startBlock. */
    record Extent(long startOff, long startBlock, long count, boolean unwritten) {

        /**
         * The filesystem block that holds file block {@code off} in {@code map} (in offset order, no extent overlapping
         * another), or -1 when no extent maps it.
         */
        static long blockAt(List<Extent> map, long off) {
            int lo = 0;
            int hi = map.size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                Extent e = map.get(mid);
                if (off < e.startOff()) {
                    hi = mid - 1;
                } else if (off >= e.startOff() + e.count()) {
                    lo = mid + 1;
                } else {
                    return e.startBlock() + (off - e.startOff());
                }
            }
            return -1;
        }
    }

    final long ino;
    final Struct core;
    final int mode;
    final int format;
    final long size;
    final int nlink;
    final long nextents;
    private final byte[] raw;
    private final int forkSize;

    private Inode(long ino, Struct core, byte[] raw, int forkSize) {
        this.ino = ino;
        this.core = core;
        this.raw = raw;
        this.forkSize = forkSize;
        this.mode = (int) core.get(F_MODE);
        this.format = (int) core.get(F_FORMAT);
        this.size = core.get(F_SIZE);
        this.nlink = (int) core.get(F_NLINK);
        boolean big = (core.get(F_FLAGS2) & NREXT64_FLAG) != 0;
        this.nextents = big ? core.get(F_BIG_NEXTENTS) : core.get(F_NEXTENTS);
    }

    static Inode read(Image image, Geometry g, long ino) throws XfsException {
        return decode(image.read(g.inodeOffset(ino), g.inodeSize), g, ino);
    }

    /** Decodes and checks the bytes of inode {@code ino} (as read, or as a repair would write them). */
    static Inode decode(byte[] raw, Geometry g, long ino) throws XfsFormatException {
        Struct core = new Struct(Layouts.DINODE, raw, 0);
        // messages are built only on failure: a walk reads every inode, and most are fine
        if (core.get(MAGIC) != 0x494E) {
            throw bad(ino, "bad magic (not an inode)");
        }
        if (core.get(VERSION) != 3) {
            throw bad(ino, "version " + core.get(VERSION) + " is not a v3 inode");
        }
        if (!core.crcValid(0, g.inodeSize)) {
            throw bad(ino, "checksum mismatch");
        }
        if (core.get(INO) != ino) {
            throw bad(ino, "records itself as inode " + core.get(INO));
        }
        if (!Headers.sameUuid(core, g)) {
            throw bad(ino, "uuid is not this filesystem's");
        }
        int literal = g.inodeSize - CORE_SIZE;
        int forkoff = (int) core.get(F_FORKOFF) * 8;
        if (forkoff > literal) {
            throw bad(ino, "attribute fork offset past the inode");
        }
        int forkSize = forkoff == 0 ? literal : forkoff;
        Inode inode = new Inode(ino, core, raw, forkSize);
        if (inode.size < 0) {
            throw bad(ino, "negative size");
        }
        return inode;
    }

    private static final Layout.Field MAGIC = Layouts.DINODE.get("magic");
    // fields read for every inode, looked up once
    private static final Layout.Field F_MODE = Layouts.DINODE.get("mode");
    private static final Layout.Field F_FORMAT = Layouts.DINODE.get("format");
    private static final Layout.Field F_SIZE = Layouts.DINODE.get("size");
    private static final Layout.Field F_NLINK = Layouts.DINODE.get("nlink");
    private static final Layout.Field F_FLAGS2 = Layouts.DINODE.get("flags2");
    /** XFS_DIFLAG2_REFLINK: the inode's data blocks may be shared. */
    private static final long REFLINK_FLAG = 1 << 1;

    /** Whether the inode carries the reflink flag. */
    boolean reflinked() {
        return (core.get(F_FLAGS2) & REFLINK_FLAG) != 0;
    }
    private static final Layout.Field F_BIG_NEXTENTS = Layouts.DINODE.get("big_nextents");
    private static final Layout.Field F_NEXTENTS = Layouts.DINODE.get("nextents");
    private static final Layout.Field F_FORKOFF = Layouts.DINODE.get("forkoff");
    private static final Layout.Field F_AFORMAT = Layouts.DINODE.get("aformat");
    private static final Layout.Field F_ANEXTENTS = Layouts.DINODE.get("anextents");
    private static final Layout.Field VERSION = Layouts.DINODE.get("version");
    private static final Layout.Field INO = Layouts.DINODE.get("ino");

    private static XfsFormatException bad(long ino, String what) {
        return new XfsFormatException("inode " + ino + ": " + what);
    }

    FileType type() throws XfsFormatException {
        return switch (mode & 0xF000) {
            case 0x8000 -> FileType.FILE;
            case 0x4000 -> FileType.DIRECTORY;
            case 0xA000 -> FileType.SYMLINK;
            case 0x2000 -> FileType.CHAR_DEVICE;
            case 0x6000 -> FileType.BLOCK_DEVICE;
            case 0x1000 -> FileType.FIFO;
            case 0xC000 -> FileType.SOCKET;
            default -> throw new XfsFormatException("inode " + ino + ": unknown file type in mode 0" + Integer.toOctalString(mode));
        };
    }

    /**
     * The file type, after checking that the data fork's format is one that type can have: regular files are extents
     * or btree (never inline), directories inline, extents or btree, symlinks inline or extents, devices DEV.
     */
    FileType checkedType() throws XfsFormatException {
        FileType t = type();
        boolean ok = switch (t) {
            case FILE -> format == FMT_EXTENTS || format == FMT_BTREE;
            case DIRECTORY -> format == FMT_LOCAL || format == FMT_EXTENTS || format == FMT_BTREE;
            case SYMLINK -> format == FMT_LOCAL || format == FMT_EXTENTS;
            default -> format == FMT_DEV;
        };
        Headers.check(ok, () -> "inode " + ino + ": a " + t.name().toLowerCase().replace('_', ' ') + " cannot have data fork format " + format);
        return t;
    }

    /** The inode's bytes with core fields set (CRC set). */
    byte[] with(java.util.Map<String, Long> fields) {
        Struct s = new Struct(Layouts.DINODE, raw.clone(), 0);
        fields.forEach(s::set);
        return s.encode(0, raw.length);
    }

    /** The inode's bytes with its data fork replaced by {@code fork} (the whole fork) and its size set (CRC set). */
    byte[] withLocalData(byte[] fork, long newSize) {
        byte[] b = raw.clone();
        System.arraycopy(fork, 0, b, CORE_SIZE, Math.min(fork.length, forkSize));
        Struct s = new Struct(Layouts.DINODE, b, 0);
        s.set("size", newSize);
        return s.encode(0, b.length);
    }

    /** Bytes of the data fork (the literal area, or up to the attribute fork). */
    int dataForkSize() {
        return forkSize;
    }

    /** The inline bytes of a LOCAL data fork (up to the fork size). */
    byte[] localData() throws XfsFormatException {
        Headers.check(format == FMT_LOCAL, () -> "inode " + ino + ": data fork is not local");
        Headers.check(size <= forkSize, () -> "inode " + ino + ": local data of " + size + " bytes does not fit the fork of " + forkSize);
        return Arrays.copyOfRange(raw, CORE_SIZE, CORE_SIZE + (int) size);
    }

    /** The data fork's extent map in file order, read through the bmbt when the fork is a btree. */
    List<Extent> extents(Image image, Geometry g) throws XfsException {
        return forkExtents(image, g, false, b -> { });
    }

    /**
     * The extent map of the data or attribute fork, in offset order; the blocks of its bmbt (when it is a btree) go
     * to {@code bmbtBlocks} as filesystem block numbers.
     */
    List<Extent> forkExtents(Image image, Geometry g, boolean attr, java.util.function.LongConsumer bmbtBlocks) throws XfsException {
        List<Extent> out = new ArrayList<>();
        int fmt = attr ? (int) core.get(F_AFORMAT) : format;
        int forkoff = (int) core.get(F_FORKOFF) * 8;
        if (attr && forkoff == 0) {
            return out;
        }
        int start = attr ? CORE_SIZE + forkoff : CORE_SIZE;
        int size = attr ? g.inodeSize - CORE_SIZE - forkoff : forkSize;
        long count = attr ? ((core.get(F_FLAGS2) & NREXT64_FLAG) != 0 ? core.get(F_NEXTENTS) : core.get(F_ANEXTENTS)) : nextents;
        String fork = attr ? "attribute fork" : "data fork";
        if (fmt == FMT_EXTENTS) {
            Headers.check(count >= 0 && count * BMBT_REC <= size, () -> "inode " + ino + ": " + count + " extents do not fit the " + fork);
            for (int i = 0; i < count; i++) {
                out.add(record(raw, start + i * BMBT_REC));
            }
        } else if (fmt == FMT_BTREE) {
            Headers.check(size >= 4, () -> "inode " + ino + ": " + fork + " too small for a bmbt root");
            int level = u16(raw, start);
            int numrecs = u16(raw, start + 2);
            int maxrecs = (size - 4) / 16;
            Headers.check(level >= 1 && level < MAX_BMBT_LEVELS && numrecs >= 1 && numrecs <= maxrecs,
                    () -> "inode " + ino + ": bad bmbt root in the " + fork + " (level " + level + ", " + numrecs + " records)");
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < numrecs; i++) {
                long ptr = u64(raw, start + 4 + maxrecs * 8 + i * 8);
                walkBmbt(image, g, ptr, level - 1, seen, out, bmbtBlocks);
            }
        } else {
            Headers.check(fmt == FMT_DEV || fmt == FMT_LOCAL, () -> "inode " + ino + ": unknown " + fork + " format " + fmt);
            return out;
        }
        long prevEnd = 0;
        for (Extent e : out) {
            Headers.check(e.count > 0 && e.startOff >= prevEnd, () -> "inode " + ino + ": extents overlap or are out of order at file block " + e.startOff);
            prevEnd = e.startOff + e.count;
        }
        return out;
    }

    private void walkBmbt(Image image, Geometry g, long fsb, int level, Set<Long> seen, List<Extent> out,
            java.util.function.LongConsumer bmbtBlocks) throws XfsException {
        String where = "inode " + ino + " bmbt block " + fsb;
        Headers.check(seen.add(fsb), () -> where + ": reached twice (cycle)");
        Headers.check(seen.size() <= g.dataBlocks, () -> where + ": more bmbt blocks than the filesystem has");
        long offset = g.fsbOffset(fsb);
        byte[] block = image.read(offset, g.blockSize);
        Struct h = new Struct(Layouts.LBLOCK, block, 0);
        Headers.check(h.get("magic") == BMBT_MAGIC, () -> where + ": bad magic");
        Headers.check(h.crcValid(0, g.blockSize), () -> where + ": checksum mismatch");
        Headers.check(h.get("level") == level, () -> where + ": level " + h.get("level") + ", expected " + level);
        Headers.check(h.get("owner") == ino, () -> where + ": owned by inode " + h.get("owner"));
        Headers.check(h.get("blkno") == offset >> 9, () -> where + ": records itself at daddr " + h.get("blkno"));
        Headers.check(Headers.sameUuid(h, g), () -> where + ": uuid is not this filesystem's");
        bmbtBlocks.accept(fsb);
        int numrecs = (int) h.get("numrecs");
        if (level == 0) {
            Headers.check(numrecs <= (g.blockSize - LBLOCK_HDR) / BMBT_REC, () -> where + ": too many records");
            for (int i = 0; i < numrecs; i++) {
                out.add(record(block, LBLOCK_HDR + i * BMBT_REC));
            }
        } else {
            int maxrecs = (g.blockSize - LBLOCK_HDR) / 16;
            Headers.check(numrecs >= 1 && numrecs <= maxrecs, () -> where + ": bad record count " + numrecs);
            for (int i = 0; i < numrecs; i++) {
                walkBmbt(image, g, u64(block, LBLOCK_HDR + maxrecs * 8 + i * 8), level - 1, seen, out, bmbtBlocks);
            }
        }
    }

    /** Unpacks a 128-bit bmbt record: flag, startoff (54 bits), startblock (52), blockcount (21). */
    static Extent record(byte[] b, int at) {
        long l0 = u64(b, at);
        long l1 = u64(b, at + 8);
        return new Extent((l0 & 0x7FFFFFFFFFFFFFFFL) >>> 9, ((l0 & 0x1FFL) << 43) | (l1 >>> 21), l1 & 0x1FFFFFL, l0 < 0);
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    static long u32(byte[] b, int at) {
        return ((long) u16(b, at) << 16) | u16(b, at + 2);
    }

    static long u64(byte[] b, int at) {
        return (u32(b, at) << 32) | u32(b, at + 4);
    }
}
