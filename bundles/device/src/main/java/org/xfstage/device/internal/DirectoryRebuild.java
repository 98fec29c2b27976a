package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.SalvagedEntry;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * Writes a directory anew from salvaged entries into what it already holds: its inode's data fork (short form) or the
 * directory blocks it maps (block form, or data blocks with one hash index block), laid out as the kernel lays out
 * each form (xfs_dir2_sf_to_block, xfs_dir2_block_to_leaf): "." and ".." first, the entries after them in the order
 * given, one unused region closing each data block, the hash index sorted by hash, a data block's table of free
 * regions and the leaf's table of each block's longest one.
 * <p>
 * Blocks are neither allocated nor freed (the space map, free-space trees and rmapbt would change, which is another
 * plan's work): the form stays the one the extent map makes (xfs_dir2_format decides by the end of the last mapping,
 * never by the size), and a form that the entries outgrow, or data blocks they cannot all fill, are refused. The kernel
 * would move a block directory whose entries fit the inode back to short form (xfs_dir2_block_to_sf) and free the
 * block; a block directory whose entries would fit the inode is still a valid block directory (xfs_repair and the
 * verifiers take it), so it stays one here. Node directories (hash index btree, free index) are refused for now.
 * <p>
 * Every rebuilt directory is read back, on a view with the new blocks, by the verifying reader ({@link Directories}):
 * a problem there is thrown, nothing is returned.
 */
final class DirectoryRebuild {
    private static final int HDR = 64;
    private static final int LEAF_ENTRY = 8;
    private static final int BLOCK_TAIL = 8;
    private static final int LEAF_TAIL = 4;
    private static final int FREE_TAG = 0xFFFF;
    private static final int NO_BLOCK = 0xFFFF;
    private static final int FIRST_OFFSET = HDR + 16 + 16;
    private static final long MAX_SHORT_INUM = 0xFFFFFFFFL;
    /** The short-form header's count is one byte. */
    private static final int MAX_SF_COUNT = 255;
    private static final int MAX_NAME = 255;
    /** XFS_DIR3_FT_DIR: the type "." and ".." record. */
    private static final int FT_DIR = 2;

    private final XfsImage fs;
    private final Geometry g;
    private final int fsbPerDirBlock;
    private final long leafBlk;

    DirectoryRebuild(XfsImage fs) {
        this.fs = fs;
        this.g = fs.geometry;
        this.fsbPerDirBlock = g.dirBlockSize / g.blockSize;
        this.leafBlk = Directories.LEAF_OFFSET >> g.blockLog;
    }

    /** One entry as it will be written: name, child, type code, hash, and its address once placed. */
    private static final class Item {
        final byte[] name;
        final long child;
        final int ftype;
        final int hash;
        long offset;

        Item(byte[] name, long child, int ftype, int hash) {
            this.name = name;
            this.child = child;
            this.ftype = ftype;
            this.hash = hash;
        }
    }

