package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import org.xfstage.api.device.BlockAllocator;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.SalvagedEntry;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * Writes a directory anew from salvaged entries, laid out as the kernel lays out each form (xfs_dir2_sf_to_block,
 * xfs_dir2_block_to_leaf, xfs_dir2_leaf_to_node, xfs_da3_split): "." and ".." first, the entries after them in the order
 * given, one unused region closing each data block, the hash index sorted by hash (inside a single block, in one leaf
 * block with the table of each data block's longest free region, or in node form a lone leaf or one node over leaves
 * at the leaf offset, with free index blocks at the free offset), a data block's table of free regions.
 * <p>
 * The blocks the directory maps are all used, in their places: the form is never smaller than the one the extent map
 * makes (xfs_dir2_format decides by the end of the last mapping, never by the size), and every mapped data block and
 * hash index leaf holds at least one entry; such a directory is refused unless the caller asks for it to be sized to
 * its entries ({@code shrink}, XfsDevice.resizeDirectory): then it takes the form and blocks they need, as xfs_repair's
 * rebuild adds them to an empty directory, its own blocks reused first in their places and the rest unmapped. When
 * the entries need more than the directory maps (a short form that outgrows its inode, a block that overflows, more
 * data or hash index blocks) and the caller gives a {@link BlockAllocator}, the directory grows as the kernel grows it,
 * into the smallest form the entries fit: new directory blocks (one contiguous run of filesystem blocks each, from the
 * inode's AG first) join the data fork's extent map, in the inode when it fits, else a bmbt written by
 * {@link ForkRewrite} into the old bmbt's blocks and, when it needs more, blocks from the allocator. The free-space
 * btrees, counters and rmapbt the new or unmapped blocks make wrong are another plan's work. A node form needing a
 * second level of nodes is refused.
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
    /** Entries of one rebuild at most: held on the heap here (as the directory check holds one directory's names). */
    static final int MAX_ENTRIES = 65_536;
    /** Directory blocks one rebuild adds at most (each asked of the allocator on its own). */
    private static final int MAX_NEW_BLOCKS = 4_096;
    /** A bmbt record in the inode's data fork. */
    private static final int BMBT_REC = 16;
    /** XFS_MAX_BMBT_EXTLEN: the longest extent one record maps. */
    private static final long MAX_EXTENT_LENGTH = (1L << 21) - 1;
    /** XFS_DIFLAG2_NREXT64: the data fork's extent count is the 64-bit field. */
    private static final long NREXT64 = 1L << 4;
    /** XFS_DIR3_FT_DIR: the type "." and ".." record. */
    private static final int FT_DIR = 2;

    private final XfsImage fs;
    private final Geometry g;
    private final int fsbPerDirBlock;
    private final long leafBlk;
    private final long freeBlk;

    DirectoryRebuild(XfsImage fs) {
        this.fs = fs;
        this.g = fs.geometry;
        this.fsbPerDirBlock = g.dirBlockSize / g.blockSize;
        this.leafBlk = Directories.LEAF_OFFSET >> g.blockLog;
        this.freeBlk = Directories.FREE_OFFSET >> g.blockLog;
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
        return rebuild(ino, parent, entries, null);
    }

    /** As {@link #rebuild(long, long, Iterator)}, growing into blocks from {@code more} (null: none) when it must. */
    List<BlockImage> rebuild(long ino, long parent, Iterator<SalvagedEntry> entries, BlockAllocator more) throws XfsException {
        return rebuild(ino, parent, entries, more, false);
    }

    /**
     * As {@link #rebuild(long, long, Iterator, BlockAllocator)}; with {@code shrink} the directory takes the form and the
     * number of blocks its entries need, as xfs_repair's rebuild (and the kernel's online repair) makes it from nothing:
     * the smallest form they fit (down to short form), data blocks filled in turn, hash index leaves kept while they stay
     * at least half full, and the blocks it maps but no longer needs unmapped: its extent map, size and block count set
     * (a bmbt rewritten into its own blocks, or made extents when they fit the inode). The unmapped blocks (and bmbt
     * blocks) are left to the caller's free-space plans, as a tree's grown blocks are.
     */
    List<BlockImage> rebuild(long ino, long parent, Iterator<SalvagedEntry> entries, BlockAllocator more, boolean shrink)
            throws XfsException {
        Inode dir = Inode.read(fs.image, g, ino);
        if (dir.type() != FileType.DIRECTORY) {
            throw new XfsException("inode " + ino + " is not a directory");
        }
        String what = "directory inode " + ino;
        check(fs.inodeNumbers.validForEntry(parent), what + ": .. would name " + parent + ", which is no inode number of this filesystem");
        check(ino == g.rootIno ? parent == ino : parent != ino, what + ": .. would name " + parent
                + (ino == g.rootIno ? ", but the root's names the root" : ", the directory itself"));
        check(dir.format == Inode.FMT_LOCAL || dir.format == Inode.FMT_EXTENTS || dir.format == Inode.FMT_BTREE,
                what + ": data fork format " + dir.format + " is no directory format");
        List<Inode.Extent> extents = dir.format == Inode.FMT_LOCAL ? List.of() : dir.extents(fs.image, g);
        check(dir.format == Inode.FMT_LOCAL || !extents.isEmpty(), what + ": maps no blocks and is not short form");
        List<Item> items = new ArrayList<>();
        while (entries.hasNext()) {
            SalvagedEntry e = entries.next();
            check(items.size() < MAX_ENTRIES, what + ": more entries than " + MAX_ENTRIES + " in one rebuild; not rebuilt");
            items.add(item(what, ino, e, dir.format != Inode.FMT_LOCAL));
        }
        noNameTwice(what, items);
        List<BlockImage> out = null;
        if (dir.format == Inode.FMT_LOCAL) {
            out = shortForm(what, dir, parent, items, more == null);
        } else if (shrink) {
            // entries that fit the inode make a short form there, as xfs_dir2_block_to_sf leaves a directory that shrank
            out = shortForm(what, dir, parent, items, false);
            if (out != null) {
                out = List.of(toShortForm(dir, extents, out.get(0)));
            }
        }
        if (out == null) {
            // a short form the entries outgrow becomes a single block, as xfs_dir2_sf_to_block makes it (into a new block)
            out = blocks(what, dir, extents, parent, items, more, shrink);
        }
        readBack(what, ino, parent, items, out);
        return out;
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

    /**
     * The short form in the inode, or null when the entries do not fit it and {@code refuse} is false (the caller grows
     * the directory into a block).
     */
    private List<BlockImage> shortForm(String what, Inode dir, long parent, List<Item> items, boolean refuse) throws XfsException {
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
        boolean fits = items.size() <= MAX_SF_COUNT && i8count <= MAX_SF_COUNT && size <= dir.dataForkSize();
        if (!fits && !refuse) {
            return null;
        }
        check(fits, what + ": " + items.size()
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
        if (!refuse && offset + (items.size() + 2L) * LEAF_ENTRY + BLOCK_TAIL > g.dirBlockSize) {
            return null;
        }
        check(offset + (items.size() + 2L) * LEAF_ENTRY + BLOCK_TAIL <= g.dirBlockSize, what + ": the entries would not fit one directory block");
        return List.of(new BlockImage(g.inodeOffset(dir.ino), dir.withLocalData(sf, size), "inode " + dir.ino + " (short-form directory)"));
    }

    /**
     * A directory of blocks whose entries fit its inode made short form there (xfs_dir2_block_to_sf): data fork format
     * local, no extents, di_nblocks less every block the data fork mapped (directory blocks and bmbt blocks), which are
     * unmapped.
     */
    private BlockImage toShortForm(Inode dir, List<Inode.Extent> extents, BlockImage sf) throws XfsException {
        long[] bmbt = {0};
        if (dir.format == Inode.FMT_BTREE) {
            dir.forkExtents(fs.image, g, false, b -> bmbt[0]++);
        }
        long mapped = bmbt[0];
        for (Inode.Extent e : extents) {
            mapped += e.count();
        }
        boolean large = (dir.core.get("flags2") & NREXT64) != 0;
        Struct s = new Struct(Layouts.DINODE, sf.bytes().clone(), 0);
        s.set("format", Inode.FMT_LOCAL);
        s.set(large ? "big_nextents" : "nextents", 0);
        s.set("nblocks", Math.max(0, dir.core.get("nblocks") - mapped));
        return new BlockImage(sf.offset(), s.encode(0, g.inodeSize), "inode " + dir.ino + " (directory made short form: "
                + mapped + " block(s) unmapped from its data fork)");
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

    /** The forms a directory of blocks can have, in the order a growing directory takes them (xfs_dir2_format). */
    private enum Form {
        BLOCK, LEAF, NODE
    }

    /** A directory block being written: its first file block, its disk offset once known (-1: allocated later), its bytes. */
    private static final class Placed {
        final long dablk;
        long offset;
        byte[] bytes;
        final String name;
        /** The filesystem block of a block allocated for it, or -1 (a block the directory maps). */
        long fsb = -1;

        Placed(long dablk, long offset, String name) {
            this.dablk = dablk;
            this.offset = offset;
            this.name = name;
        }
    }

    /**
     * Block, leaf and node form alike: the entries fill the data blocks the directory maps (each at least one, in the
     * order given) and, when {@code more} gives blocks, new data blocks after them; the hash index is one block inside a
     * single-block directory, one leaf block, or (node form) a lone leaf at the leaf offset or one node there over
     * leaves; node form adds free index blocks. The form is the smallest the entries fit, never a smaller one than the
     * extent map makes (the kernel would shrink a directory by freeing blocks, which is not done here).
     */
    private List<BlockImage> blocks(String what, Inode dir, List<Inode.Extent> extents, long parent, List<Item> items,
            BlockAllocator more, boolean shrink) throws XfsException {
        long last = extents.isEmpty() ? 0 : extents.get(extents.size() - 1).startOff() + extents.get(extents.size() - 1).count();
        Form mapped = extents.isEmpty() ? null : last == fsbPerDirBlock ? Form.BLOCK
                : last == leafBlk + fsbPerDirBlock ? Form.LEAF : last > leafBlk + fsbPerDirBlock ? Form.NODE : null;
        check(extents.isEmpty() || mapped != null, what + ": its extent map ends at file block " + last + ", where no directory form ends");
        List<DirBlock> data = dirBlocks(what, extents, 0, leafBlk);
        List<DirBlock> index = dirBlocks(what, extents, leafBlk, freeBlk);
        List<DirBlock> free = dirBlocks(what, extents, freeBlk, Long.MAX_VALUE);
        check(data.isEmpty() ? extents.isEmpty() : data.get(0).dablk == 0, what + ": data block 0 (which holds . and ..) is not mapped");
        check(index.isEmpty() || index.get(0).dablk == leafBlk, what + ": the first hash index block (at the leaf offset) is not mapped");
        if (g.asciiCi) {
            for (Item it : items) {
                item(what, dir.ino, new SalvagedEntry(it.name, it.child, null), true); // the Latin-1 rule of hashed forms
            }
        }
        List<Placed> out = new ArrayList<>();
        int count = items.size() + 2;
        if (mapped == null || mapped == Form.BLOCK || shrink) {
            int leafAt = g.dirBlockSize - BLOCK_TAIL - count * LEAF_ENTRY;
            int need = HDR + 2 * entsize(2);
            for (Item it : items) {
                need += entsize(it.name.length);
            }
            if (need <= leafAt) {
                Placed p = new Placed(0, data.isEmpty() ? -1 : data.get(0).offset, "block 0");
                allocate(what, dir, List.of(p), List.of(), List.of(), more);
                DataBlock d = blockForm(dir, parent, items, leafAt);
                d.finish(Directories.BLOCK_MAGIC, p.offset >> 9, dir.ino);
                p.bytes = d.b;
                out.add(p);
                return written(what, dir, extents, out, g.dirBlockSize, more, unused(shrink, out, data, index, free));
            }
        }
        // data blocks: the mapped ones each hold at least one entry, new ones are filled in turn
        List<DataBlock> filled = new ArrayList<>();
        int next = 0;
        // with shrink each block is filled before the next is begun (the kernel's add path); the mapped blocks left over
        // are unmapped. Without, every mapped block keeps at least one entry.
        for (int k = 0; (k < data.size() && !shrink) || next < items.size() || k == 0; k++) {
            boolean own = k < data.size();
            long db = own ? data.get(k).dablk / fsbPerDirBlock : filled.isEmpty() ? 0 : filled.get(filled.size() - 1).db + 1;
            check(own || more != null, what + ": " + items.size() + " entries do not fit its " + data.size()
                    + " data block(s): it would need more, and no blocks were given to take them from");
            check(db * g.dirBlockSize < Directories.LEAF_OFFSET, what + ": the entries would fill the whole data space");
            DataBlock d = new DataBlock(db, g.dirBlockSize);
            int placed = 0;
            if (k == 0) {
                d.add(new byte[] {'.'}, dir.ino, FT_DIR, null);
                d.add(new byte[] {'.', '.'}, parent, FT_DIR, null);
                placed = 2;
            }
            int blocksAfter = own && !shrink ? data.size() - 1 - k : 0;
            while (next < items.size() && items.size() - next > blocksAfter && d.fits(items.get(next).name.length)) {
                d.add(items.get(next).name, items.get(next).child, items.get(next).ftype, items.get(next));
                next++;
                placed++;
            }
            check(placed > 0, what + ": " + items.size() + " entries leave data block " + db
                    + " empty: it would have to be freed, which is not done here");
            filled.add(d);
            out.add(new Placed(db * fsbPerDirBlock, own ? data.get(k).offset : -1, "data block " + db));
        }
        long lastDb = filled.get(filled.size() - 1).db;
        int bestcount = (int) lastDb + 1;
        int[] bests = new int[bestcount];
        Arrays.fill(bests, NO_BLOCK);
        long[] leaf = new long[count];
        int n = 0;
        leaf[n++] = leafEntry(DirHash.hash(new byte[] {'.'}, 0, 1, g.asciiCi), HDR);
        leaf[n++] = leafEntry(DirHash.hash(new byte[] {'.', '.'}, 0, 2, g.asciiCi), HDR + entsize(1));
        for (Item it : items) {
            leaf[n++] = leafEntry(it.hash, it.offset);
        }
        sortUnsigned(leaf);
        boolean leafFits = HDR + (long) count * LEAF_ENTRY <= g.dirBlockSize - LEAF_TAIL - 2L * bestcount;
        Form form = (shrink || (mapped != Form.NODE && index.size() <= 1 && free.isEmpty())) && leafFits ? Form.LEAF : Form.NODE;
        check(form == Form.NODE || more != null || !index.isEmpty(), what + ": " + items.size()
                + " entries need a hash index block, and no blocks were given to take it from");
        check(form == Form.LEAF || more != null || mapped == Form.NODE, what + ": " + count + " hash index entries and "
                + bestcount + " bests do not fit one hash index block: it would need the node form, and no blocks were given");
        List<Placed> indexBlocks = form == Form.LEAF ? List.of(leafBlock(index))
                : nodeIndex(what, index, leaf, more != null, shrink);
        List<Placed> freeBlocks = form == Form.NODE ? freeIndex(what, free, bestcount, more != null, shrink) : List.of();

        List<BlockImage> images = new ArrayList<>();
        allocate(what, dir, out, indexBlocks, freeBlocks, more);
        for (int k = 0; k < filled.size(); k++) {
            DataBlock d = filled.get(k);
            bests[(int) d.db] = d.finish(Directories.DATA_MAGIC, out.get(k).offset >> 9, dir.ino);
            out.get(k).bytes = d.b;
        }
        if (form == Form.LEAF) {
            finishLeaf(indexBlocks.get(0), leaf, bests, dir.ino);
        } else {
            finishNode(indexBlocks, leaf, dir.ino);
            finishFree(freeBlocks, bests, dir.ino);
        }
        out.addAll(indexBlocks);
        out.addAll(freeBlocks);
        return written(what, dir, extents, out, (lastDb + 1) * g.dirBlockSize, more, unused(shrink, out, data, index, free));
    }

    /**
     * The directory blocks it maps that the layout does not write (only when shrinking: else every one is used or the
     * rebuild refused): they are unmapped.
     */
    @SafeVarargs
    private static List<DirBlock> unused(boolean shrink, List<Placed> written, List<DirBlock>... mapped) {
        List<DirBlock> out = new ArrayList<>();
        if (!shrink) {
            return out;
        }
        java.util.Set<Long> kept = new java.util.HashSet<>();
        for (Placed p : written) {
            if (p.fsb < 0) {
                kept.add(p.dablk);
            }
        }
        for (List<DirBlock> l : mapped) {
            for (DirBlock d : l) {
                if (!kept.contains(d.dablk)) {
                    out.add(d);
                }
            }
        }
        return out;
    }

    /** A single-block directory: data, hash index and tail in one block, its header not yet set. */
    private DataBlock blockForm(Inode dir, long parent, List<Item> items, int leafAt) {
        int count = items.size() + 2;
        DataBlock d = new DataBlock(0, leafAt);
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
        return d; // the header (place, checksum) is set once the block's place is known
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

    /** The one hash index block of a leaf directory, at the leaf offset: the one it maps, or one to allocate. */
    private Placed leafBlock(List<DirBlock> index) {
        return new Placed(leafBlk, index.isEmpty() ? -1 : index.get(0).offset, "hash index block");
    }

    private void finishLeaf(Placed p, long[] leaf, int[] bests, long owner) {
        byte[] b = new byte[g.dirBlockSize];
        putEntries(b, leaf, 0, leaf.length);
        int bestsAt = g.dirBlockSize - LEAF_TAIL - 2 * bests.length;
        for (int db = 0; db < bests.length; db++) {
            put16(b, bestsAt + 2 * db, bests[db]);
        }
        put32(b, g.dirBlockSize - LEAF_TAIL, bests.length);
        p.bytes = daHeader(b, Directories.LEAF1_MAGIC, p, owner, leaf.length, 0, 0, 0);
    }

    private void putEntries(byte[] b, long[] leaf, int from, int to) {
        for (int i = from; i < to; i++) {
            put32(b, HDR + (i - from) * LEAF_ENTRY, leaf[i] >>> 32);
            put32(b, HDR + (i - from) * LEAF_ENTRY + 4, leaf[i] & 0xffffffffL);
        }
    }

    /** A leaf or node block's header (xfs_da3_blkinfo and count/stale or count/level), its checksum set. */
    private byte[] daHeader(byte[] b, int magic, Placed p, long owner, int count, int levelOrStale, long forw, long back) {
        Struct h = new Struct(Layouts.DA3_NODE, b, 0);
        h.set("magic", magic);
        h.set("forw", forw);
        h.set("back", back);
        h.set("blkno", p.offset >> 9);
        h.set("uuid0", g.metaUuid0);
        h.set("uuid1", g.metaUuid1);
        h.set("owner", owner);
        h.set("count", count);
        h.set("level_or_stale", levelOrStale);
        return h.encode(0, b.length);
    }

    /**
     * The hash index of the node form (xfs_dir2_leaf_to_node, xfs_da3_split): its root at the leaf offset, a lone leaf
     * when the entries fit one and the directory maps no more, else a node (level 1) over leaves filled evenly in hash
     * order, linked left to right in the order of their file blocks. The mapped hash index blocks are all used, each
     * leaf holding at least one entry; with {@code grow}, new leaves follow the last mapped one. More leaves than one
     * node holds (a second node level) are refused.
     */
    private List<Placed> nodeIndex(String what, List<DirBlock> index, long[] leaf, boolean grow, boolean shrink) throws XfsException {
        int perLeaf = (g.dirBlockSize - HDR) / LEAF_ENTRY;
        List<Placed> out = new ArrayList<>();
        out.add(new Placed(leafBlk, index.isEmpty() ? -1 : index.get(0).offset, "hash index root"));
        int needed = (leaf.length + perLeaf - 1) / perLeaf;
        // shrinking keeps the mapped leaves while they stay at least half full on average: the kernel joins a leaf
        // below half full with a sibling (xfs_dir2_leafn_toosmall), so a directory it shrank is never emptier
        int mappedLeaves = shrink ? Math.min(Math.max(0, index.size() - 1), leaf.length / (perLeaf / 2)) : index.size() - 1;
        if (leaf.length <= perLeaf && (shrink ? mappedLeaves <= 1 : index.size() <= 1)) {
            return out; // a lone leaf as the root
        }
        int leaves = Math.max(mappedLeaves, needed);
        check(leaves <= leaf.length, what + ": " + leaf.length + " hash index entries leave some of its " + (index.size() - 1)
                + " hash index leaves empty: they would have to be freed, which is not done here");
        check(leaves <= perLeaf, what + ": " + leaves + " hash index leaves need a second level of nodes, which is not built");
        check(leaves <= index.size() - 1 || grow, what + ": " + leaf.length + " hash index entries need " + leaves
                + " leaves, it maps " + Math.max(0, index.size() - 1) + " and no blocks were given to take more from");
        long at = index.isEmpty() ? leafBlk : index.get(index.size() - 1).dablk;
        for (int k = 0; k < leaves; k++) {
            if (k + 1 < index.size()) {
                DirBlock d = index.get(k + 1);
                out.add(new Placed(d.dablk, d.offset, "hash index leaf " + k));
            } else {
                at = Math.max(at, out.get(out.size() - 1).dablk) + fsbPerDirBlock;
                check(at < freeBlk, what + ": the hash index would pass the free index offset");
                out.add(new Placed(at, -1, "hash index leaf " + k));
            }
        }
        return out;
    }

    private void finishNode(List<Placed> index, long[] leaf, long owner) {
        if (index.size() == 1) {
            byte[] b = new byte[g.dirBlockSize];
            putEntries(b, leaf, 0, leaf.length);
            index.get(0).bytes = daHeader(b, Directories.LEAFN_MAGIC, index.get(0), owner, leaf.length, 0, 0, 0);
            return;
        }
        int leaves = index.size() - 1;
        long[] keys = new long[leaves];
        for (int k = 0; k < leaves; k++) {
            // even shares in hash order; equal hashes may straddle two leaves (lookups walk on to the sibling)
            int from = (int) ((long) leaf.length * k / leaves);
            int to = (int) ((long) leaf.length * (k + 1) / leaves);
            Placed p = index.get(k + 1);
            byte[] b = new byte[g.dirBlockSize];
            putEntries(b, leaf, from, to);
            long back = k == 0 ? 0 : index.get(k).dablk;
            long forw = k == leaves - 1 ? 0 : index.get(k + 2).dablk;
            p.bytes = daHeader(b, Directories.LEAFN_MAGIC, p, owner, to - from, 0, forw, back);
            keys[k] = ((leaf[to - 1] >>> 32) << 32) | p.dablk;
        }
        byte[] b = new byte[g.dirBlockSize];
        for (int k = 0; k < leaves; k++) {
            put32(b, HDR + k * LEAF_ENTRY, keys[k] >>> 32);
            put32(b, HDR + k * LEAF_ENTRY + 4, keys[k] & 0xffffffffL);
        }
        index.get(0).bytes = daHeader(b, Directories.NODE_MAGIC, index.get(0), owner, leaves, 1, 0, 0);
    }

    /** The free index blocks the data blocks need (each covers as many as its bests hold): mapped ones kept, the rest new. */
    private List<Placed> freeIndex(String what, List<DirBlock> free, int bestcount, boolean grow, boolean shrink) throws XfsException {
        int per = (g.dirBlockSize - HDR) / 2;
        int blocks = (bestcount + per - 1) / per;
        List<Placed> out = new ArrayList<>();
        int k = 0;
        for (int j = 0; j < blocks; j++) {
            long dablk = freeBlk + (long) j * fsbPerDirBlock;
            if (k < free.size() && free.get(k).dablk == dablk) {
                out.add(new Placed(dablk, free.get(k++).offset, "free index block " + j));
            } else {
                check(grow, what + ": free index block " + j + " is not mapped, and no blocks were given to take it from");
                out.add(new Placed(dablk, -1, "free index block " + j));
            }
        }
        check(k == free.size() || shrink, what + ": it maps free index blocks its " + bestcount + " data blocks do not need:"
                + " they would have to be freed, which is not done here");
        return out;
    }

    private void finishFree(List<Placed> free, int[] bests, long owner) {
        int per = (g.dirBlockSize - HDR) / 2;
        for (int j = 0; j < free.size(); j++) {
            Placed p = free.get(j);
            byte[] b = new byte[g.dirBlockSize];
            int first = j * per;
            int valid = Math.min(per, bests.length - first);
            int used = 0;
            for (int i = 0; i < valid; i++) {
                put16(b, HDR + 2 * i, bests[first + i]);
                used += bests[first + i] != NO_BLOCK ? 1 : 0;
            }
            Struct h = new Struct(Layouts.DIR3_FREE, b, 0);
            h.set("magic", Directories.FREE_MAGIC);
            h.set("blkno", p.offset >> 9);
            h.set("uuid0", g.metaUuid0);
            h.set("uuid1", g.metaUuid1);
            h.set("owner", owner);
            h.set("firstdb", first);
            h.set("nvalid", valid);
            h.set("nused", used);
            p.bytes = h.encode(0, b.length);
        }
    }

    /**
     * Blocks for every directory block that has no place yet, one directory block (contiguous) at a time, from the
     * inode's AG first. Only called once the layout is known: every block asked for is used.
     */
    private void allocate(String what, Inode dir, List<Placed> data, List<Placed> index, List<Placed> free, BlockAllocator more)
            throws XfsException {
        List<Placed> wanted = new ArrayList<>();
        for (List<Placed> l : List.of(data, index, free)) {
            for (Placed p : l) {
                if (p.offset < 0) {
                    wanted.add(p);
                }
            }
        }
        if (wanted.isEmpty()) {
            return;
        }
        check(more != null, what + ": it needs " + wanted.size() + " more directory block(s), and no blocks were given");
        check(wanted.size() <= MAX_NEW_BLOCKS, what + ": it would need " + wanted.size() + " new directory blocks, more than "
                + MAX_NEW_BLOCKS + " in one rebuild");
        int home = (int) (dir.ino >>> (g.agBlkLog + g.inopbLog));
        for (Placed p : wanted) {
            long fsb = allocateOne(what, home, fsbPerDirBlock, more);
            p.offset = g.fsbOffset(fsb);
            p.fsb = fsb;
        }
    }

    /** {@code count} contiguous blocks from {@code more}, AG {@code home} first, then the next ones: their first block. */
    private long allocateOne(String what, int home, int count, BlockAllocator more) throws XfsException {
        for (int k = 0; k < g.agCount; k++) {
            int agno = (home + k) % g.agCount;
            List<FreeExtent> got;
            try {
                got = more.allocate(agno, count);
            } catch (XfsException e) {
                throw e;
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new XfsException(what + ": allocating a directory block: " + e.getMessage(), e);
            }
            if (got == null) {
                continue;
            }
            // a directory block is one buffer: its filesystem blocks must be one extent
            check(got.size() == 1 && got.get(0).length() == count, what + ": the " + count
                    + " blocks given in AG " + agno + " are not contiguous; not rebuilt");
            return ((long) agno << g.agBlkLog) | got.get(0).start();
        }
        throw new XfsFormatException(what + ": no AG gave a run of " + count + " free block(s)", "directory");
    }

    /**
     * The blocks as images, and the inode: its size set, and when blocks were added or {@code unused} ones unmapped, its
     * data fork's extent map with them (adjacent mappings merged), its extent and block counts: in the inode (extents
     * format) when the extents fit it, else a bmbt ({@link #withBmbt}).
     */
    private List<BlockImage> written(String what, Inode dir, List<Inode.Extent> extents, List<Placed> blocks, long size,
            BlockAllocator more, List<DirBlock> unused) throws XfsException {
        List<BlockImage> out = new ArrayList<>();
        List<Inode.Extent> grown = new ArrayList<>(unused.isEmpty() ? extents : without(extents, unused));
        long added = 0;
        for (Placed p : blocks) {
            out.add(new BlockImage(p.offset, p.bytes, "directory inode " + dir.ino + " " + p.name + (p.fsb >= 0 ? " (new)" : "")));
            if (p.fsb >= 0) {
                grown.add(new Inode.Extent(p.dablk, p.fsb, fsbPerDirBlock, false));
                added += fsbPerDirBlock;
            }
        }
        long removed = (long) unused.size() * fsbPerDirBlock;
        if (added == 0 && removed == 0) {
            sized(dir, size, out);
            return out;
        }
        grown.sort((a, b) -> Long.compare(a.startOff(), b.startOff()));
        List<Inode.Extent> merged = new ArrayList<>();
        for (Inode.Extent e : grown) {
            Inode.Extent prev = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (prev != null && prev.startOff() + prev.count() == e.startOff() && prev.startBlock() + prev.count() == e.startBlock()
                    && prev.count() + e.count() <= MAX_EXTENT_LENGTH) {
                merged.set(merged.size() - 1, new Inode.Extent(prev.startOff(), prev.startBlock(), prev.count() + e.count(), false));
            } else {
                merged.add(e);
            }
        }
        String change = "directory: " + (added > 0 ? added + " block(s) added to its data fork" : "")
                + (added > 0 && removed > 0 ? ", " : "") + (removed > 0 ? removed + " block(s) unmapped from its data fork" : "");
        if (dir.format == Inode.FMT_BTREE || (long) merged.size() * BMBT_REC > dir.dataForkSize()) {
            return withBmbt(what, dir, merged, out, size, more, change);
        }
        boolean large = (dir.core.get("flags2") & NREXT64) != 0;
        byte[] b = dir.with(java.util.Map.of("format", (long) Inode.FMT_EXTENTS, large ? "big_nextents" : "nextents",
                (long) merged.size(), "nblocks", dir.core.get("nblocks") + added - removed, "size", size));
        Arrays.fill(b, Inode.CORE_SIZE, Inode.CORE_SIZE + dir.dataForkSize(), (byte) 0);
        for (int i = 0; i < merged.size(); i++) {
            Inode.Extent e = merged.get(i);
            int at = Inode.CORE_SIZE + i * BMBT_REC;
            // xfs_bmbt_rec: flag (1 bit), startoff (54), startblock (52), blockcount (21)
            put64(b, at, (e.startOff() << 9) | (e.startBlock() >>> 43));
            put64(b, at + 8, (e.startBlock() << 21) | e.count());
        }
        out.add(new BlockImage(g.inodeOffset(dir.ino), new Struct(Layouts.DINODE, b, 0).encode(0, b.length), "inode " + dir.ino
                + " (" + change + ")"));
        return out;
    }

    /** The extents less the directory blocks {@code gone}: an extent they cut in the middle becomes two. */
    private List<Inode.Extent> without(List<Inode.Extent> extents, List<DirBlock> gone) {
        long[] cut = new long[gone.size()];
        for (int i = 0; i < cut.length; i++) {
            cut[i] = gone.get(i).dablk;
        }
        Arrays.sort(cut);
        List<Inode.Extent> out = new ArrayList<>();
        for (Inode.Extent e : extents) {
            long from = e.startOff();
            long end = e.startOff() + e.count();
            for (long c : cut) {
                if (c + fsbPerDirBlock <= from || c >= end) {
                    continue;
                }
                if (c > from) {
                    out.add(new Inode.Extent(from, e.startBlock() + (from - e.startOff()), c - from, e.unwritten()));
                }
                from = Math.min(end, c + fsbPerDirBlock);
            }
            if (from < end) {
                out.add(new Inode.Extent(from, e.startBlock() + (from - e.startOff()), end - from, e.unwritten()));
            }
        }
        return out;
    }

    /**
     * A data fork whose extents do not fit the inode, or that was a bmbt: written by {@link ForkRewrite} on a view with
     * the directory's blocks and size, into the bmbt's own blocks (those it no longer needs left unmapped with the
     * directory's, as the kernel frees them) and, when it needs more, blocks from {@code more} (the inode's AG first);
     * extents format when they fit the inode after all.
     */
    private List<BlockImage> withBmbt(String what, Inode dir, List<Inode.Extent> merged, List<BlockImage> out, long size,
            BlockAllocator more, String change) throws XfsException {
        List<Long> own = new ArrayList<>();
        if (dir.format == Inode.FMT_BTREE) {
            dir.forkExtents(fs.image, g, false, own::add);
        }
        List<BlockImage> base = new ArrayList<>(out);
        base.add(new BlockImage(g.inodeOffset(dir.ino), dir.with(java.util.Map.of("size", size)), "inode " + dir.ino));
        XfsImage view = (XfsImage) fs.withPlanned(base);
        ForkRewrite rewrite = new ForkRewrite(view);
        int need = rewrite.blocksNeeded(dir.ino, false, merged.size());
        List<org.xfstage.api.device.SalvagedFork.AgBlock> tree = new ArrayList<>();
        for (int i = 0; i < Math.min(need, own.size()); i++) {
            tree.add(new org.xfstage.api.device.SalvagedFork.AgBlock((int) g.agOf(own.get(i)), own.get(i) & ((1L << g.agBlkLog) - 1)));
        }
        if (tree.size() < need) {
            check(more != null, what + ": " + merged.size() + " extents need a bmbt of " + need + " block(s), it has " + own.size()
                    + ", and no blocks were given");
            check(need - tree.size() <= MAX_NEW_BLOCKS, what + ": a bmbt of " + need + " blocks");
            int home = (int) (dir.ino >>> (g.agBlkLog + g.inopbLog));
            while (tree.size() < need) {
                long fsb = allocateOne(what, home, 1, more);
                tree.add(new org.xfstage.api.device.SalvagedFork.AgBlock((int) g.agOf(fsb), fsb & ((1L << g.agBlkLog) - 1)));
            }
        }
        List<org.xfstage.api.device.FileExtent> fileExtents = new ArrayList<>();
        for (Inode.Extent e : merged) {
            fileExtents.add(new org.xfstage.api.device.FileExtent(e.startOff(), (int) g.agOf(e.startBlock()),
                    e.startBlock() & ((1L << g.agBlkLog) - 1), e.count(), false));
        }
        List<BlockImage> fork = rewrite.rewrite(dir.ino, false, fileExtents, tree);
        List<BlockImage> result = new ArrayList<>(out);
        for (BlockImage b : fork) {
            boolean inode = b.offset() == g.inodeOffset(dir.ino);
            result.add(inode ? new BlockImage(b.offset(), b.bytes(), "inode " + dir.ino + " (" + change + "; its extent map "
                    + (need == 0 ? "made extents" : "a bmbt of " + need + " block(s)") + ")") : b);
        }
        return result;
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
