package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FileExtent;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.SalvagedFork;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * An inode's fork salvaged and written anew: the repair of an extent map that keeps the file, where xfs_repair clears
 * the inode.
 * <p>
 * The salvage reads the fork as xfs_repair's process_bmbt_reclist does, record by record, and keeps each record that
 * breaks no rule of its own (a length, an offset, a place in one AG of the filesystem); a bmbt block that does not
 * read as a block of this inode's bmbt (magic, level, owner, place, uuid) loses the records below it, a bad checksum
 * alone does not (xfs_repair reads on). The kept records are then sorted by file offset, and one that overlaps a kept
 * record before it is dropped: of two records claiming one file block, the one that sorts first is kept, so that a
 * record moved onto another's offset is the one that goes. Whether the blocks belong to someone else is not known
 * here: the caller decides from the space map.
 * <p>
 * The rewrite lays the extents out as the kernel does: in the inode when they fit its fork (xfs_iextents_copy), else
 * as a bmbt (xfs_bmbt_* in xfs_bmap_btree.c) whose root is in the inode (struct xfs_bmdr_block: level, numrecs, then
 * maxrecs keys and maxrecs pointers for the fork's size) and whose blocks are long-pointer btree blocks (struct
 * xfs_btree_block with the long sibling pointers, blkno, lsn, uuid, owner and crc: 72 bytes, then records or keys
 * and pointers, pointers after maxrecs keys), leaves spread evenly as the bulk loader does (each block below the root
 * at least half full). The inode gets the format, extent count and di_nblocks; then the result is read back on a
 * view by the verifying reader ({@link InodeChecks}).
 */
final class ForkRewrite {
    private static final int BMBT_REC = 16;
    private static final int LBLOCK_HDR = 72;
    /** NULLFSBLOCK: no sibling. */
    private static final long NULL_FSB = -1L;
    /** XFS_MAX_BMBT_EXTLEN: the longest extent one record holds (21 bits). */
    private static final long MAX_EXTLEN = (1L << 21) - 1;
    /** No bmbt is deeper: XFS_BM_MAXLEVELS stays below 10 even on 512-byte blocks; deeper is a loop. */
    private static final int MAX_DEPTH = 16;
    /**
     * Records a salvage holds (kept and dropped, 48 bytes each on the heap): a fork with more is refused rather than
     * read into memory. Millions of extents are far past any file a repair of this kind is for.
     */
    static final int MAX_RECORDS = 1 << 21;

    private final XfsImage fs;
    private final Geometry g;
    private final InodeChecks checks;

    ForkRewrite(XfsImage fs) {
        this.fs = fs;
        this.g = fs.geometry;
        this.checks = new InodeChecks(fs.image, g, fs.superblock);
    }

    /** Where a fork is in the inode and which core fields describe it. */
    private record Fork(boolean attr, int format, int start, int size, String formatField, String countField) {
    }

    private Fork fork(Inode inode, boolean attr) throws XfsFormatException {
        Struct c = inode.core;
        boolean large = (c.get("flags2") & InodeChecks.DIFLAG2_NREXT64) != 0;
        int forkoff = (int) c.get("forkoff") * 8;
        if (!attr) {
            return new Fork(false, inode.format, Inode.CORE_SIZE, inode.dataForkSize(), "format", large ? "big_nextents" : "nextents");
        }
        Headers.check(forkoff != 0, () -> "inode " + inode.ino + " has no attribute fork");
        return new Fork(true, (int) c.get("aformat"), Inode.CORE_SIZE + forkoff, g.inodeSize - Inode.CORE_SIZE - forkoff, "aformat",
                large ? "nextents" : "anextents");
    }

    private long count(Inode inode, Fork f) {
        return inode.core.get(f.countField());
    }

    private Inode inUse(long ino) throws XfsException {
        Inode inode = Inode.read(fs.image, g, ino);
        Headers.check(inode.mode != 0, () -> "inode " + ino + " is free");
        inode.checkedType();
        Headers.check((inode.core.get("flags") & InodeChecks.DIFLAG_REALTIME) == 0 || fs.superblock.get("rblocks") == 0,
                () -> "inode " + ino + " maps realtime blocks, which are not read here");
        return inode;
    }