    List<BlockImage> rebuild(long ino, long parent, Iterator<SalvagedEntry> entries) throws XfsException {
        Inode dir = Inode.read(fs.image, g, ino);
        if (dir.type() != FileType.DIRECTORY) {
            throw new XfsException("inode " + ino + " is not a directory");
        }
        String what = "directory inode " + ino;
        check(fs.inodeNumbers.validForEntry(parent), what + ": .. would name " + parent + ", which is no inode number of this filesystem");
        check(ino == g.rootIno ? parent == ino : parent != ino, what + ": .. would name " + parent
                + (ino == g.rootIno ? ", but the root's names the root" : ", the directory itself"));
        List<Inode.Extent> extents = dir.format == Inode.FMT_LOCAL ? List.of() : dir.extents(fs.image, g);
        long last = extents.isEmpty() ? 0 : extents.get(extents.size() - 1).startOff() + extents.get(extents.size() - 1).count();
        check(last <= leafBlk + fsbPerDirBlock, what + ": a node directory (hash index btree and free index) is not rebuilt yet");
        int limit = limit();
        List<Item> items = new ArrayList<>();
        while (entries.hasNext()) {
            SalvagedEntry e = entries.next();
            check(items.size() < limit, what + ": more entries than " + limit + ", which need the node form (a hash index btree),"
                    + " or blocks this directory does not have; not rebuilt");
            items.add(item(what, ino, e, dir.format != Inode.FMT_LOCAL));
        }
        noNameTwice(what, items);
        List<BlockImage> out;
        if (dir.format == Inode.FMT_LOCAL) {
            out = shortForm(what, dir, parent, items);
        } else {
            check(dir.format == Inode.FMT_EXTENTS || dir.format == Inode.FMT_BTREE, what + ": data fork format " + dir.format
                    + " is no directory format");
            check(!extents.isEmpty(), what + ": maps no blocks and is not short form");
            if (last == fsbPerDirBlock) {
                out = blockForm(what, dir, extents, parent, items);
            } else if (last == leafBlk + fsbPerDirBlock) {
                out = leafForm(what, dir, extents, parent, items);
            } else {
                throw new XfsFormatException(what + ": " + (last > leafBlk + fsbPerDirBlock
                        ? "a node directory (hash index btree and free index) is not rebuilt yet"
                        : "its extent map ends at file block " + last + ", where no directory form ends"), "directory");
            }
        }
        readBack(what, ino, parent, items, out);
        return out;
    }

    /** Entries at most: those of one hash index block (or the inode's short form, which holds fewer). */
    private int limit() {
        return (g.dirBlockSize - HDR - LEAF_TAIL) / LEAF_ENTRY;
    }

    private Item item(String what, long ino, SalvagedEntry e, boolean hashed) throws XfsFormatException {
        byte[] name = e.name();
        // the kernel folds Latin-1 capitals in the case-insensitive hash, xfsprogs up to 6.1 only ASCII ones (DirHash):
        // whichever hash such a name is given, one of them finds the block corrupt, so it is not chosen here
        check(!(hashed && g.asciiCi && DirHash.hasLatin1Capital(name)), what + ": \"" + Directories.printable(name)
                + "\" holds a Latin-1 capital, whose case-insensitive hash the kernel and xfsprogs (up to 6.1) compute"
                + " differently: not rebuilt");
        check(name.length >= 1 && name.length <= MAX_NAME, what + ": a name of " + name.length + " bytes");
        for (byte c : name) {
            check(c != '/' && c != 0, what + ": name \"" + Directories.printable(name) + "\" holds '/' or NUL");
        }
        check(!Directories.isDot(name) && !Directories.isDotDot(name), what + ": . and .. are made by the rebuild, not given");
        check(fs.inodeNumbers.validForEntry(e.child()), what + ": \"" + Directories.printable(name) + "\" names " + e.child()
                + ", which is no inode number of this filesystem");
        check(e.child() != ino, what + ": \"" + Directories.printable(name) + "\" names the directory itself");
        return new Item(name.clone(), e.child(), ftype(e.type()), DirHash.hash(name, 0, name.length, g.asciiCi));
    }

    /** XFS_DIR3_FT_*: what an entry records of its inode's type (0 without the feature, or when unknown). */
    private int ftype(FileType t) {
        if (!g.hasFtype() || t == null) {
            return 0;
        }
        return switch (t) {
            case FILE -> 1;
            case DIRECTORY -> FT_DIR;
            case CHAR_DEVICE -> 3;
            case BLOCK_DEVICE -> 4;
            case FIFO -> 5;
            case SOCKET -> 6;
            case SYMLINK -> 7;
        };
    }

    /** Lookups find one entry per name (case-folded on an ASCII-CI filesystem): equal names have equal hashes. */
    private void noNameTwice(String what, List<Item> items) throws XfsFormatException {
        Item[] byHash = items.toArray(new Item[0]);
        Arrays.sort(byHash, (a, b) -> Integer.compareUnsigned(a.hash, b.hash));
        for (int i = 0; i < byHash.length; i++) {
            for (int j = i + 1; j < byHash.length && byHash[j].hash == byHash[i].hash; j++) {
                check(!sameName(byHash[i].name, byHash[j].name), what + ": \"" + Directories.printable(byHash[j].name) + "\" given twice");
            }
        }
    }

