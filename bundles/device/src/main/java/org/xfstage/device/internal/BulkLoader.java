package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;

/**
 * Builds per-AG btrees bottom-up from sorted records (the bulk load of the kernel's online repair): leaves in record
 * order, then node levels holding the keys of each child, sibling links per level, headers and CRCs. Records are
 * spread evenly over the leaves and children over the nodes, so every block but the root is at least half full (as
 * xfs_repair demands); a tree may be given more blocks than it needs at the least, to take exactly the blocks of
 * the tree it replaces. Keys: the free-space trees (bnobt, cntbt) key by their records, the inode trees (inobt,
 * finobt) by the chunks' first inode numbers, the refcountbt by start block (with the CoW flag in the top bit, so
 * CoW staging records sort after the shared ones), and the rmapbt by a low and a high key (start, owner, offset
 * with the fork and bmbt flags): the first record's and the largest end any record of the child reaches.
 */
final class BulkLoader {
    private final Geometry g;

    BulkLoader(Geometry g) {
        this.g = g;
    }

    private static int recordsPerLeaf(Geometry g, BtreeType t) {
        return (g.blockSize - Btrees.SBLOCK_HDR) / Btrees.shape(t).recLen();
    }

    private static int keysPerNode(Geometry g, BtreeType t) {
        return (g.blockSize - Btrees.SBLOCK_HDR) / (Btrees.shape(t).keyLen() + 4);
    }

    /** Blocks of a tree with {@code leaves} leaves and full nodes above them. */
    private static long blocksOver(Geometry g, BtreeType type, long leaves) {
        long level = leaves;
        long total = level;
        while (level > 1) {
            level = (level + keysPerNode(g, type) - 1) / keysPerNode(g, type);
            total += level;
        }
        return total;
    }

    static int blocksNeeded(Geometry g, BtreeType type, long records) {
        return (int) blocksOver(g, type, Math.max(1, (records + recordsPerLeaf(g, type) - 1) / recordsPerLeaf(g, type)));
    }

    /**
     * The number of leaves for {@code records} records in a tree of exactly {@code blocks} blocks, every leaf but a
     * lone root at least half full; -1 when there is none.
     */
    static long leavesFor(Geometry g, BtreeType type, long records, int blocks) {
        long max = recordsPerLeaf(g, type);
        long fewest = Math.max(1, (records + max - 1) / max);
        long most = Math.max(fewest, records / (max / 2));
        for (long leaves = fewest; leaves <= most; leaves++) {
            long total = blocksOver(g, type, leaves);
            if (total == blocks) {
                return leaves;
            }
            if (total > blocks) {
                break;
            }
        }
        return -1;
    }