    // ---- salvage ----

    /** The state of one salvage: records in fork order, with their place. */
    private final class Salvage {
        final long ino;
        final boolean attr;
        final FileType type;
        final List<long[]> kept = new ArrayList<>(); // {index, startOff, fsb, count, unwritten}
        final List<SalvagedFork.Dropped> dropped = new ArrayList<>();
        final List<SalvagedFork.AgBlock> blocks = new ArrayList<>();
        final Set<Long> seen = new HashSet<>();
        long records;
        boolean lost;

        Salvage(long ino, boolean attr, FileType type) {
            this.ino = ino;
            this.attr = attr;
            this.type = type;
        }

        void record(Inode.Extent raw) throws XfsFormatException {
            long index = records++;
            Headers.check(kept.size() + dropped.size() < MAX_RECORDS,
                    () -> "inode " + ino + ": more than " + MAX_RECORDS + " records in the fork; not salvaged in memory");
            long fsb = checks.canonical(raw.startBlock());
            String why = null;
            if (raw.count() == 0) {
                why = "length 0";
            } else if (raw.startOff() + raw.count() - 1 > Long.MAX_VALUE >> g.blockLog) {
                why = "past the largest file offset";
            } else if (g.agOf(fsb) != g.agOf(fsb + raw.count() - 1)) {
                why = "runs past the end of its AG";
            } else if (!checks.validFsb(fsb) || !checks.validFsb(fsb + raw.count() - 1)) {
                why = "outside the filesystem";
            }
            if (why != null) {
                boolean placed = raw.count() > 0 && g.agOf(fsb) == g.agOf(fsb + raw.count() - 1) && checks.validFsb(fsb)
                        && checks.validFsb(fsb + raw.count() - 1);
                dropped.add(new SalvagedFork.Dropped(index, raw.startOff(), raw.count(), placed ? (int) g.agOf(fsb) : -1,
                        placed ? fsb & ((1L << g.agBlkLog) - 1) : -1, why));
                return;
            }
            // an unwritten flag where none may be: the blocks hold what was written, the flag alone is wrong
            boolean unwritten = raw.unwritten() && !attr && type == FileType.FILE;
            kept.add(new long[] {index, raw.startOff(), fsb, raw.count(), unwritten ? 1 : 0});
        }

        void lostBlock(long fsb, String why) throws XfsFormatException {
            lost = true;
            Headers.check(kept.size() + dropped.size() < MAX_RECORDS,
                    () -> "inode " + ino + ": more than " + MAX_RECORDS + " records in the fork; not salvaged in memory");
            dropped.add(new SalvagedFork.Dropped(-1, fsb, 0, -1, -1, "bmbt block " + fsb + " " + why + ": the records below it are lost"));
        }

        /** A bmbt block at {@code level} below the root: its records, or its children, when it reads as this bmbt's. */
        void block(long pointer, int level) throws XfsException {
            long fsb = checks.canonical(pointer);
            if (!checks.validFsb(fsb)) {
                lostBlock(fsb, "is outside the filesystem");
                return;
            }
            if (!seen.add(fsb) || seen.size() > g.dataBlocks) {
                lostBlock(fsb, "is reached twice");
                return;
            }
            long offset = g.fsbOffset(fsb);
            byte[] b = fs.image.read(offset, g.blockSize);
            Struct h = new Struct(Layouts.LBLOCK, b, 0);
            int maxrecs = (g.blockSize - LBLOCK_HDR) / BMBT_REC;
            int numrecs = (int) h.get("numrecs");
            String why = h.get("magic") != Inode.BMBT_MAGIC ? "has a bad magic"
                    : h.get("level") != level ? "is at the wrong level"
                    : h.get("owner") != ino ? "is owned by inode " + h.get("owner")
                    : h.get("blkno") != offset >> 9 || !Headers.sameUuid(h, g) ? "records another place or filesystem"
                    : numrecs > maxrecs || (level > 0 && numrecs == 0) ? "holds " + numrecs + " records" : null;
            if (why != null) {
                lostBlock(fsb, why);
                return;
            }
            blocks.add(new SalvagedFork.AgBlock((int) g.agOf(fsb), fsb & ((1L << g.agBlkLog) - 1)));
            if (level == 0) {
                for (int i = 0; i < numrecs; i++) {
                    record(Inode.record(b, LBLOCK_HDR + i * BMBT_REC));
                }
                return;
            }
            for (int i = 0; i < numrecs; i++) {
                block(Inode.u64(b, LBLOCK_HDR + maxrecs * 8 + i * 8), level - 1);
            }
        }