    private boolean sameName(byte[] a, byte[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            int x = a[i] & 0xff;
            int y = b[i] & 0xff;
            if (g.asciiCi ? DirHash.fold(x) != DirHash.fold(y) : x != y) {
                return false;
            }
        }
        return true;
    }

    private static void check(boolean ok, String what) throws XfsFormatException {
        if (!ok) {
            throw new XfsFormatException(what, "directory");
        }
    }

    /** The entry size of a name in a data block (xfs_dir2_data_entsize): inumber, namelen, name, ftype, tag, 8-aligned. */
    private int entsize(int namelen) {
        return (8 + 1 + namelen + (g.hasFtype() ? 1 : 0) + 2 + 7) & ~7;
    }

    // ---- short form ----

    private List<BlockImage> shortForm(String what, Inode dir, long parent, List<Item> items) throws XfsException {
        boolean big = parent > MAX_SHORT_INUM;
        int i8count = big ? 1 : 0;
        for (Item it : items) {
            if (it.child > MAX_SHORT_INUM) {
                i8count++;
            }
        }
        int inoSize = i8count > 0 ? 8 : 4;
        int ft = g.hasFtype() ? 1 : 0;
        int size = 2 + inoSize;
        for (Item it : items) {
            size += 3 + it.name.length + ft + inoSize;
        }
        check(items.size() <= MAX_SF_COUNT && i8count <= MAX_SF_COUNT && size <= dir.dataForkSize(), what + ": " + items.size()
                + " entries take " + size + " bytes of short form, its data fork holds " + dir.dataForkSize()
                + ": it would need a directory block, which is not allocated here");
        byte[] sf = new byte[dir.dataForkSize()];
        sf[0] = (byte) items.size();
        sf[1] = (byte) i8count;
        putIno(sf, 2, parent, inoSize);
        int pos = 2 + inoSize;
        int offset = FIRST_OFFSET;
        for (Item it : items) {
            sf[pos] = (byte) it.name.length;
            put16(sf, pos + 1, offset);
            System.arraycopy(it.name, 0, sf, pos + 3, it.name.length);
            if (ft == 1) {
                sf[pos + 3 + it.name.length] = (byte) it.ftype;
            }
            putIno(sf, pos + 3 + it.name.length + ft, it.child, inoSize);
            pos += 3 + it.name.length + ft + inoSize;
            offset += entsize(it.name.length);
        }
        // the offsets are those of a block of these entries: they must fit one (xfs_dir2_sf_verify)
        check(offset + (items.size() + 2L) * LEAF_ENTRY + BLOCK_TAIL <= g.dirBlockSize, what + ": the entries would not fit one directory block");
        return List.of(new BlockImage(g.inodeOffset(dir.ino), dir.withLocalData(sf, size), "inode " + dir.ino + " (short-form directory)"));
    }

    private static void putIno(byte[] b, int at, long ino, int size) {
        if (size == 8) {
            put64(b, at, ino);
        } else {
            put32(b, at, ino);
        }
    }

    // ---- blocks ----

    /** One directory block to fill: its first file block, and its disk offset (the block's pieces must be contiguous). */
    private record DirBlock(long dablk, long offset) {
    }