    /** Builds the tree from {@code count} records read once, in order: only the blocks are held, never the records. */
    XfsDevice.BulkLoad load(int agno, BtreeType type, long count, java.util.Iterator<long[]> records, long[] blocks)
            throws XfsException {
        long leaves = leavesFor(g, type, count, blocks.length);
        String tree = type.name().toLowerCase() + "bt of AG " + agno;
        Headers.check(leaves > 0, () -> tree + ": " + count + " records do not make a tree of " + blocks.length + " blocks");
        int perNode = keysPerNode(g, type);
        Btrees.Shape shape = Btrees.shape(type);
        List<BlockImage> out = new ArrayList<>();
        int next = 0;
        // level 0: leaves, each remembering the key its parent holds for it
        List<long[]> keys = new ArrayList<>();
        List<Long> children = new ArrayList<>();
        for (int l = 0; l < leaves; l++) {
            long from = l * count / leaves;
            long to = (l + 1) * count / leaves;
            byte[] b = header(shape.magic(), 0, (int) (to - from), l == 0 ? Btrees.NULL_AGBLOCK : blocks[next - 1],
                    l == leaves - 1 ? Btrees.NULL_AGBLOCK : blocks[next + 1], agno, blocks[next]);
            long[] key = null;
            for (long i = from; i < to; i++) {
                Headers.check(records.hasNext(), () -> tree + ": fewer records than the " + count + " announced");
                long[] rec = records.next();
                putRecord(type, b, Btrees.SBLOCK_HDR + (int) (i - from) * shape.recLen(), rec);
                key = i == from ? keyOf(type, rec) : widen(type, key, keyOf(type, rec));
            }
            out.add(seal(b, agno, blocks[next], type));
            keys.add(key);
            children.add(blocks[next]);
            next++;
        }
        Headers.check(!records.hasNext(), () -> tree + ": more records than the " + count + " announced");
        int level = 1;
        while (children.size() > 1) {
            List<long[]> upKeys = new ArrayList<>();
            List<Long> upChildren = new ArrayList<>();
            int nodes = (children.size() + perNode - 1) / perNode;
            for (int n = 0; n < nodes; n++) {
                int from = (int) (n * (long) children.size() / nodes);
                int to = (int) ((n + 1) * (long) children.size() / nodes);
                byte[] b = header(shape.magic(), level, to - from, n == 0 ? Btrees.NULL_AGBLOCK : blocks[next - 1],
                        n == nodes - 1 ? Btrees.NULL_AGBLOCK : blocks[next + 1], agno, blocks[next]);
                long[] key = keys.get(from);
                for (int i = from; i < to; i++) {
                    putKey(type, b, Btrees.SBLOCK_HDR + (i - from) * shape.keyLen(), keys.get(i));
                    putU32(b, Btrees.SBLOCK_HDR + perNode * shape.keyLen() + (i - from) * 4, children.get(i));
                    key = widen(type, key, keys.get(i));
                }
                out.add(seal(b, agno, blocks[next], type));
                upKeys.add(key);
                upChildren.add(blocks[next]);
                next++;
            }
            keys = upKeys;
            children = upChildren;
            level++;
        }
        return new XfsDevice.BulkLoad(out, children.get(0), level);
    }

    /**
     * The key a parent holds for one record: the record itself, except for the rmapbt: its low key (start, owner,
     * offset with the attribute-fork and bmbt flags, not the unwritten flag) followed by its high key, the last block
     * it maps (and, for file data, the last file offset).
     */
    private static long[] keyOf(BtreeType type, long[] rec) {
        if (type != BtreeType.RMAP) {
            return rec;
        }
        long offset = rec[3] | (rec[4] & 6) << 61;
        long adj = rec[1] - 1;
        boolean fileData = rec[2] >= 0 && (rec[4] & 2) == 0;
        return new long[] {rec[0], rec[2], offset, rec[0] + adj, rec[2], fileData ? offset + adj : offset};
    }

    /** The key of a child holding {@code key} and then {@code more}: the first key, and for the rmapbt the larger high key. */
    private static long[] widen(BtreeType type, long[] key, long[] more) {
        if (type != BtreeType.RMAP || compareHigh(more, key) <= 0) {
            return key;
        }
        return new long[] {key[0], key[1], key[2], more[3], more[4], more[5]};
    }

