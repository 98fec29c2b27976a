package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;

/**
 * Builds per-AG btrees bottom-up from sorted records (the bulk load of the kernel's online repair): full leaves in
 * record order, then node levels whose keys are the first key of each child, sibling links per level, headers and
 * CRCs. The free-space trees (bnobt, cntbt), whose keys are their records, the inode trees (inobt, finobt),
 * whose keys are the chunks' first inode numbers, and the refcountbt, whose keys are the records' start blocks
 * (with the CoW flag in the top bit, so CoW staging records sort after the shared ones).
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

    static int blocksNeeded(Geometry g, BtreeType type, long records) {
        supported(type);
        long level = Math.max(1, (records + recordsPerLeaf(g, type) - 1) / recordsPerLeaf(g, type));
        long total = level;
        while (level > 1) {
            level = (level + keysPerNode(g, type) - 1) / keysPerNode(g, type);
            total += level;
        }
        return (int) total;
    }

    private static void supported(BtreeType type) {
        if (type == BtreeType.RMAP) {
            throw new IllegalArgumentException("bulk loading of " + type + " is not built yet (bnobt, cntbt, inobt, finobt and refcountbt are)");
        }
    }

    XfsDevice.BulkLoad load(int agno, BtreeType type, List<long[]> records, long[] blocks) throws XfsException {
        supported(type);
        int need = blocksNeeded(g, type, records.size());
        Headers.check(blocks.length == need, type + "bt of AG " + agno + ": " + need + " blocks needed, " + blocks.length + " given");
        int perLeaf = recordsPerLeaf(g, type);
        int perNode = keysPerNode(g, type);
        Btrees.Shape shape = Btrees.shape(type);
        List<BlockImage> out = new ArrayList<>();
        int next = 0;
        // level 0: leaves, each remembering its first record as the key its parent holds
        List<long[]> keys = new ArrayList<>();
        List<Long> children = new ArrayList<>();
        int leaves = Math.max(1, (records.size() + perLeaf - 1) / perLeaf);
        for (int l = 0; l < leaves; l++) {
            int from = l * perLeaf;
            int to = Math.min(records.size(), from + perLeaf);
            byte[] b = header(shape.magic(), 0, to - from, l == 0 ? Btrees.NULL_AGBLOCK : blocks[next - 1],
                    l == leaves - 1 ? Btrees.NULL_AGBLOCK : blocks[next + 1], agno, blocks[next]);
            for (int i = from; i < to; i++) {
                putRecord(type, b, Btrees.SBLOCK_HDR + (i - from) * shape.recLen(), records.get(i));
            }
            out.add(seal(b, agno, blocks[next], type));
            if (from < to) {
                keys.add(records.get(from));
            }
            children.add(blocks[next]);
            next++;
        }
        int level = 1;
        while (children.size() > 1) {
            List<long[]> upKeys = new ArrayList<>();
            List<Long> upChildren = new ArrayList<>();
            int nodes = (children.size() + perNode - 1) / perNode;
            for (int n = 0; n < nodes; n++) {
                int from = n * perNode;
                int to = Math.min(children.size(), from + perNode);
                byte[] b = header(shape.magic(), level, to - from, n == 0 ? Btrees.NULL_AGBLOCK : blocks[next - 1],
                        n == nodes - 1 ? Btrees.NULL_AGBLOCK : blocks[next + 1], agno, blocks[next]);
                for (int i = from; i < to; i++) {
                    putKey(type, b, Btrees.SBLOCK_HDR + (i - from) * shape.keyLen(), keys.get(i));
                    putU32(b, Btrees.SBLOCK_HDR + perNode * shape.keyLen() + (i - from) * 4, children.get(i));
                }
                out.add(seal(b, agno, blocks[next], type));
                upKeys.add(keys.get(from));
                upChildren.add(blocks[next]);
                next++;
            }
            keys = upKeys;
            children = upChildren;
            level++;
        }
        return new XfsDevice.BulkLoad(out, children.get(0), level);
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

    /** A node key: free-space keys are whole records, inode keys the first inode number, refcount keys the start. */
    private void putKey(BtreeType type, byte[] b, int at, long[] rec) {
        if (type == BtreeType.BNO || type == BtreeType.CNT) {
            putRecord(type, b, at, rec);
        } else if (type == BtreeType.REFCOUNT) {
            putU32(b, at, rec[0] | (rec[3] << 31));
        } else {
            putU32(b, at, rec[0]);
        }
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