    /** The directory blocks mapped in [from, to) of the file: each mapped whole, on contiguous disk blocks. */
    private List<DirBlock> dirBlocks(String what, List<Inode.Extent> extents, long from, long to) throws XfsException {
        List<DirBlock> out = new ArrayList<>();
        for (Inode.Extent e : extents) {
            long lo = Math.max(from, e.startOff());
            long hi = Math.min(to, e.startOff() + e.count());
            if (lo >= hi) {
                continue;
            }
            check(lo % fsbPerDirBlock == 0 || (!out.isEmpty() && out.get(out.size() - 1).dablk + fsbPerDirBlock > lo),
                    what + ": directory block at file block " + (lo - lo % fsbPerDirBlock) + " is not mapped whole");
            for (long b = lo; b < hi; b++) {
                if (b % fsbPerDirBlock != 0) {
                    continue; // the rest of a directory block begun in an extent before
                }
                check(b + fsbPerDirBlock <= hi, what + ": directory block at file block " + b
                        + " is not mapped whole on contiguous blocks; not rebuilt");
                out.add(new DirBlock(b, g.fsbOffset(e.startBlock() + (b - e.startOff()))));
            }
        }
        for (DirBlock d : out) {
            // the pieces of a multi-block directory block lie one after the other on disk (one image, one checksum)
            check(g.fsbOffset(fsbAt(extents, d.dablk + fsbPerDirBlock - 1)) == d.offset + (long) (fsbPerDirBlock - 1) * g.blockSize,
                    what + ": directory block at file block " + d.dablk + " lies on blocks that are not contiguous; not rebuilt");
        }
        return out;
    }

    private static long fsbAt(List<Inode.Extent> extents, long fb) {
        for (Inode.Extent e : extents) {
            if (fb >= e.startOff() && fb < e.startOff() + e.count()) {
                return e.startBlock() + (fb - e.startOff());
            }
        }
        return -1;
    }

    /** A data block's header and entries, with one unused region from {@code from} to {@code end}. */
    private final class DataBlock {
        final byte[] b = new byte[g.dirBlockSize];
        final long db;
        int pos = HDR;
        final int end;

        DataBlock(long db, int end) {
            this.db = db;
            this.end = end;
        }

        boolean fits(int namelen) {
            return pos + entsize(namelen) <= end;
        }

        void add(byte[] name, long child, int ftype, Item item) {
            int size = entsize(name.length);
            put64(b, pos, child);
            b[pos + 8] = (byte) name.length;
            System.arraycopy(name, 0, b, pos + 9, name.length);
            if (g.hasFtype()) {
                b[pos + 9 + name.length] = (byte) ftype;
            }
            put16(b, pos + size - 2, pos);
            if (item != null) {
                item.offset = db * g.dirBlockSize + pos;
            }
            pos += size;
        }

        /** The unused region after the entries, the header; returns the longest free region's length. */
        int finish(long magic, long daddr, long owner) {
            Struct h = new Struct(Layouts.DIR3_DATA, b, 0);
            int free = end - pos;
            if (free > 0) {
                put16(b, pos, FREE_TAG);
                put16(b, pos + 2, free);
                put16(b, end - 2, pos);
                h.set("bf0_offset", pos);
                h.set("bf0_length", free);
            }
            h.set("magic", magic);
            h.set("blkno", daddr);
            h.set("uuid0", g.metaUuid0);
            h.set("uuid1", g.metaUuid1);
            h.set("owner", owner);
            System.arraycopy(h.encode(0, b.length), 0, b, 0, b.length);
            return free;
        }
    }