    /** Orders rmap high keys as the kernel does: start block, then owner and offset unsigned. */
    private static int compareHigh(long[] a, long[] b) {
        for (int i = 3; i < 6; i++) {
            int c = Long.compareUnsigned(a[i], b[i]);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private byte[] header(long magic, int level, int numrecs, long left, long right, int agno, long agbno) throws XfsException {
        byte[] b = new byte[g.blockSize];
        Layouts.SBLOCK.get("magic").put(b, 0, magic);
        Layouts.SBLOCK.get("level").put(b, 0, level);
        Layouts.SBLOCK.get("numrecs").put(b, 0, numrecs);
        Layouts.SBLOCK.get("leftsib").put(b, 0, left);
        Layouts.SBLOCK.get("rightsib").put(b, 0, right);
        Layouts.SBLOCK.get("blkno").put(b, 0, g.agBlockOffset(agno, agbno) >> 9);
        Layouts.SBLOCK.get("lsn").put(b, 0, 0);
        Layouts.SBLOCK.get("uuid0").put(b, 0, g.metaUuid0);
        Layouts.SBLOCK.get("uuid1").put(b, 0, g.metaUuid1);
        Layouts.SBLOCK.get("owner").put(b, 0, agno);
        return b;
    }

    private BlockImage seal(byte[] b, int agno, long agbno, BtreeType type) throws XfsException {
        Checksums.update(b, 0, b.length, Layouts.SBLOCK.crcOffset);
        return new BlockImage(g.agBlockOffset(agno, agbno), b, type.name().toLowerCase() + "bt block " + agbno + " of AG " + agno);
    }

    /**
     * A record as {@link BtreeType} lists its fields. Free space: startblock u32, blockcount u32 (the cntbt keeps this
     * field order too). Inode chunks: startino u32, then holemask u16, count u8, freecount u8 with sparse inodes, or
     * freecount u32 without; then the free mask u64.
     */
    private void putRecord(BtreeType type, byte[] b, int at, long[] rec) {
        if (type == BtreeType.REFCOUNT) { // startblock with the CoW flag in bit 31, blockcount, refcount
            putU32(b, at, rec[0] | (rec[3] << 31));
            putU32(b, at + 4, rec[1]);
            putU32(b, at + 8, rec[2]);
            return;
        }
        if (type == BtreeType.RMAP) { // startblock, blockcount, owner, offset with the three flags on top
            putU32(b, at, rec[0]);
            putU32(b, at + 4, rec[1]);
            putU64(b, at + 8, rec[2]);
            putU64(b, at + 16, rec[3] | rec[4] << 61);
            return;
        }
        putU32(b, at, rec[0]);
        if (type == BtreeType.BNO || type == BtreeType.CNT) {
            putU32(b, at + 4, rec[1]);
            return;
        }
        if (g.hasSparseInodes()) {
            b[at + 4] = (byte) (rec[1] >>> 8);
            b[at + 5] = (byte) rec[1];
            b[at + 6] = (byte) rec[2];
            b[at + 7] = (byte) rec[3];
        } else {
            putU32(b, at + 4, rec[3]);
        }
        putU32(b, at + 8, rec[4] >>> 32);
        putU32(b, at + 12, rec[4]);
    }

    /**
     * A node key: free-space keys are whole records, inode keys the first inode number, refcount keys the start,
     * rmap keys a low and a high (start u32, owner u64, offset u64) as {@link #keyOf} makes them.
     */
    private void putKey(BtreeType type, byte[] b, int at, long[] rec) {
        if (type == BtreeType.RMAP) {
            for (int half = 0; half < 2; half++) {
                putU32(b, at + 20 * half, rec[3 * half]);
                putU64(b, at + 20 * half + 4, rec[3 * half + 1]);
                putU64(b, at + 20 * half + 12, rec[3 * half + 2]);
            }
        } else if (type == BtreeType.BNO || type == BtreeType.CNT) {
            putRecord(type, b, at, rec);
        } else if (type == BtreeType.REFCOUNT) {
            putU32(b, at, rec[0] | (rec[3] << 31));
        } else {
            putU32(b, at, rec[0]);
        }
    }

    private static void putU64(byte[] b, int at, long v) {
        putU32(b, at, v >>> 32);
        putU32(b, at + 4, v);
    }

    private static void putU32(byte[] b, int at, long v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    /** Verifies one planned btree block on its own: magic, CRC, blkno, owner, uuid, level and counts. */
    void verify(int agno, long agbno, byte[] b, String what) throws XfsException {
        Struct h = new Struct(Layouts.SBLOCK, b, 0);
        long magic = h.get("magic");
        BtreeType type = null;
        for (BtreeType t : BtreeType.values()) {
            if (Btrees.shape(t).magic() == magic) {
                type = t;
            }
        }
        Headers.check(type != null, what + ": not a per-AG btree block");
        Headers.check(h.crcValid(0, b.length), what + ": checksum mismatch");
        Headers.check(h.get("blkno") == g.agBlockOffset(agno, agbno) >> 9, what + ": blkno does not name its place");
        Headers.check(h.get("owner") == agno && Headers.sameUuid(h, g), what + ": owner or uuid wrong");
        long n = h.get("numrecs");
        Headers.check(h.get("level") == 0 ? n <= recordsPerLeaf(g, type) : n >= 1 && n <= keysPerNode(g, type), what + ": bad record count");
    }
}