        SalvagedFork result() {
            // sorted by offset, then by place in the fork (List.sort is stable): the first of two claims is kept
            kept.sort(Comparator.comparingLong((long[] k) -> k[1]));
            List<FileExtent> out = new ArrayList<>();
            long prevEnd = 0;
            for (long[] k : kept) {
                if (!out.isEmpty() && k[1] < prevEnd) {
                    dropped.add(new SalvagedFork.Dropped(k[0], k[1], k[3], (int) g.agOf(k[2]), k[2] & ((1L << g.agBlkLog) - 1),
                            "overlaps the extent before it in the file"));
                    continue;
                }
                out.add(new FileExtent(k[1], (int) g.agOf(k[2]), k[2] & ((1L << g.agBlkLog) - 1), k[3], k[4] != 0));
                prevEnd = k[1] + k[3];
            }
            dropped.sort(Comparator.comparingLong(SalvagedFork.Dropped::record));
            return new SalvagedFork(List.copyOf(out), List.copyOf(dropped), List.copyOf(blocks), lost);
        }
    }

    SalvagedFork salvage(long ino, boolean attr) throws XfsException {
        Inode inode = inUse(ino);
        Salvage s = new Salvage(ino, attr, inode.type());
        if (attr && inode.core.get("forkoff") == 0) {
            return s.result();
        }
        Fork f = fork(inode, attr);
        byte[] raw = inode.core.raw();
        if (f.format() == Inode.FMT_EXTENTS) {
            long n = Math.min(Math.max(count(inode, f), 0), f.size() / BMBT_REC);
            for (int i = 0; i < n; i++) {
                s.record(Inode.record(raw, f.start() + i * BMBT_REC));
            }
        } else if (f.format() == Inode.FMT_BTREE) {
            int level = f.size() >= 4 ? Inode.u16(raw, f.start()) : 0;
            int numrecs = f.size() >= 4 ? Inode.u16(raw, f.start() + 2) : 0;
            int rootMax = (f.size() - 4) / BMBT_REC;
            if (level < 1 || level >= MAX_DEPTH || numrecs < 1 || numrecs > rootMax) {
                s.lostBlock(0, "(the root in the inode) has level " + level + " and " + numrecs + " records");
            } else {
                for (int i = 0; i < numrecs; i++) {
                    s.block(Inode.u64(raw, f.start() + 4 + rootMax * 8 + i * 8), level - 1);
                }
            }
        }
        return s.result();
    }

    // ---- rewrite ----

    /** Blocks per level of a bmbt of {@code n} records, leaves first; the root in the inode is above the last. */
    private List<Long> levels(long n, int rootMax) {
        int maxrecs = (g.blockSize - LBLOCK_HDR) / BMBT_REC;
        List<Long> out = new ArrayList<>();
        long count = (n + maxrecs - 1) / maxrecs;
        out.add(count);
        while (count > rootMax && out.size() < MAX_DEPTH) {
            count = (count + maxrecs - 1) / maxrecs;
            out.add(count);
        }
        return out;
    }