    private List<BlockImage> blockForm(String what, Inode dir, List<Inode.Extent> extents, long parent, List<Item> items)
            throws XfsException {
        List<DirBlock> blocks = dirBlocks(what, extents, 0, fsbPerDirBlock);
        check(blocks.size() == 1, what + ": its one directory block is not mapped");
        DirBlock only = blocks.get(0);
        int count = items.size() + 2;
        int leafAt = g.dirBlockSize - BLOCK_TAIL - count * LEAF_ENTRY;
        DataBlock d = new DataBlock(0, leafAt);
        int need = HDR + 2 * entsize(2);
        for (Item it : items) {
            need += entsize(it.name.length);
        }
        check(need <= leafAt, what + ": " + items.size() + " entries do not fit one directory block: it would need the leaf form, "
                + "whose blocks are not allocated here");
        long[] leaf = new long[count];
        d.add(new byte[] {'.'}, dir.ino, FT_DIR, null);
        leaf[0] = leafEntry(DirHash.hash(new byte[] {'.'}, 0, 1, g.asciiCi), HDR);
        d.add(new byte[] {'.', '.'}, parent, FT_DIR, null);
        leaf[1] = leafEntry(DirHash.hash(new byte[] {'.', '.'}, 0, 2, g.asciiCi), HDR + entsize(1));
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            d.add(it.name, it.child, it.ftype, it);
            leaf[i + 2] = leafEntry(it.hash, it.offset);
        }
        sortUnsigned(leaf);
        for (int i = 0; i < count; i++) {
            put32(d.b, leafAt + i * LEAF_ENTRY, leaf[i] >>> 32);
            put32(d.b, leafAt + i * LEAF_ENTRY + 4, leaf[i] & 0xffffffffL);
        }
        put32(d.b, g.dirBlockSize - BLOCK_TAIL, count);
        put32(d.b, g.dirBlockSize - BLOCK_TAIL + 4, 0);
        d.finish(Directories.BLOCK_MAGIC, only.offset >> 9, dir.ino);
        List<BlockImage> out = new ArrayList<>();
        out.add(new BlockImage(only.offset, d.b, "directory inode " + dir.ino + " block 0"));
        sized(dir, g.dirBlockSize, out);
        return out;
    }

    /** Hash index entries in hash order (unsigned), then by address: the hash is in the high 32 bits. */
    private static void sortUnsigned(long[] leaf) {
        for (int i = 0; i < leaf.length; i++) {
            leaf[i] ^= Long.MIN_VALUE;
        }
        Arrays.sort(leaf);
        for (int i = 0; i < leaf.length; i++) {
            leaf[i] ^= Long.MIN_VALUE;
        }
    }

    /** A hash index entry as one sortable long: the hash (unsigned) above the address (byte offset / 8). */
    private static long leafEntry(int hash, long byteOffset) {
        return (Integer.toUnsignedLong(hash) << 32) | (byteOffset >>> 3);
    }

    private List<BlockImage> leafForm(String what, Inode dir, List<Inode.Extent> extents, long parent, List<Item> items)
            throws XfsException {
        List<DirBlock> data = dirBlocks(what, extents, 0, leafBlk);
        List<DirBlock> leafBlocks = dirBlocks(what, extents, leafBlk, leafBlk + fsbPerDirBlock);
        check(!data.isEmpty() && data.get(0).dablk == 0, what + ": data block 0 (which holds . and ..) is not mapped");
        check(leafBlocks.size() == 1, what + ": its hash index block is not mapped");
        long lastDb = data.get(data.size() - 1).dablk / fsbPerDirBlock;
        int count = items.size() + 2;
        int bestcount = (int) lastDb + 1;
        check(HDR + (long) count * LEAF_ENTRY <= g.dirBlockSize - LEAF_TAIL - 2L * bestcount, what + ": " + count
                + " hash index entries and " + bestcount + " bests do not fit one hash index block: it would need the node form");
        // fill the data blocks in order, leaving at least one entry for each block after
        List<BlockImage> out = new ArrayList<>();
        long[] leaf = new long[count];
        int[] bests = new int[bestcount];
        Arrays.fill(bests, NO_BLOCK);
        int next = 0;
        for (int k = 0; k < data.size(); k++) {
            DirBlock at = data.get(k);
            long db = at.dablk / fsbPerDirBlock;
            DataBlock d = new DataBlock(db, g.dirBlockSize);
            int placed = 0;
            if (k == 0) {
                d.add(new byte[] {'.'}, dir.ino, FT_DIR, null);
                leaf[0] = leafEntry(DirHash.hash(new byte[] {'.'}, 0, 1, g.asciiCi), HDR);
                d.add(new byte[] {'.', '.'}, parent, FT_DIR, null);
                leaf[1] = leafEntry(DirHash.hash(new byte[] {'.', '.'}, 0, 2, g.asciiCi), HDR + entsize(1));
                placed = 2;
            }
            int blocksAfter = data.size() - 1 - k;
            while (next < items.size() && items.size() - next > blocksAfter && d.fits(items.get(next).name.length)) {
                Item it = items.get(next);
                d.add(it.name, it.child, it.ftype, it);
                leaf[next + 2] = leafEntry(it.hash, it.offset);
                next++;
                placed++;
            }
            check(placed > 0, what + ": " + items.size() + " entries leave data block " + db
                    + " empty: it would have to be freed, which is not done here");
            bests[(int) db] = d.finish(Directories.DATA_MAGIC, at.offset >> 9, dir.ino);
            out.add(new BlockImage(at.offset, d.b, "directory inode " + dir.ino + " data block " + db));
        }
        check(next == items.size(), what + ": " + items.size() + " entries do not fit its " + data.size()
                + " data blocks: it would need more, which are not allocated here");
        sortUnsigned(leaf);
        byte[] b = new byte[g.dirBlockSize];
        for (int i = 0; i < count; i++) {
            put32(b, HDR + i * LEAF_ENTRY, leaf[i] >>> 32);
            put32(b, HDR + i * LEAF_ENTRY + 4, leaf[i] & 0xffffffffL);
        }
        int bestsAt = g.dirBlockSize - LEAF_TAIL - 2 * bestcount;
        for (int db = 0; db < bestcount; db++) {
            put16(b, bestsAt + 2 * db, bests[db]);
        }
        put32(b, g.dirBlockSize - LEAF_TAIL, bestcount);
        DirBlock lb = leafBlocks.get(0);
        Struct h = new Struct(Layouts.DA3_NODE, b, 0);
        h.set("magic", Directories.LEAF1_MAGIC);
        h.set("blkno", lb.offset >> 9);
        h.set("uuid0", g.metaUuid0);
        h.set("uuid1", g.metaUuid1);
        h.set("owner", dir.ino);
        h.set("count", count);
        out.add(new BlockImage(lb.offset, h.encode(0, b.length), "directory inode " + dir.ino + " hash index block"));
        sized(dir, (lastDb + 1) * g.dirBlockSize, out);
        return out;
    }

    /** The inode with its size set, when it changes. */
    private void sized(Inode dir, long size, List<BlockImage> out) throws XfsException {
        if (dir.size != size) {
            out.add(new BlockImage(g.inodeOffset(dir.ino), dir.with(java.util.Map.of("size", size)), "inode " + dir.ino));
        }
    }

    // ---- read back ----

    /**
     * The new directory read by the verifying reader on a view with it: no problem, and exactly the entries written
     * (the same names naming the same inodes, "." and the new "..").
     */
    private void readBack(String what, long ino, long parent, List<Item> items, List<BlockImage> out) throws XfsException {
        XfsImage view = (XfsImage) fs.withPlanned(out);
        List<String> problems = new ArrayList<>();
        long[] seen = {0};
        boolean[] dotdot = {false};
        view.directories.read(Inode.read(view.image, g, ino), new DirectorySink() {
            @Override
            public void entry(DirectoryEntry e) {
                if (e.isDotDot()) {
                    dotdot[0] = e.child() == parent;
                } else if (!e.isDot()) {
                    seen[0]++;
                }
            }

            @Override
            public void problem(DirectoryProblem p) {
                problems.add(p.where() + ": " + p.kind().description() + ": " + p.detail());
            }
        }, true);
        if (!problems.isEmpty() || seen[0] != items.size() || !dotdot[0]) {
            throw new XfsFormatException(what + ": the rebuilt directory does not read back as written ("
                    + (problems.isEmpty() ? seen[0] + " entries of " + items.size() + ", .. " + (dotdot[0] ? "right" : "wrong")
                            : problems.get(0)) + "); not rebuilt", "directory");
        }
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static void put32(byte[] b, int at, long v) {
        put16(b, at, (int) (v >>> 16) & 0xffff);
        put16(b, at + 2, (int) v & 0xffff);
    }

    private static void put64(byte[] b, int at, long v) {
        put32(b, at, v >>> 32);
        put32(b, at + 4, v);
    }
}
