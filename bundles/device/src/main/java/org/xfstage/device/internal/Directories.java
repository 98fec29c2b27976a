package org.xfstage.device.internal;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectoryProblem.Kind;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * The verifying directory reader: every rule a directory can be held to on its own, in the four forms (short form in
 * the inode; one block holding entries and hash index; data blocks with one leaf block; data blocks with a hash
 * index btree and free index blocks), as the kernel's verifiers, online scrub and xfs_repair check them.
 * <p>
 * A directory's address space has three parts of 32 GiB each: data blocks from 0, the hash index (leaf, node) from
 * {@link #LEAF_OFFSET}, the free index from {@link #FREE_OFFSET}; a directory block is one or more filesystem blocks
 * ({@code sb_dirblklog}). The form follows from the end of the last extent (xfs_dir2_format), never from the size.
 * <p>
 * The data blocks are read in address order: each one's header, its entries and unused records (which must tile it,
 * tags pointing back, no two unused records in a row) and its table of the three longest free regions. Every entry is
 * reported with the hash of its name, and kept in a small index of (address, hash) pairs, so that the hash index
 * read afterwards can be checked entry by entry: in hash order, each live address pointing exactly at one entry with
 * that hash, stale entries counted, every entry pointed at once. The index costs 9 bytes per entry of one directory,
 * as xfs_repair's hash table does; names are never kept. Node keys are checked against the greatest hash below them,
 * sibling links level by level; the free index (and a leaf directory's tail) against each data block's longest free
 * region. Damage is reported and the read goes on where it can: a count or pointer that cannot be trusted ends the
 * read of that block or tree with a problem marked {@code entriesLost}; every loop is bounded by a block's size, a
 * tree's depth, or the blocks the extent map holds.
 */
final class Directories {
    static final long BLOCK_MAGIC = 0x58444233L; // XDB3: a single-block directory
    static final long DATA_MAGIC = 0x58444433L; // XDD3: a data block of a leaf or node directory
    static final long FREE_MAGIC = 0x58444633L; // XDF3: a free index block
    static final int LEAF1_MAGIC = 0x3df1; // XFS_DIR3_LEAF1_MAGIC: the one leaf of a leaf directory (with bests tail)
    static final int LEAFN_MAGIC = 0x3dff; // XFS_DIR3_LEAFN_MAGIC: a leaf of a node directory
    static final int NODE_MAGIC = 0x3ebe; // XFS_DA3_NODE_MAGIC
    /** Data space, hash index space and free index space each span 32 GiB of directory addresses. */
    static final long LEAF_OFFSET = 1L << 35;
    static final long FREE_OFFSET = 1L << 36;
    /** Directory offsets must fit 32 bits of filesystem blocks (xfs_verify_dablk). */
    private static final long MAX_DABLK = 1L << 32;
    /** Header of data, leaf, node and free blocks alike (v5). */
    private static final int HDR = 64;
    private static final int BLOCK_TAIL = 8;
    private static final int LEAF_TAIL = 4;
    private static final int LEAF_ENTRY = 8;
    private static final int FREE_TAG = 0xFFFF;
    /** NULLDATAOFF: a bests slot of a data block that does not exist. */
    private static final int NO_BLOCK = 0xFFFF;
    /** XFS_DA_NODE_MAXDEPTH. */
    private static final int MAX_NODE_LEVEL = 5;
    /** XFS_DIR3_FT_MAX: file types 0 (unknown) to 8 (whiteout). */
    private static final int FT_MAX = 9;
    /** XFS_DIR2_MAX_SHORT_INUM: larger inode numbers make a short-form directory use 8 bytes for all of them. */
    private static final long MAX_SHORT_INUM = 0xFFFFFFFFL;
    /** XFS_MAXINUMBER: short-form inode numbers keep 56 bits. */
    private static final long MAX_INUM = (1L << 56) - 1;
    /** Where the first entry after "." and ".." of a block would lie (data_first_offset): short-form offsets start here. */
    private static final int FIRST_OFFSET = HDR + 16 + 16;
    private static final FileType[] FILE_TYPES = {null, FileType.FILE, FileType.DIRECTORY, FileType.CHAR_DEVICE,
            FileType.BLOCK_DEVICE, FileType.FIFO, FileType.SOCKET, FileType.SYMLINK, null};

    private final Image image;
    private final Geometry g;
    private final InodeNumbers inodes;
    private final int fsbPerDirBlock;
    private final long leafBlk;
    private final long freeBlk;

    Directories(Image image, Geometry g, InodeNumbers inodes) {
        this.image = image;
        this.g = g;
        this.inodes = inodes;
        this.fsbPerDirBlock = g.dirBlockSize / g.blockSize;
        this.leafBlk = LEAF_OFFSET >> g.blockLog;
        this.freeBlk = FREE_OFFSET >> g.blockLog;
    }

    /**
     * Reads directory {@code dir}, handing entries and problems to {@code sink}.
     *
     * @param full also the hash index and free index (otherwise only what lists the entries: the short form, or the
     *             data blocks)
     */
    void read(Inode dir, DirectorySink sink, boolean full) {
        new Reader(dir, sink, full).run();
    }

    /**
     * The size directory {@code dir}'s blocks make it, whatever its size says: one directory block when its extent map
     * ends after the first (a single-block directory), else the end of its last data block when the map ends in the
     * leaf or node space (xfs_dir2_format tells the form from the map, not the size); -1 when the map is no directory
     * form, cannot be read, or no data block reads. The caller reads the directory again with that size to prove it.
     */
    long sizeOfBlocks(Inode dir) {
        if (dir.format != Inode.FMT_EXTENTS && dir.format != Inode.FMT_BTREE) {
            return -1;
        }
        Reader r = new Reader(dir, new DirectorySink() {
            @Override
            public void entry(org.xfstage.api.device.DirectoryEntry e) {
            }

            @Override
            public void problem(DirectoryProblem p) {
            }
        }, false);
        r.run();
        if (r.map == null || r.map.extents() == 0) {
            return -1;
        }
        long last = r.map.end(r.map.extents() - 1);
        if (last == fsbPerDirBlock) {
            return g.dirBlockSize;
        }
        if (last >= leafBlk + fsbPerDirBlock && r.lastDataDb >= 0) {
            return (r.lastDataDb + 1) * g.dirBlockSize;
        }
        return -1;
    }

    /** The entry size of a name in a data block (xfs_dir2_data_entsize): inumber, namelen, name, ftype, tag, 8-aligned. */
    private int entsize(int namelen) {
        return (8 + 1 + namelen + (g.hasFtype() ? 1 : 0) + 2 + 7) & ~7;
    }

    /**
     * The file type an entry records, or null for none (unknown, or a filesystem without types). A whiteout (8) is
     * null too: it is no file type the named inode's mode can have, so a caller comparing them sees a mismatch.
     */
    private FileType fileType(int code) {
        return g.hasFtype() && code < FT_MAX ? FILE_TYPES[code] : null;
    }

    /** Growable int list without boxing. */
    private static final class Ints {
        int[] a = new int[64];
        int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }
    }

    /** The directory blocks of one extent map: lookups by file block. */
    private static final class DirMap {
        private final long[] off;
        private final long[] start;
        private final long[] count;

        DirMap(List<Inode.Extent> extents) {
            int n = extents.size();
            off = new long[n];
            start = new long[n];
            count = new long[n];
            for (int i = 0; i < n; i++) {
                Inode.Extent e = extents.get(i);
                off[i] = e.startOff();
                start[i] = e.startBlock();
                count[i] = e.count();
            }
        }

        /** The filesystem block of file block {@code fb}, or -1 when it is a hole. */
        long map(long fb) {
            int lo = 0;
            int hi = off.length - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (fb < off[mid]) {
                    hi = mid - 1;
                } else if (fb >= off[mid] + count[mid]) {
                    lo = mid + 1;
                } else {
                    return start[mid] + (fb - off[mid]);
                }
            }
            return -1;
        }

        int extents() {
            return off.length;
        }

        long offset(int i) {
            return off[i];
        }

        long end(int i) {
            return off[i] + count[i];
        }
    }

    /** Visits the first file block of each directory block that has a mapped block in a range. */
    private interface DirBlockVisitor {
        void visit(long dablk) throws XfsException;
    }

    /** One read of one directory. */
    private final class Reader {
        private final Inode dir;
        private final long ino;
        private final DirectorySink sink;
        private final boolean full;
        private DirMap map;
        /** Addresses (data-space byte offset / 8) and hashes of the entries read, in address order. */
        private final Ints addrs = new Ints();
        private final Ints hashes = new Ints();
        /** For case-insensitive names with a Latin-1 capital: the hash older xfsprogs gave them (see DirHash). */
        private final java.util.Map<Integer, Integer> olderHashes = new java.util.HashMap<>();
        private final BitSet indexed = new BitSet();
        /** Data blocks read (by data block number) and their longest free region; -1 when it could not be trusted. */
        private final TreeMap<Long, Integer> dataBests = new TreeMap<>();
        private long lastDataDb = -1;
        /** Whether every part of the hash index was read, so that entries it does not point at can be told. */
        private boolean indexWhole = true;
        private int dots;
        private int dotdots;
        private boolean firstBlockRead;

        Reader(Inode dir, DirectorySink sink, boolean full) {
            this.dir = dir;
            this.ino = dir.ino;
            this.sink = sink;
            this.full = full;
        }

        private void problem(Kind kind, long block, int offset, String detail, boolean lost) {
            sink.problem(new DirectoryProblem(ino, kind, block, offset, detail, lost));
        }

        void run() {
            if (dir.format == Inode.FMT_LOCAL) {
                shortForm();
                return;
            }
            if (dir.format != Inode.FMT_EXTENTS && dir.format != Inode.FMT_BTREE) {
                problem(Kind.FORMAT, -1, -1, "data fork format " + dir.format + " is no directory format", true);
                return;
            }
            List<Inode.Extent> extents;
            try {
                extents = dir.extents(image, g);
            } catch (XfsException e) {
                problem(Kind.UNREADABLE, -1, -1, "extent map: " + e.getMessage(), true);
                return;
            }
            if (extents.isEmpty()) {
                problem(Kind.FORMAT, -1, -1, "no blocks mapped and not short form", true);
                return;
            }
            map = new DirMap(extents);
            for (int i = 0; i < map.extents(); i++) {
                if (map.end(i) > MAX_DABLK) {
                    problem(Kind.FORMAT, map.offset(i), -1, "blocks mapped past the 32-bit directory address space", false);
                }
            }
            if (dir.size <= dir.dataForkSize()) {
                problem(Kind.FORMAT, -1, -1, "size " + dir.size + " fits the inode, so the directory must be short form", false);
            }
            long last = map.end(map.extents() - 1);
            boolean block = last == fsbPerDirBlock;
            boolean leaf = last == leafBlk + fsbPerDirBlock;
            boolean node = last > leafBlk + fsbPerDirBlock;
            if (!block && !leaf && !node) {
                problem(Kind.FORMAT, -1, -1, "the extent map ends at file block " + last + ", where no directory form ends", false);
            }
            if (!forEachDirBlock(0, Math.min(last, leafBlk), dablk -> dataBlock(dablk, block)) && block) {
                indexWhole = false;
            }
            if (block && dir.size != g.dirBlockSize) {
                problem(Kind.SIZE, -1, -1, "size " + dir.size + ", a single-block directory's is " + g.dirBlockSize, false);
            } else if ((leaf || node) && lastDataDb >= 0) {
                long end = (lastDataDb + 1) * g.dirBlockSize;
                if (dir.size != end) {
                    problem(Kind.SIZE, -1, -1, "size " + dir.size + ", but the last data block ends at " + end, false);
                }
            }
            if (firstBlockRead) {
                if (dots == 0) {
                    problem(Kind.DOT_ENTRIES, 0, -1, "no . entry", false);
                }
                if (dotdots == 0) {
                    problem(Kind.DOT_ENTRIES, 0, -1, "no .. entry", false);
                }
            }
            if (!full) {
                return;
            }
            if (block) {
                unseenEntries();
            } else if (leaf) {
                leafBlock();
                unseenEntries();
            } else if (node) {
                hashTree(last);
                unseenEntries();
                freeIndex(last);
            }
        }

        /**
         * Each directory block with a mapped block in [from, to), by its first file block; false when one of them could
         * not be read (reported).
         */
        private boolean forEachDirBlock(long from, long to, DirBlockVisitor v) {
            boolean all = true;
            long prev = -1;
            for (int i = 0; i < map.extents(); i++) {
                long lo = Math.max(from, map.offset(i));
                long hi = Math.min(to, map.end(i));
                for (long b = lo; b < hi; ) {
                    long start = b - Math.floorMod(b - from, fsbPerDirBlock);
                    if (start != prev) {
                        prev = start;
                        try {
                            v.visit(start);
                        } catch (XfsException e) {
                            problem(Kind.UNREADABLE, start, -1, e.getMessage(), true);
                            all = false;
                        }
                    }
                    b = start + fsbPerDirBlock;
                }
            }
            return all;
        }

        /** The directory block at {@code dablk}, or null (reported) when part of it is not mapped. */
        private byte[] readDirBlock(long dablk) throws XfsException {
            byte[] out = new byte[g.dirBlockSize];
            for (int i = 0; i < fsbPerDirBlock; i++) {
                long fsb = map.map(dablk + i);
                if (fsb < 0) {
                    problem(Kind.FORMAT, dablk, -1, "directory block not fully mapped (file block " + (dablk + i) + " is a hole)", true);
                    return null;
                }
                System.arraycopy(image.read(g.fsbOffset(fsb), g.blockSize), 0, out, i * g.blockSize, g.blockSize);
            }
            return out;
        }

        /** The 512-byte sector a directory block records itself at: that of its first filesystem block. */
        private long daddr(long dablk) throws XfsException {
            return g.fsbOffset(map.map(dablk)) >> 9;
        }

        /** The header every v5 directory block has: checksum, place, owner, filesystem. False when it is not trusted. */
        private boolean selfDescribed(Struct h, byte[] b, long dablk) throws XfsException {
            boolean ok = true;
            if (!h.crcValid(0, b.length)) {
                problem(Kind.HEADER, dablk, -1, "checksum mismatch", true);
                ok = false;
            }
            long daddr = daddr(dablk);
            if (h.get("blkno") != daddr) {
                problem(Kind.HEADER, dablk, -1, "records itself at sector " + h.get("blkno") + ", it is at " + daddr, true);
                ok = false;
            }
            if (h.get("owner") != ino) {
                problem(Kind.HEADER, dablk, -1, "owned by inode " + h.get("owner"), true);
                ok = false;
            }
            if (!Headers.sameUuid(h, g)) {
                problem(Kind.HEADER, dablk, -1, "uuid is not this filesystem's", true);
                ok = false;
            }
            return ok;
        }

        // ---- short form ----

        private void shortForm() {
            if (dir.size > dir.dataForkSize()) {
                problem(Kind.FORMAT, -1, -1, "short-form data of " + dir.size + " bytes does not fit the data fork of "
                        + dir.dataForkSize(), true);
                return;
            }
            byte[] d;
            try {
                d = dir.localData();
            } catch (XfsFormatException e) {
                problem(Kind.FORMAT, -1, -1, e.getMessage(), true);
                return;
            }
            if (d.length < 2 || d.length < (d[1] != 0 ? 10 : 6)) {
                problem(Kind.SHORT_FORM, -1, 0, "header truncated: size " + d.length, true);
                return;
            }
            int count = d[0] & 0xff;
            int i8count = d[1] & 0xff;
            int inoSize = i8count != 0 ? 8 : 4;
            if (!tiles(d, count, inoSize) && tiles(d, count, 12 - inoSize)) {
                // a damaged i8count: the entries tile the data exactly with the other width (the i8count check below
                // reports it), so they are read as they are instead of as garbage (xfs_repair corrects i8count too)
                inoSize = 12 - inoSize;
            }
            long parent = inoSize == 8 ? Inode.u64(d, 2) & MAX_INUM : Inode.u32(d, 2);
            int big = parent > MAX_SHORT_INUM ? 1 : 0;
            byte[] dotdot = {'.', '.'};
            sink.entry(new DirectoryEntry(ino, dotdot, DirHash.hash(dotdot, 0, 2, g.asciiCi), parent, null, -1));
            dotdot(parent, -1, 2);
            int ftype = g.hasFtype() ? 1 : 0;
            int pos = 2 + inoSize;
            int expected = FIRST_OFFSET;
            boolean whole = true;
            for (int i = 0; i < count; i++) {
                if (pos + 3 >= d.length) {
                    problem(Kind.SHORT_FORM, -1, pos, "entry " + i + " of " + count + " starts past the end of the data (size " + d.length + ")", true);
                    whole = false;
                    break;
                }
                int namelen = d[pos] & 0xff;
                int offset = Inode.u16(d, pos + 1);
                int next = pos + 3 + namelen + ftype + inoSize;
                if (next > d.length) {
                    problem(Kind.SHORT_FORM, -1, pos, "entry " + i + " of " + count + " runs past the end of the data (size " + d.length + ")", true);
                    whole = false;
                    break;
                }
                if (offset < expected) {
                    problem(Kind.SHORT_FORM, -1, pos, "entry " + i + " has offset " + offset + ", below " + expected, false);
                }
                int inoAt = pos + 3 + namelen + ftype;
                long child = inoSize == 8 ? Inode.u64(d, inoAt) & MAX_INUM : Inode.u32(d, inoAt);
                big += child > MAX_SHORT_INUM ? 1 : 0;
                byte[] name = Arrays.copyOfRange(d, pos + 3, pos + 3 + namelen);
                int code = ftype == 0 ? 0 : d[pos + 3 + namelen] & 0xff;
                entry(name, child, code, offset, -1, pos);
                if (isDot(name) || isDotDot(name)) {
                    problem(Kind.DOT_ENTRIES, -1, pos, "a short-form directory keeps no entry named " + new String(name), false);
                }
                expected = offset + entsize(namelen);
                pos = next;
            }
            if (!whole) {
                return;
            }
            if (big != i8count) {
                problem(Kind.SHORT_FORM, -1, 1, "i8count " + i8count + ", but " + big + " inode numbers need 8 bytes", false);
            }
            if (pos != d.length) {
                problem(Kind.SIZE, -1, pos, count + " entries end at byte " + pos + ", the size is " + d.length
                        + " (the count or the size is wrong)", false);
            }
            if (expected + (count + 2L) * LEAF_ENTRY + BLOCK_TAIL > g.dirBlockSize) {
                problem(Kind.SHORT_FORM, -1, -1, "its entries would not fit one directory block", false);
            }
        }

        /**
         * Whether {@code count} short-form entries with {@code inoSize}-byte inode numbers end exactly at the end of
         * the data, each with a name of at least one byte and no '/' or NUL.
         */
        private boolean tiles(byte[] d, int count, int inoSize) {
            int ftype = g.hasFtype() ? 1 : 0;
            int pos = 2 + inoSize;
            for (int i = 0; i < count; i++) {
                if (pos + 3 > d.length) {
                    return false;
                }
                int namelen = d[pos] & 0xff;
                if (namelen == 0 || pos + 3 + namelen + ftype + inoSize > d.length) {
                    return false;
                }
                for (int k = 0; k < namelen; k++) {
                    byte c = d[pos + 3 + k];
                    if (c == '/' || c == 0) {
                        return false;
                    }
                }
                pos += 3 + namelen + ftype + inoSize;
            }
            return pos == d.length;
        }

        // ---- entries ----

        /**
         * Checks and reports one entry (name, inode number, file type, "." and ".." rules) and keeps its address and
         * hash. {@code dablk} is -1 for a short-form entry, whose {@code offset} is the one it would have in a block.
         */
        private void entry(byte[] name, long child, int code, long offset, long dablk, int at) {
            if (name.length == 0) {
                problem(Kind.NAME, dablk, at, "empty name", true);
                return;
            }
            for (byte c : name) {
                if (c == '/' || c == 0) {
                    problem(Kind.NAME, dablk, at, "name \"" + printable(name) + "\" holds " + (c == 0 ? "a NUL" : "'/'"), false);
                    break;
                }
            }
            if (!inodes.validForEntry(child)) {
                problem(Kind.INODE_NUMBER, dablk, at, "\"" + printable(name) + "\" names " + child + ", which is no inode number of this filesystem", false);
            }
            if (code >= FT_MAX) {
                problem(Kind.FILE_TYPE, dablk, at, "\"" + printable(name) + "\" has file type " + code, false);
            }
            int hash = DirHash.hash(name, 0, name.length, g.asciiCi);
            sink.entry(new DirectoryEntry(ino, name, hash, child, fileType(code), offset));
            if (dablk < 0) {
                if (child == ino) {
                    problem(Kind.DOT_ENTRIES, dablk, at, "\"" + printable(name) + "\" names the directory itself", false);
                }
                return;
            }
            if (g.asciiCi && DirHash.hasLatin1Capital(name)) {
                olderHashes.put(addrs.n, DirHash.hashAsciiOnly(name, 0, name.length));
            }
            addrs.add((int) (offset >>> 3));
            hashes.add(hash);
            long db = dablk / fsbPerDirBlock;
            if (isDot(name)) {
                if (++dots > 1) {
                    problem(Kind.DOT_ENTRIES, dablk, at, "a second . entry", false);
                } else if (db != 0 || at != HDR) {
                    problem(Kind.DOT_ENTRIES, dablk, at, ". is not the first entry of the first block", false);
                }
                if (child != ino) {
                    problem(Kind.DOT_ENTRIES, dablk, at, ". names inode " + child + ", not the directory", false);
                }
            } else if (isDotDot(name)) {
                if (++dotdots > 1) {
                    problem(Kind.DOT_ENTRIES, dablk, at, "a second .. entry", false);
                } else if (db != 0) {
                    problem(Kind.DOT_ENTRIES, dablk, at, ".. is not in the first block", false);
                }
                dotdot(child, dablk, at);
            } else if (child == ino) {
                problem(Kind.DOT_ENTRIES, dablk, at, "\"" + printable(name) + "\" names the directory itself", false);
            }
        }

        /** ".." names the parent: itself only in the root, and the root's names the root. */
        private void dotdot(long parent, long dablk, int at) {
            if (ino == g.rootIno && parent != ino) {
                problem(Kind.DOT_ENTRIES, dablk, at, "the root directory's .. names inode " + parent + ", not the root", false);
            } else if (ino != g.rootIno && parent == ino) {
                problem(Kind.DOT_ENTRIES, dablk, at, ".. names the directory itself", false);
            } else if (!inodes.validForEntry(parent)) {
                problem(Kind.INODE_NUMBER, dablk, at, ".. names " + parent + ", which is no inode number of this filesystem", false);
            }
        }

        // ---- data blocks ----

        private void dataBlock(long dablk, boolean blockForm) throws XfsException {
            long db = dablk / fsbPerDirBlock;
            lastDataDb = Math.max(lastDataDb, db);
            dataBests.put(db, -1);
            byte[] b = readDirBlock(dablk);
            if (b == null) {
                return;
            }
            Struct h = new Struct(Layouts.DIR3_DATA, b, 0);
            long magic = h.get("magic");
            long want = blockForm ? BLOCK_MAGIC : DATA_MAGIC;
            if (magic != want) {
                if (magic != BLOCK_MAGIC && magic != DATA_MAGIC) {
                    problem(Kind.HEADER, dablk, 0, "bad magic 0x" + Long.toHexString(magic) + " for a directory data block", true);
                    return;
                }
                problem(Kind.HEADER, dablk, 0, "magic of a " + (magic == BLOCK_MAGIC ? "single-block directory" : "data block")
                        + " in a " + (blockForm ? "single-block directory" : "directory of several blocks"), false);
            }
            boolean trusted = selfDescribed(h, b, dablk);
            int end = b.length;
            long count = 0;
            long stale = 0;
            if (magic == BLOCK_MAGIC) {
                count = Inode.u32(b, end - BLOCK_TAIL);
                stale = Inode.u32(b, end - BLOCK_TAIL + 4);
                long max = (b.length - HDR - BLOCK_TAIL) / LEAF_ENTRY;
                if (count >= max) {
                    problem(Kind.LEAF_COUNT, dablk, end - BLOCK_TAIL, "count " + count + ": more hash index entries than the block holds", true);
                    indexWhole = false;
                    return;
                }
                end = b.length - BLOCK_TAIL - (int) count * LEAF_ENTRY;
            }
            int firstIndexed = addrs.n;
            int[] freeAt = new int[b.length / 8];
            int[] freeLen = new int[b.length / 8];
            int frees = 0;
            boolean lastFree = false;
            int pos = HDR;
            boolean whole = true;
            while (pos < end) {
                if (end - pos < 8) {
                    problem(Kind.ENTRY, dablk, pos, "the last " + (end - pos) + " bytes hold no entry", true);
                    whole = false;
                    break;
                }
                if (Inode.u16(b, pos) == FREE_TAG) {
                    int len = Inode.u16(b, pos + 2);
                    if (len < 8 || len % 8 != 0 || pos + len > end) {
                        problem(Kind.ENTRY, dablk, pos, "unused region of bad length " + len, true);
                        whole = false;
                        break;
                    }
                    if (Inode.u16(b, pos + len - 2) != pos) {
                        problem(Kind.ENTRY, dablk, pos, "unused region's tag says " + Inode.u16(b, pos + len - 2), true);
                        whole = false;
                        break;
                    }
                    if (lastFree) {
                        problem(Kind.BESTFREE, dablk, pos, "two unused regions in a row", false);
                    }
                    freeAt[frees] = pos;
                    freeLen[frees++] = len;
                    lastFree = true;
                    pos += len;
                    continue;
                }
                int namelen = b[pos + 8] & 0xff;
                int size = entsize(namelen);
                if (pos + size > end) {
                    problem(Kind.ENTRY, dablk, pos, "entry of " + size + " bytes runs past the data area", true);
                    whole = false;
                    break;
                }
                if (Inode.u16(b, pos + size - 2) != pos) {
                    problem(Kind.ENTRY, dablk, pos, "entry's tag says " + Inode.u16(b, pos + size - 2), true);
                    whole = false;
                    break;
                }
                byte[] name = Arrays.copyOfRange(b, pos + 9, pos + 9 + namelen);
                int code = g.hasFtype() ? b[pos + 9 + namelen] & 0xff : 0;
                entry(name, Inode.u64(b, pos), code, (dablk << g.blockLog) + pos, dablk, pos);
                lastFree = false;
                pos += size;
            }
            if (db == 0) {
                firstBlockRead = whole;
            }
            if (!whole) {
                if (blockForm) {
                    indexWhole = false; // the hash index of this block is not read: its entries cannot be told unindexed
                }
                return;
            }
            int entries = addrs.n - firstIndexed;
            if (entries == 0 && !blockForm) {
                problem(Kind.EMPTY_BLOCK, dablk, -1, "no entries (emptied data blocks are freed)", false);
            }
            bestFree(h, dablk, freeAt, freeLen, frees);
            if (trusted) {
                dataBests.put(db, (int) h.get("bf0_length"));
            }
            if (magic == BLOCK_MAGIC && full) {
                leafEntries(b, end, (int) count, dablk, 0, stale, -1);
            }
        }

        /**
         * The table of the three longest unused regions (bestfree): slots longest first, empty ones (0, 0) last; each
         * used slot is exactly an unused region, none twice; every region longer than the last slot is listed
         * (regions as long as it may be missing: the kernel keeps the first of equals).
         */
        private void bestFree(Struct h, long dablk, int[] freeAt, int[] freeLen, int frees) {
            int[] off = {(int) h.get("bf0_offset"), (int) h.get("bf1_offset"), (int) h.get("bf2_offset")};
            int[] len = {(int) h.get("bf0_length"), (int) h.get("bf1_length"), (int) h.get("bf2_length")};
            boolean[] listed = new boolean[frees];
            for (int i = 0; i < 3; i++) {
                if (len[i] == 0) {
                    if (off[i] != 0) {
                        problem(Kind.BESTFREE, dablk, -1, "slot " + i + " has offset " + off[i] + " and length 0", false);
                    }
                    continue;
                }
                if (i > 0 && len[i] > len[i - 1]) {
                    problem(Kind.BESTFREE, dablk, -1, "slot " + i + " (length " + len[i] + ") is longer than slot " + (i - 1)
                            + " (length " + len[i - 1] + ")", false);
                }
                int match = -1;
                for (int f = 0; f < frees; f++) {
                    if (freeAt[f] == off[i]) {
                        match = f;
                    }
                }
                if (match < 0 || freeLen[match] != len[i]) {
                    problem(Kind.BESTFREE, dablk, -1, "slot " + i + " says " + len[i] + " free bytes at " + off[i]
                            + (match < 0 ? ", where no unused region starts" : ", the region there has " + freeLen[match]), false);
                } else if (listed[match]) {
                    problem(Kind.BESTFREE, dablk, -1, "slot " + i + " lists the region at " + off[i] + " again", false);
                } else {
                    listed[match] = true;
                }
            }
            for (int f = 0; f < frees; f++) {
                if (!listed[f] && freeLen[f] > len[2]) {
                    problem(Kind.BESTFREE, dablk, freeAt[f], "the unused region of " + freeLen[f] + " bytes at " + freeAt[f]
                            + " is not listed", false);
                }
            }
        }

        // ---- the hash index ----

        /** The index position of the entry at {@code addr}, or -1. Addresses were added in increasing order. */
        private int find(long addr) {
            int lo = 0;
            int hi = addrs.n - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int c = Long.compare(addrs.a[mid] & 0xffffffffL, addr);
                if (c < 0) {
                    lo = mid + 1;
                } else if (c > 0) {
                    hi = mid - 1;
                } else {
                    return mid;
                }
            }
            return -1;
        }

        /** Whether the data block holding data-space address {@code addr} could not be read whole. */
        private boolean inUnreadBlock(long addr) {
            long db = (addr << 3) / g.dirBlockSize;
            Integer best = dataBests.get(db);
            return best != null && best < 0;
        }

        /**
         * Checks {@code count} hash index entries at {@code at}: hash order (from {@code prevHash}), stale count, and
         * each live address pointing at an entry (in data block below {@code bestcount} when that is known, -1 else)
         * whose name has that hash, pointed at once. Returns the last entry's hash (the block's greatest), or
         * {@code prevHash} when there is none.
         */
        private long leafEntries(byte[] b, int at, int count, long dablk, long prevHash, long stale, long bestcount) {
            long prev = prevHash;
            long staleSeen = 0;
            boolean orderTold = false;
            for (int i = 0; i < count; i++) {
                int p = at + i * LEAF_ENTRY;
                long hash = Inode.u32(b, p);
                long addr = Inode.u32(b, p + 4);
                if (hash < prev && !orderTold) {
                    problem(Kind.HASH_ORDER, dablk, p, "hash index entry " + i + " has hash 0x" + Long.toHexString(hash)
                            + ", below the one before (0x" + Long.toHexString(prev) + ")", false);
                    orderTold = true;
                }
                prev = hash;
                if (addr == 0) {
                    staleSeen++;
                    continue;
                }
                long byteOffset = addr << 3;
                if (bestcount >= 0 && byteOffset / g.dirBlockSize >= bestcount) {
                    problem(Kind.LEAF_ADDRESS, dablk, p, "hash index entry " + i + " points into data block "
                            + byteOffset / g.dirBlockSize + ", past the " + bestcount + " the tail counts", false);
                    continue;
                }
                int e = find(addr);
                if (e < 0) {
                    if (!inUnreadBlock(addr)) {
                        problem(Kind.LEAF_ADDRESS, dablk, p, "hash index entry " + i + " points at byte " + byteOffset
                                + " of the data, where no entry starts", false);
                    }
                } else if (indexed.get(e)) {
                    problem(Kind.LEAF_ADDRESS, dablk, p, "hash index entry " + i + " points at the entry at byte " + byteOffset
                            + ", which another index entry points at", false);
                } else {
                    indexed.set(e);
                    Integer older = olderHashes.get(e);
                    if ((hashes.a[e] & 0xffffffffL) != hash && (older == null || (older & 0xffffffffL) != hash)) {
                        problem(Kind.HASH, dablk, p, "hash index entry " + i + " says hash 0x" + Long.toHexString(hash)
                                + " for the entry at byte " + byteOffset + ", whose name hashes to 0x"
                                + Integer.toHexString(hashes.a[e]), false);
                    }
                }
            }
            if (staleSeen != stale) {
                problem(Kind.LEAF_COUNT, dablk, -1, "stale count " + stale + ", but " + staleSeen + " entries are stale", false);
            }
            return prev;
        }

        /** Entries no index entry pointed at: only told when the whole index was read. */
        private void unseenEntries() {
            if (!indexWhole) {
                return;
            }
            for (int e = indexed.nextClearBit(0); e < addrs.n; e = indexed.nextClearBit(e + 1)) {
                long byteOffset = (addrs.a[e] & 0xffffffffL) << 3;
                long dablk = byteOffset / g.dirBlockSize * fsbPerDirBlock;
                problem(Kind.LEAF_ADDRESS, dablk, (int) (byteOffset % g.dirBlockSize), "the entry at byte " + byteOffset
                        + " has no hash index entry", false);
            }
        }

        /** The da3 block header of a leaf or node block; null (reported) when it cannot be trusted. */
        private Struct daHeader(byte[] b, long dablk, int... magics) throws XfsException {
            Struct h = new Struct(Layouts.DA3_NODE, b, 0);
            int magic = (int) h.get("magic");
            boolean known = false;
            for (int m : magics) {
                known |= m == magic;
            }
            if (!known) {
                problem(Kind.HEADER, dablk, 8, "bad magic 0x" + Integer.toHexString(magic) + " for a hash index block here", true);
                return null;
            }
            if (!selfDescribed(h, b, dablk)) {
                return null;
            }
            if (h.get("pad") != 0 || h.get("pad32") != 0) {
                problem(Kind.HEADER, dablk, -1, "padding is not zero", false);
            }
            return h;
        }

        /** The one leaf block of a leaf directory: header, entries, and the tail of each data block's longest free region. */
        private void leafBlock() {
            try {
                byte[] b = readDirBlock(leafBlk);
                if (b == null) {
                    indexWhole = false;
                    return;
                }
                Struct h = daHeader(b, leafBlk, LEAF1_MAGIC);
                if (h == null) {
                    indexWhole = false;
                    return;
                }
                if (h.get("forw") != 0 || h.get("back") != 0) {
                    problem(Kind.HEADER, leafBlk, 0, "the single leaf has sibling pointers", false);
                }
                long count = h.get("count");
                long stale = h.get("level_or_stale");
                long bestcount = Inode.u32(b, b.length - LEAF_TAIL);
                long room = (b.length - HDR - LEAF_TAIL) / 2;
                if (bestcount > room) {
                    problem(Kind.LEAF_BESTS, leafBlk, b.length - LEAF_TAIL, "bestcount " + bestcount + " does not fit the block", true);
                    indexWhole = false;
                    return;
                }
                int bestsAt = (int) (b.length - LEAF_TAIL - bestcount * 2);
                if (count > (b.length - HDR) / LEAF_ENTRY || HDR + count * LEAF_ENTRY > bestsAt) {
                    problem(Kind.LEAF_COUNT, leafBlk, 56, "count " + count + ": the entries would overlap the tail", true);
                    indexWhole = false;
                    return;
                }
                if (stale > count) {
                    problem(Kind.LEAF_COUNT, leafBlk, 58, "stale count " + stale + " above the count " + count, false);
                }
                leafEntries(b, HDR, (int) count, leafBlk, 0, stale, bestcount);
                if (bestcount != lastDataDb + 1) {
                    problem(Kind.LEAF_BESTS, leafBlk, b.length - LEAF_TAIL, "bestcount " + bestcount + ", but the data blocks end at "
                            + (lastDataDb + 1), false);
                }
                for (int db = 0; db < bestcount; db++) {
                    int best = Inode.u16(b, bestsAt + 2 * db);
                    Integer want = dataBests.get((long) db);
                    if (want == null && best != NO_BLOCK) {
                        problem(Kind.LEAF_BESTS, leafBlk, bestsAt + 2 * db, "data block " + db + " is a hole, its best is " + best, false);
                    } else if (want != null && want >= 0 && best != want) {
                        problem(Kind.LEAF_BESTS, leafBlk, bestsAt + 2 * db, "data block " + db + ": best " + best
                                + ", its longest free region is " + want, false);
                    }
                }
            } catch (XfsException e) {
                problem(Kind.UNREADABLE, leafBlk, -1, e.getMessage(), true);
                indexWhole = false;
            }
        }

        /** Per level of the hash index btree, the last block met (left to right) and the sibling it named. */
        private final long[] levelLast = new long[MAX_NODE_LEVEL + 1];
        private final long[] levelForw = new long[MAX_NODE_LEVEL + 1];
        private final Set<Long> visited = new HashSet<>();
        private long lastLeafHash;

        /** A node directory's hash index: the btree from its root at the leaf offset, then blocks the tree does not reach. */
        private void hashTree(long last) {
            Arrays.fill(levelLast, -1);
            subtree(leafBlk, -1, -1);
            for (int level = 0; level <= MAX_NODE_LEVEL; level++) {
                if (levelLast[level] >= 0 && levelForw[level] != 0) {
                    problem(Kind.NODE, levelLast[level], 0, "the last block of level " + level + " names a next sibling "
                            + levelForw[level], false);
                }
            }
            if (!indexWhole) {
                return;
            }
            forEachDirBlock(leafBlk, Math.min(last, freeBlk), dablk -> {
                if (!visited.contains(dablk)) {
                    problem(Kind.NODE, dablk, -1, "hash index block not reached from the root", false);
                }
            });
        }

        /**
         * One block of the hash index btree and all below it; {@code level} is the level its parent expects (-1 for the
         * root). Returns its greatest hash (the last leaf entry's, or the last key's), or -1 when it cannot be read.
         */
        private long subtree(long dablk, int level, long parent) {
            if (dablk < leafBlk || dablk >= freeBlk || dablk % fsbPerDirBlock != 0) {
                problem(Kind.NODE, parent, -1, "child pointer " + dablk + " is no hash index block", true);
                indexWhole = false;
                return -1;
            }
            if (!visited.add(dablk)) {
                problem(Kind.NODE, dablk, -1, "reached twice in the hash index", true);
                indexWhole = false;
                return -1;
            }
            try {
                byte[] b = readDirBlock(dablk);
                if (b == null) {
                    indexWhole = false;
                    return -1;
                }
                Struct h = daHeader(b, dablk, level > 0 ? new int[] {NODE_MAGIC} : level == 0 ? new int[] {LEAFN_MAGIC}
                        : new int[] {NODE_MAGIC, LEAFN_MAGIC});
                if (h == null) {
                    indexWhole = false;
                    return -1;
                }
                boolean isLeaf = h.get("magic") == LEAFN_MAGIC;
                int myLevel = isLeaf ? 0 : (int) h.get("level_or_stale");
                long count = h.get("count");
                if (!isLeaf && (myLevel < 1 || myLevel > MAX_NODE_LEVEL || (level > 0 && myLevel != level))) {
                    problem(Kind.NODE, dablk, 58, "level " + myLevel + (level > 0 ? ", its parent expects " + level : ""), true);
                    indexWhole = false;
                    return -1;
                }
                siblings(h, dablk, myLevel, level < 0);
                if (isLeaf) {
                    long stale = h.get("level_or_stale");
                    if (count > (b.length - HDR) / LEAF_ENTRY) {
                        problem(Kind.LEAF_COUNT, dablk, 56, "count " + count + ": more entries than the block holds", true);
                        indexWhole = false;
                        return -1;
                    }
                    if (stale > count) {
                        problem(Kind.LEAF_COUNT, dablk, 58, "stale count " + stale + " above the count " + count, false);
                    }
                    lastLeafHash = leafEntries(b, HDR, (int) count, dablk, lastLeafHash, stale, -1);
                    return count == 0 ? 0 : Inode.u32(b, HDR + (int) (count - 1) * LEAF_ENTRY);
                }
                if (count < 1 || count > (b.length - HDR) / LEAF_ENTRY) {
                    problem(Kind.NODE, dablk, 56, "count " + count, true);
                    indexWhole = false;
                    return -1;
                }
                long prevKey = 0;
                long key = 0;
                for (int i = 0; i < count; i++) {
                    int p = HDR + i * LEAF_ENTRY;
                    key = Inode.u32(b, p);
                    long child = Inode.u32(b, p + 4);
                    if (key < prevKey) {
                        problem(Kind.HASH_ORDER, dablk, p, "key " + i + " (0x" + Long.toHexString(key) + ") is below the one before", false);
                    }
                    prevKey = key;
                    long greatest = subtree(child, myLevel - 1, dablk);
                    if (greatest >= 0 && greatest != key) {
                        problem(Kind.NODE, dablk, p, "key " + i + " is 0x" + Long.toHexString(key) + ", the greatest hash in child block "
                                + child + " is 0x" + Long.toHexString(greatest), false);
                    }
                }
                return key;
            } catch (XfsException e) {
                problem(Kind.UNREADABLE, dablk, -1, e.getMessage(), true);
                indexWhole = false;
                return -1;
            }
        }

        /** Blocks of one level link to their neighbours, left to right; the root has none. */
        private void siblings(Struct h, long dablk, int level, boolean root) {
            long back = h.get("back");
            long forw = h.get("forw");
            if (root) {
                if (back != 0 || forw != 0) {
                    problem(Kind.NODE, dablk, 0, "the root of the hash index has sibling pointers", false);
                }
                return;
            }
            long prev = levelLast[level];
            if (prev < 0 ? back != 0 : back != prev) {
                problem(Kind.NODE, dablk, 4, "back pointer " + back + ", the block before it on level " + level + " is "
                        + (prev < 0 ? "none" : prev), false);
            }
            if (prev >= 0 && levelForw[level] != dablk) {
                problem(Kind.NODE, prev, 0, "forward pointer " + levelForw[level] + ", the next block on level " + level + " is " + dablk, false);
            }
            levelLast[level] = dablk;
            levelForw[level] = forw;
        }

        // ---- the free index ----

        /**
         * A node directory's free index: block k holds the longest free region of data blocks k*max .. k*max+nvalid-1
         * (max = bests per block); each must be that block's bestfree[0] length, or NULLDATAOFF for a hole, nused must
         * count those that are not, and every data block must have its slot.
         */
        private void freeIndex(long last) {
            int max = (g.dirBlockSize - HDR) / 2;
            TreeMap<Long, Long> valid = new TreeMap<>();
            boolean[] whole = {true};
            whole[0] = forEachDirBlock(freeBlk, last, dablk -> {
                long k = (dablk - freeBlk) / fsbPerDirBlock;
                byte[] b = readDirBlock(dablk);
                if (b == null) {
                    whole[0] = false;
                    return;
                }
                Struct h = new Struct(Layouts.DIR3_FREE, b, 0);
                if (h.get("magic") != FREE_MAGIC) {
                    problem(Kind.HEADER, dablk, 0, "bad magic 0x" + Long.toHexString(h.get("magic")) + " for a free index block", true);
                    whole[0] = false;
                    return;
                }
                if (!selfDescribed(h, b, dablk)) {
                    whole[0] = false;
                    return;
                }
                if (h.get("pad") != 0) {
                    problem(Kind.HEADER, dablk, 60, "padding is not zero", false);
                }
                long firstdb = h.get("firstdb");
                long nvalid = h.get("nvalid");
                long nused = h.get("nused");
                if (firstdb != k * max || nvalid > max) {
                    problem(Kind.FREE_INDEX, dablk, 48, "first data block " + firstdb + " and " + nvalid + " slots; free index block "
                            + k + " covers data blocks from " + k * max + ", " + max + " of them", true);
                    whole[0] = false;
                    return;
                }
                if (nused > nvalid) {
                    problem(Kind.FREE_INDEX, dablk, 56, "nused " + nused + " above nvalid " + nvalid, false);
                }
                long used = 0;
                for (int i = 0; i < nvalid; i++) {
                    int best = Inode.u16(b, HDR + 2 * i);
                    long db = firstdb + i;
                    Integer want = dataBests.get(db);
                    if (want == null && best != NO_BLOCK) {
                        problem(Kind.FREE_INDEX, dablk, HDR + 2 * i, "data block " + db + " is a hole, its slot says " + best, false);
                    } else if (want != null && want >= 0 && best != want) {
                        problem(Kind.FREE_INDEX, dablk, HDR + 2 * i, "data block " + db + ": slot says " + best
                                + ", its longest free region is " + want, false);
                    }
                    used += best != NO_BLOCK ? 1 : 0;
                }
                if (used != nused) {
                    problem(Kind.FREE_INDEX, dablk, 56, "nused " + nused + ", but " + used + " slots are in use", false);
                }
                valid.put(k, nvalid);
            }) && whole[0];
            if (!whole[0]) {
                return;
            }
            for (long db : dataBests.keySet()) {
                Long n = valid.get(db / max);
                if (n == null || db % max >= n) {
                    problem(Kind.FREE_INDEX, -1, -1, "data block " + db + " has no slot in the free index", false);
                }
            }
        }
    }

    /**
     * Whether {@code b}, to be written at byte {@code offset}, is a directory block of this filesystem as a repair writes
     * it: a directory block long, a directory magic (data blocks at byte 0, hash index and node blocks at byte 8), its
     * checksum, the sector it records itself at and the filesystem's uuid. Anything else is not one (a btree block
     * fails the checksum at the directory's place).
     */
    static boolean verifyBlock(byte[] b, long offset, Geometry g) {
        if (b.length != g.dirBlockSize) {
            return false;
        }
        long magic32 = Inode.u32(b, 0);
        Struct h;
        if (magic32 == BLOCK_MAGIC || magic32 == DATA_MAGIC) {
            h = new Struct(Layouts.DIR3_DATA, b, 0);
        } else if (magic32 == FREE_MAGIC) {
            h = new Struct(Layouts.DIR3_FREE, b, 0);
        } else {
            int magic16 = Inode.u16(b, 8);
            if (magic16 != LEAF1_MAGIC && magic16 != LEAFN_MAGIC && magic16 != NODE_MAGIC) {
                return false;
            }
            h = new Struct(Layouts.DA3_NODE, b, 0);
        }
        return h.crcValid(0, b.length) && h.get("blkno") == offset >> 9 && Headers.sameUuid(h, g);
    }

    static boolean isDot(byte[] name) {
        return name.length == 1 && name[0] == '.';
    }

    static boolean isDotDot(byte[] name) {
        return name.length == 2 && name[0] == '.' && name[1] == '.';
    }

    /** A name for messages: printable ASCII as is, other bytes as \xNN. */
    static String printable(byte[] name) {
        StringBuilder s = new StringBuilder();
        for (byte c : name) {
            int v = c & 0xff;
            if (v >= 0x20 && v < 0x7f && v != '\\') {
                s.append((char) v);
            } else {
                s.append(String.format("\\x%02x", v));
            }
        }
        return s.toString();
    }
}