    int blocksNeeded(long ino, boolean attr, long extents) throws XfsException {
        Inode inode = inUse(ino);
        Fork f = fork(inode, attr);
        if (extents * BMBT_REC <= f.size()) {
            return 0;
        }
        List<Long> levels = levels(extents, (f.size() - 4) / BMBT_REC);
        Headers.check(levels.get(levels.size() - 1) <= (f.size() - 4) / BMBT_REC,
                () -> "inode " + ino + ": " + extents + " extents make a bmbt deeper than " + MAX_DEPTH + " levels");
        long sum = levels.stream().mapToLong(Long::longValue).sum();
        Headers.check(sum <= Integer.MAX_VALUE, () -> "inode " + ino + ": " + extents + " extents need too many bmbt blocks");
        return (int) sum;
    }

    List<BlockImage> rewrite(long ino, boolean attr, List<FileExtent> extents, List<SalvagedFork.AgBlock> bmbtBlocks) throws XfsException {
        Inode inode = inUse(ino);
        FileType type = inode.type();
        Fork f = fork(inode, attr);
        Headers.check(f.format() == Inode.FMT_EXTENTS || f.format() == Inode.FMT_BTREE,
                () -> "inode " + ino + ": the " + forkName(attr) + " is neither extents nor a bmbt; not rewritten");
        long[] fsbs = new long[extents.size()];
        long prevEnd = 0;
        long mapped = 0;
        for (int i = 0; i < extents.size(); i++) {
            FileExtent e = extents.get(i);
            int at = i;
            Headers.check(e.length() >= 1 && e.length() <= MAX_EXTLEN && e.offset() >= prevEnd
                    && e.end() - 1 <= Long.MAX_VALUE >> g.blockLog, () -> "inode " + ino + ": extent " + at + " at file block "
                    + e.offset() + " is empty, too long, out of order or past the largest offset");
            Headers.check(!e.unwritten() || (!attr && type == FileType.FILE),
                    () -> "inode " + ino + ": extent " + at + " is unwritten where only written ones may be");
            long fsb = fsb(e.agno(), e.agbno());
            Headers.check(e.agno() >= 0 && e.agno() < g.agCount && e.agbno() >= 0 && checks.validFsb(fsb)
                    && checks.validFsb(fsb + e.length() - 1) && g.agOf(fsb + e.length() - 1) == e.agno(),
                    () -> "inode " + ino + ": extent " + at + " lies outside the filesystem's data blocks of one AG");
            fsbs[i] = fsb;
            prevEnd = e.end();
            mapped += e.length();
        }
        int need = blocksNeeded(ino, attr, extents.size());
        Headers.check(bmbtBlocks.size() == need, () -> "inode " + ino + ": " + extents.size() + " extents need " + need
                + " bmbt blocks, " + bmbtBlocks.size() + " given");
        long[] tree = new long[need];
        Set<Long> distinct = new HashSet<>();
        for (int i = 0; i < need; i++) {
            SalvagedFork.AgBlock b = bmbtBlocks.get(i);
            long fsb = fsb(b.agno(), b.agbno());
            Headers.check(b.agno() >= 0 && b.agno() < g.agCount && b.agbno() >= 0 && checks.validFsb(fsb) && distinct.add(fsb),
                    () -> "inode " + ino + ": bmbt block " + b.agno() + "/" + b.agbno() + " is outside the filesystem or given twice");
            tree[i] = fsb;
        }
        // no bmbt block among the fork's own data blocks: both sorted by place, swept once
        long[] sortedTree = tree.clone();
        java.util.Arrays.sort(sortedTree);
        long[][] byPlace = new long[extents.size()][];
        for (int i = 0; i < fsbs.length; i++) {
            byPlace[i] = new long[] {fsbs[i], fsbs[i] + extents.get(i).length()};
        }
        java.util.Arrays.sort(byPlace, Comparator.comparingLong((long[] x) -> x[0]));
        int at = 0;
        for (long b : sortedTree) {
            while (at < byPlace.length && byPlace[at][1] <= b) {
                at++;
            }
            long block = b;
            Headers.check(at == byPlace.length || byPlace[at][0] > b, () -> "inode " + ino + ": bmbt block " + block
                    + " is one of the fork's own data blocks");
        }

        // the blocks the other fork maps, its bmbt blocks too, stay counted in di_nblocks
        long[] other = {0};
        checks.check(inode, (fsb, n, off, a, bmbt, unwritten) -> {
            if (a != attr) {
                other[0] += n;
            }
        }, p -> { });

        byte[] raw = inode.core.raw().clone();
        java.util.Arrays.fill(raw, f.start(), f.start() + f.size(), (byte) 0);
        List<BlockImage> out = new ArrayList<>();
        int format;
        if (need == 0) {
            format = Inode.FMT_EXTENTS;
            for (int i = 0; i < extents.size(); i++) {
                putRecord(raw, f.start() + i * BMBT_REC, extents.get(i), fsbs[i]);
            }
        } else {
            format = Inode.FMT_BTREE;
            bulkLoad(ino, raw, f, extents, fsbs, tree, out);
        }
        Struct s = new Struct(Layouts.DINODE, raw, 0);
        s.set(f.formatField(), format);
        s.set(f.countField(), extents.size());
        s.set("nblocks", other[0] + mapped + need);
        out.add(new BlockImage(g.inodeOffset(ino), s.encode(0, g.inodeSize), "inode " + ino + " (" + forkName(attr) + " rewritten)"));
        readBack(ino, attr, extents, fsbs, need, out);
        return out;
    }

    /**
     * The bmbt: leaves first (records spread evenly over them), then each node level over the level below, in the
     * blocks given in that order; the root in the inode over the top level.
     */
    private void bulkLoad(long ino, byte[] inode, Fork f, List<FileExtent> extents, long[] fsbs, long[] tree, List<BlockImage> out)
            throws XfsException {
        int maxrecs = (g.blockSize - LBLOCK_HDR) / BMBT_REC;
        int rootMax = (f.size() - 4) / BMBT_REC;
        List<Long> levels = levels(extents.size(), rootMax);
        int next = 0;
        // the level below: its blocks and each one's first file offset (its key)
        long[] childBlocks = null;
        long[] childKeys = null;
        for (int level = 0; level < levels.size(); level++) {
            int count = levels.get(level).intValue();
            long entries = level == 0 ? extents.size() : childBlocks.length;
            long[] blocks = java.util.Arrays.copyOfRange(tree, next, next + count);
            next += count;
            long[] keys = new long[count];
            long done = 0;
            for (int j = 0; j < count; j++) {
                int n = (int) (entries / count + (j < entries % count ? 1 : 0));
                byte[] b = new byte[g.blockSize];
                if (level == 0) {
                    for (int i = 0; i < n; i++) {
                        putRecord(b, LBLOCK_HDR + i * BMBT_REC, extents.get((int) done + i), fsbs[(int) done + i]);
                    }
                    keys[j] = extents.get((int) done).offset();
                } else {
                    for (int i = 0; i < n; i++) {
                        put64(b, LBLOCK_HDR + i * 8, childKeys[(int) done + i]);
                        put64(b, LBLOCK_HDR + maxrecs * 8 + i * 8, childBlocks[(int) done + i]);
                    }
                    keys[j] = childKeys[(int) done];
                }
                done += n;
                long offset = g.fsbOffset(blocks[j]);
                Struct h = new Struct(Layouts.LBLOCK, b, 0);
                h.set("magic", Inode.BMBT_MAGIC);
                h.set("level", level);
                h.set("numrecs", n);
                h.set("leftsib", j == 0 ? NULL_FSB : blocks[j - 1]);
                h.set("rightsib", j == count - 1 ? NULL_FSB : blocks[j + 1]);
                h.set("blkno", offset >> 9);
                h.set("lsn", 0);
                h.set("uuid0", g.metaUuid0);
                h.set("uuid1", g.metaUuid1);
                h.set("owner", ino);
                h.set("pad", 0);
                out.add(new BlockImage(offset, h.encode(0, g.blockSize), "inode " + ino + " bmbt block " + blocks[j] + " (level " + level + ")"));
            }
            childBlocks = blocks;
            childKeys = keys;
        }
        put16(inode, f.start(), levels.size());
        put16(inode, f.start() + 2, childBlocks.length);
        for (int i = 0; i < childBlocks.length; i++) {
            put64(inode, f.start() + 4 + i * 8, childKeys[i]);
            put64(inode, f.start() + 4 + rootMax * 8 + i * 8, childBlocks[i]);
        }
    }

    /**
     * The fork as written, read on a view by the verifying reader: exactly these extents and bmbt blocks, and no rule
     * of the fork or of its count broken (di_nblocks too, unless the other fork breaks rules of its own, whose blocks
     * then prove no total).
     */
    private void readBack(long ino, boolean attr, List<FileExtent> extents, long[] fsbs, int need, List<BlockImage> out) throws XfsException {
        XfsImage view = (XfsImage) fs.withPlanned(out);
        InodeChecks vc = new InodeChecks(view.image, g, fs.superblock);
        List<long[]> read = new ArrayList<>();
        long[] bmbt = {0};
        List<InodeProblem> problems = new ArrayList<>();
        vc.check(Inode.read(view.image, g, ino), (fsb, n, off, a, isBmbt, unwritten) -> {
            if (a == attr && isBmbt) {
                bmbt[0]++;
            } else if (a == attr) {
                read.add(new long[] {off, fsb, n, unwritten ? 1 : 0});
            }
        }, problems::add);
        boolean otherBroken = problems.stream().anyMatch(p -> p.kind().forkRule() && p.attrFork() != attr);
        for (InodeProblem p : problems) {
            boolean mine = (p.kind().forkRule() && p.attrFork() == attr) || p.kind() == (attr ? Kind.ANEXTENTS : Kind.NEXTENTS)
                    || (p.kind() == Kind.NBLOCKS && !otherBroken);
            Headers.check(!mine, () -> "inode " + ino + ": the rewritten " + forkName(attr) + " does not read back: " + p.describe());
        }
        boolean same = read.size() == extents.size() && bmbt[0] == need;
        for (int i = 0; same && i < read.size(); i++) {
            long[] r = read.get(i);
            FileExtent e = extents.get(i);
            same = r[0] == e.offset() && r[1] == fsbs[i] && r[2] == e.length() && (r[3] != 0) == e.unwritten();
        }
        Headers.check(same, () -> "inode " + ino + ": the rewritten " + forkName(attr) + " reads back as " + read.size() + " extents and "
                + bmbt[0] + " bmbt blocks, not the " + extents.size() + " and " + need + " written");
    }

    /** Verifies one planned bmbt block on its own: checksum, place, uuid, level and record count. */
    static void verifyBlock(Geometry g, long offset, byte[] b, String what) throws XfsException {
        Struct h = new Struct(Layouts.LBLOCK, b, 0);
        Headers.check(h.crcValid(0, b.length), () -> what + ": checksum mismatch");
        Headers.check(h.get("blkno") == offset >> 9 && Headers.sameUuid(h, g), () -> what + ": blkno or uuid wrong");
        long n = h.get("numrecs");
        Headers.check(h.get("level") < MAX_DEPTH && n <= (g.blockSize - LBLOCK_HDR) / BMBT_REC && (h.get("level") == 0 || n >= 1),
                () -> what + ": bad level or record count");
    }

    private long fsb(int agno, long agbno) {
        return ((long) agno << g.agBlkLog) | agbno;
    }

    private static String forkName(boolean attr) {
        return attr ? "attribute fork" : "data fork";
    }

    /** Packs a bmbt record (xfs_bmbt_disk_set_all): flag, startoff (54 bits), startblock (52), blockcount (21). */
    private static void putRecord(byte[] b, int at, FileExtent e, long fsb) {
        long l0 = (e.unwritten() ? 1L << 63 : 0) | (e.offset() << 9) | (fsb >>> 43);
        long l1 = (fsb << 21) | e.length();
        put64(b, at, l0);
        put64(b, at + 8, l1);
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static void put64(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (56 - 8 * i));
        }
    }
}
