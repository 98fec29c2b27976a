package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * Walks of the short-form (per-AG) btrees: every block verified (magic, CRC, blkno, uuid, owner, level, record
 * count), sibling links checked level by level, keys checked against the first key of their child and records
 * against the order of the tree. A cycle, a block reached twice or a depth past the maximum stops the walk.
 */
final class Btrees {
    static final int SBLOCK_HDR = 56;
    static final long NULL_AGBLOCK = 0xffffffffL;
    /** XFS_BTREE_MAXLEVELS for per-AG trees is 9 in current kernels; anything deeper is damage. */
    private static final int MAX_LEVELS = 9;

    /** Magic and sizes of one tree's blocks. */
    record Shape(long magic, int recLen, int keyLen, boolean overlapping) {
    }

    static Shape shape(BtreeType t) {
        return switch (t) {
            case BNO -> new Shape(0x41423342L, 8, 8, false); // AB3B
            case CNT -> new Shape(0x41423343L, 8, 8, false); // AB3C
            case INO -> new Shape(0x49414233L, 16, 4, false); // IAB3
            case FINO -> new Shape(0x46494233L, 16, 4, false); // FIB3
            case RMAP -> new Shape(0x524D4233L, 24, 40, true); // RMB3: node keys are low and high keys
            case REFCOUNT -> new Shape(0x52334643L, 12, 4, false); // R3FC
        };
    }

    private final Image image;
    private final Geometry g;

    Btrees(Image image, Geometry g) {
        this.image = image;
        this.g = g;
    }

    long walk(int agno, BtreeType type, Consumer<long[]> sink) throws XfsException {
        return walk(agno, type, sink, block -> { });
    }

    /** See {@link org.xfstage.api.device.XfsDevice#btreeBlocks}. */
    long[] blocks(int agno, BtreeType type) throws XfsException {
        long[] top = root(agno, type);
        String tree = type.name().toLowerCase() + "bt of AG " + agno;
        Set<Long> seen = new java.util.TreeSet<>();
        java.util.ArrayDeque<long[]> todo = new java.util.ArrayDeque<>();
        todo.push(new long[] {top[0], top[1] - 1});
        int maxrecs = (g.blockSize - SBLOCK_HDR) / (shape(type).keyLen() + 4);
        while (!todo.isEmpty()) {
            long[] next = todo.pop();
            long agbno = next[0];
            int level = (int) next[1];
            String where = tree + " block " + agbno;
            Headers.check(agbno < g.agBlocks && seen.add(agbno), () -> where + ": outside the AG or reached twice");
            long offset = g.agBlockOffset(agno, agbno);
            byte[] b = image.read(offset, g.blockSize);
            Struct h = new Struct(Layouts.SBLOCK, b, 0);
            Headers.check(h.get("magic") == shape(type).magic() && h.get("blkno") == offset >> 9 && h.get("owner") == agno
                    && h.get("level") == level, () -> where + ": not a level " + level + " block of this tree");
            if (level > 0) {
                long n = h.get("numrecs");
                Headers.check(n >= 1 && n <= maxrecs, () -> where + ": bad key count " + n);
                for (int i = 0; i < n; i++) {
                    todo.push(new long[] {Inode.u32(b, SBLOCK_HDR + maxrecs * shape(type).keyLen() + i * 4), level - 1});
                }
            }
        }
        return seen.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The root block and height a walk of a tree starts from (see {@link org.xfstage.api.device.XfsDevice#btreeRoot}):
     * the header's pointer when it leads to a block of the tree, else the one block the search proves to be the root.
     */
    long[] root(int agno, BtreeType type) throws XfsException {
        long[] claimed = claimedRoot(agno, type);
        String problem = notOfTree(agno, type, claimed[0], claimed[1]);
        return problem == null ? claimed : searchedRoot(agno, type, problem);
    }

    /**
     * The root block and height the AG header gives a tree: read from an AGF or AGI that does not decode too (a bad
     * magic or checksum leaves its pointers as good as they were); {@link #notOfTree} decides whether they are.
     */
    long[] claimedRoot(int agno, BtreeType type) throws XfsException {
        String prefix = switch (type) {
            case BNO -> "bno_";
            case CNT -> "cnt_";
            case RMAP -> "rmap_";
            case REFCOUNT -> "refcount_";
            case INO -> "";
            case FINO -> "free_";
        };
        switch (type) {
            case RMAP -> Headers.check(g.hasRmapbt(), "this filesystem has no rmapbt");
            case REFCOUNT -> Headers.check(g.hasReflink(), "this filesystem has no refcountbt");
            case FINO -> Headers.check(g.hasFinobt(), "this filesystem has no finobt");
            default -> {
            }
        }
        Struct h = type == BtreeType.INO || type == BtreeType.FINO ? Headers.salvagedAgi(image, g, agno) : Headers.salvagedAgf(image, g, agno);
        return new long[] {h.get(prefix + "root"), h.get(prefix + "level")};
    }

    /**
     * Why a header's pointer to block {@code agbno}, of a tree {@code levels} high, leads nowhere in the tree, or null
     * when it leads to a block of it (magic, self-described place and owner, uuid). That block stays the root whatever
     * else is wrong with it (its level, siblings, checksum, records): its walk reports that, and no other block is
     * looked for, so that a damaged root is never replaced by an old one or by a part of itself.
     */
    private String notOfTree(int agno, BtreeType type, long agbno, long levels) throws XfsException {
        String where = type.name().toLowerCase() + "bt of AG " + agno + " block " + agbno;
        if (levels < 1 || levels > MAX_LEVELS) {
            return type.name().toLowerCase() + "bt of AG " + agno + ": impossible height " + levels;
        }
        if (agbno >= g.agLength(agno)) {
            return where + ": outside the AG";
        }
        long offset = g.agBlockOffset(agno, agbno);
        Struct h = new Struct(Layouts.SBLOCK, image.read(offset, SBLOCK_HDR), 0);
        if (h.get("magic") != shape(type).magic()) {
            return where + ": bad magic 0x" + Long.toHexString(h.get("magic"));
        }
        if (h.get("blkno") != offset >> 9 || h.get("owner") != agno || !Headers.sameUuid(h, g)) {
            return where + ": a block of another place, AG or filesystem";
        }
        return null;
    }

    /** The first block past the superblock, AGF, AGI and AGFL sectors: no tree block lies before it. */
    private long firstTreeBlock() {
        return (4L * g.sectorSize + g.blockSize - 1) / g.blockSize;
    }

    /**
     * The height of the tree block {@code agbno} would head as a root of a tree of this type (a block of such a tree in
     * this AG by magic, self-described place, owner and uuid, with no siblings, at a level a tree can have), or 0. One
     * header read. See {@link org.xfstage.api.device.XfsDevice#rootCandidate}.
     */
    long candidateLevels(int agno, BtreeType type, long agbno) throws XfsException {
        if (agbno < firstTreeBlock() || agbno >= g.agLength(agno)) {
            return 0;
        }
        long offset = g.agBlockOffset(agno, agbno);
        Struct h = new Struct(Layouts.SBLOCK, image.read(offset, SBLOCK_HDR), 0);
        boolean root = h.get("magic") == shape(type).magic() && h.get("blkno") == offset >> 9 && h.get("owner") == agno
                && Headers.sameUuid(h, g) && h.get("level") < MAX_LEVELS && h.get("leftsib") == NULL_AGBLOCK
                && h.get("rightsib") == NULL_AGBLOCK;
        return root ? h.get("level") + 1 : 0;
    }

    /** Most root candidates a search keeps: more is a trashed AG, not stale copies of a tree. */
    static final int MAX_CANDIDATES = 4096;

    /**
     * Every block of the AG that could be the root of a tree of this type: a block of such a tree (magic,
     * self-described place and owner, uuid) with no siblings, at a level a tree can have. Reads the header of every
     * block of the AG past its headers, once; tallest first, then by block.
     *
     * @return pairs of (AG block, height)
     */
    List<long[]> candidates(int agno, BtreeType type) throws XfsException {
        claimedRoot(agno, type); // the tree must exist on this filesystem
        List<long[]> out = new ArrayList<>();
        for (long agbno = firstTreeBlock(); agbno < g.agLength(agno); agbno++) {
            long levels = candidateLevels(agno, type, agbno);
            if (levels > 0) {
                Headers.check(out.size() < MAX_CANDIDATES, () -> type.name().toLowerCase() + "bt of AG " + agno + ": more than "
                        + MAX_CANDIDATES + " blocks look like its root");
                out.add(new long[] {agbno, levels});
            }
        }
        out.sort(Comparator.<long[]>comparingLong(c -> -c[1]).thenComparingLong(c -> c[0]));
        return out;
    }

    /**
     * The root when the header's pointer leads out of the tree (see {@link #notOfTree}): of the {@link #candidates}, those that
     * head a tree that walks cleanly, less those with a block that is free or on the AGFL (an old tree's blocks,
     * given back when it was rebuilt elsewhere, keep their headers). Free space is what the other free-space btree
     * (for the bnobt and cntbt) or the bnobt (for the others) says, walked from its header's pointer only, so that one
     * search never leans on another. Exactly one must remain.
     */
    private long[] searchedRoot(int agno, BtreeType type, String problem) throws XfsException {
        List<long[]> whole = new ArrayList<>();
        List<long[]> blocksOf = new ArrayList<>();
        for (long[] c : candidates(agno, type)) {
            List<Long> blocks = new ArrayList<>();
            try {
                walkFrom(agno, type, c[0], c[1], r -> { }, h -> blocks.add(blockOf(agno, h)));
            } catch (XfsFormatException e) {
                continue; // not a whole tree: a damaged old tree, or a block that only looks like a root
            }
            whole.add(c);
            blocksOf.add(blocks.stream().mapToLong(Long::longValue).sorted().toArray());
        }
        if (!whole.isEmpty()) { // one stale tree alone is no more the root than one of two: the evidence decides
            java.util.TreeSet<Long> all = new java.util.TreeSet<>();
            blocksOf.forEach(bs -> java.util.Arrays.stream(bs).forEach(all::add));
            BtreeType freeTree = type == BtreeType.BNO ? BtreeType.CNT : BtreeType.BNO;
            Set<Long> given = givenBack(agno, freeTree, all);
            if (given == null) {
                throw new XfsFormatException(problem + "; the " + freeTree.name().toLowerCase() + "bt cannot be walked to tell "
                        + "an old tree's blocks from the one in use");
            }
            for (int i = whole.size() - 1; i >= 0; i--) {
                if (java.util.Arrays.stream(blocksOf.get(i)).anyMatch(given::contains)) {
                    whole.remove(i);
                }
            }
        }
        if (whole.size() != 1) {
            String why = whole.isEmpty() ? "no other block heads a whole tree of it"
                    : whole.size() + " blocks head whole trees of it (" + whole.stream().map(c -> String.valueOf(c[0])).toList()
                            + ") and none can be told from the others";
            throw new XfsFormatException(problem + "; " + why);
        }
        return whole.get(0);
    }

    /**
     * Which of {@code blocks} are free or on the AGFL: in a free extent of {@code freeTree} walked from its header's
     * pointer, or listed by the AGFL (left out when it cannot be read: a block it lists is not in use either way).
     * Null when the free-space tree cannot be walked: then nothing tells old blocks from live ones.
     */
    private Set<Long> givenBack(int agno, BtreeType freeTree, java.util.NavigableSet<Long> blocks) throws XfsException {
        Set<Long> out = new HashSet<>();
        long[] claimed = claimedRoot(agno, freeTree);
        if (notOfTree(agno, freeTree, claimed[0], claimed[1]) != null) {
            return null;
        }
        try {
            walkFrom(agno, freeTree, claimed[0], claimed[1], e -> out.addAll(blocks.subSet(e[0], true, e[0] + e[1], false)), h -> { });
        } catch (XfsFormatException e) {
            return null;
        }
        try {
            Struct agf = Headers.salvagedAgf(image, g, agno);
            Struct agfl = Headers.agfl(image, g, agno);
            int size = Headers.agflSize(g);
            long count = agf.get("flcount");
            long first = agf.get("flfirst");
            if (count <= size && first < size) {
                for (long i = 0, slot = first; i < count; i++, slot = (slot + 1) % size) {
                    out.add(Headers.agflEntry(agfl, (int) slot));
                }
            }
        } catch (XfsFormatException e) {
            // an AGFL that cannot be read says nothing
        }
        return out;
    }

    /** The AG block of a verified block header. */
    private long blockOf(int agno, Struct h) {
        return (h.get("blkno") << 9) / g.blockSize - (long) agno * g.agBlocks;
    }

    /** As {@link #walk(int, BtreeType, Consumer)}, also handing every verified block to {@code blocks}. */
    long walk(int agno, BtreeType type, Consumer<long[]> sink, Consumer<Struct> blocks) throws XfsException {
        long[] top = root(agno, type);
        return walkFrom(agno, type, top[0], top[1], sink, blocks);
    }

    /** A walk from a given root of a given height. */
    private long walkFrom(int agno, BtreeType type, long root, long levels, Consumer<long[]> sink, Consumer<Struct> blocks)
            throws XfsException {
        String tree = type.name().toLowerCase() + "bt of AG " + agno;
        Walk w = new Walk(agno, type, tree, (int) levels, sink, blocks);
        w.visit(root, (int) levels - 1, null);
        for (int level = 0; level < levels; level++) {
            Headers.check(w.lastRight[level] == NULL_AGBLOCK, tree + ": last block of level " + level + " has a right sibling");
        }
        return w.seen.size();
    }

    private final class Walk {
        final int agno;
        final BtreeType type;
        final Shape shape;
        final String tree;
        final Consumer<long[]> sink;
        final Consumer<Struct> blocks;
        final Set<Long> seen = new HashSet<>();
        final long[] lastBlock;
        final long[] lastRight;
        long[] previous;

        Walk(int agno, BtreeType type, String tree, int levels, Consumer<long[]> sink, Consumer<Struct> blocks) {
            this.blocks = blocks;
            this.agno = agno;
            this.type = type;
            this.shape = shape(type);
            this.tree = tree;
            this.sink = sink;
            this.lastBlock = new long[levels];
            this.lastRight = new long[levels];
            java.util.Arrays.fill(lastBlock, NULL_AGBLOCK);
            java.util.Arrays.fill(lastRight, NULL_AGBLOCK);
        }

        /**
         * Visits block agbno expected at {@code level}; {@code parentKey} is the key its parent holds for it. Returns
         * the rmapbt's high key of the block (the largest last block, owner and offset any record under it reaches),
         * which its parent must hold; null for other trees.
         */
        long[] visit(long agbno, int level, long[] parentKey) throws XfsException {
            String where = tree + " block " + agbno;
            Headers.check(seen.add(agbno), () -> where + ": reached twice (a cycle or a shared block)");
            long offset = g.agBlockOffset(agno, agbno);
            byte[] b = image.read(offset, g.blockSize);
            Struct h = new Struct(Layouts.SBLOCK, b, 0);
            Headers.check(h.get("magic") == shape.magic(), () -> where + ": bad magic 0x" + Long.toHexString(h.get("magic")));
            Headers.check(h.crcValid(0, g.blockSize), () -> where + ": checksum mismatch");
            Headers.check(h.get("blkno") == offset >> 9, () -> where + ": records itself at daddr " + h.get("blkno"));
            Headers.check(h.get("owner") == agno, () -> where + ": owned by AG " + h.get("owner"));
            Headers.check(Headers.sameUuid(h, g), () -> where + ": uuid is not this filesystem's");
            Headers.check(h.get("level") == level, () -> where + ": level " + h.get("level") + ", expected " + level);
            Headers.check(h.get("leftsib") == lastBlock[level], () -> where + ": left sibling " + h.get("leftsib")
                    + ", expected " + lastBlock[level]);
            Headers.check(lastRight[level] == NULL_AGBLOCK ? lastBlock[level] == NULL_AGBLOCK : lastRight[level] == agbno,
                    () -> where + ": the block before it at level " + level + " points right to " + lastRight[level]);
            lastBlock[level] = agbno;
            lastRight[level] = h.get("rightsib");
            blocks.accept(h);
            int numrecs = (int) h.get("numrecs");
            long[] high = null;
            if (level == 0) {
                Headers.check(numrecs <= (g.blockSize - SBLOCK_HDR) / shape.recLen(), () -> where + ": " + numrecs + " records do not fit");
                for (int i = 0; i < numrecs; i++) {
                    long[] rec = record(b, SBLOCK_HDR + i * shape.recLen());
                    if (i == 0 && parentKey != null) {
                        Headers.check(sameKey(keyOf(rec), parentKey), () -> where + ": first record does not match its key in the parent");
                    }
                    check(rec, where, i);
                    high = raise(high, rec);
                    sink.accept(rec);
                }
            } else {
                int maxrecs = (g.blockSize - SBLOCK_HDR) / (shape.keyLen() + 4);
                Headers.check(numrecs >= 1 && numrecs <= maxrecs, () -> where + ": bad key count " + numrecs);
                for (int i = 0; i < numrecs; i++) {
                    long[] key = key(b, SBLOCK_HDR + i * shape.keyLen());
                    if (i == 0 && parentKey != null) {
                        Headers.check(sameKey(key, parentKey), () -> where + ": first key does not match its key in the parent");
                    }
                    long child = Inode.u32(b, SBLOCK_HDR + maxrecs * shape.keyLen() + i * 4);
                    long[] childHigh = visit(child, level - 1, key);
                    if (shape.overlapping()) {
                        long[] held = highKey(b, SBLOCK_HDR + i * shape.keyLen() + shape.keyLen() / 2);
                        int entry = i + 1;
                        Headers.check(childHigh == null || sameKey(held, childHigh),
                                () -> where + ": high key " + entry + " does not match the records of child " + child);
                        high = higher(high, held);
                    }
                }
            }
            return high;
        }

        /**
         * {@code high} raised to the rmapbt high key of a record (its last block, and for file data its last offset) when
         * that is higher, in place: a leaf's records are many, so none of them makes an array of its own; null for other
         * trees. {@code high} is this leaf's own array (made at its first record), never one a parent holds.
         */
        private long[] raise(long[] high, long[] rec) {
            if (!shape.overlapping()) {
                return null;
            }
            long adj = rec[1] - 1;
            boolean fileData = rec[2] >= 0 && (rec[4] & 2) == 0;
            long h0 = keyPart(rec, 0) + adj;
            long h1 = keyPart(rec, 1);
            long h2 = fileData ? keyPart(rec, 2) + adj : keyPart(rec, 2);
            if (high == null) {
                return new long[] {h0, h1, h2};
            }
            int c = Long.compareUnsigned(h0, high[0]);
            if (c == 0) {
                c = Long.compareUnsigned(h1, high[1]);
            }
            if (c == 0) {
                c = Long.compareUnsigned(h2, high[2]);
            }
            if (c > 0) {
                high[0] = h0;
                high[1] = h1;
                high[2] = h2;
            }
            return high;
        }

        /** A high key stored in a node (the second half of an rmapbt key). */
        private long[] highKey(byte[] b, int at) {
            return new long[] {Inode.u32(b, at), Inode.u64(b, at + 4), Inode.u64(b, at + 12) & ~(1L << 61)};
        }

        private static long[] higher(long[] a, long[] b) {
            return a == null || (b != null && compare(b, a) > 0) ? b : a;
        }

        /** Records must come in the tree's order, strictly (rmap: by start, owner, offset; cnt: by length, start). */
        private void check(long[] rec, String where, int i) throws XfsException {
            Headers.check(rec[1] > 0 || type == BtreeType.INO || type == BtreeType.FINO, () -> where + ": record " + i + " has length 0");
            if (previous != null) {
                Headers.check(compareKeys(previous, rec) < 0, () -> where + ": record " + i + " is out of order");
            }
            previous = rec;
        }

        private static int compare(long[] a, long[] b) {
            for (int i = 0; i < a.length; i++) {
                int c = Long.compareUnsigned(a[i], b[i]);
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        }

        private static boolean sameKey(long[] a, long[] b) {
            return compare(a, b) == 0;
        }

        /** The sort keys of two records compared, as {@code compare(keyOf(a), keyOf(b))} without making them (per record). */
        private int compareKeys(long[] a, long[] b) {
            for (int i = 0; i < 3; i++) {
                int c = Long.compareUnsigned(keyPart(a, i), keyPart(b, i));
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        }

        /** Part {@code i} of {@link #keyOf}: the same values, without the array. */
        private long keyPart(long[] rec, int i) {
            return switch (type) {
                case CNT -> i == 0 ? rec[1] : i == 1 ? rec[0] : 0;
                case RMAP -> i == 0 ? rec[0] : i == 1 ? rec[2] : rec[3] | ((rec[4] & 4) << 61) | ((rec[4] & 2) << 61);
                case REFCOUNT -> i == 0 ? (rec[3] << 31) | rec[0] : 0;
                default -> i == 0 ? rec[0] : 0;
            };
        }

        /** The sort key of a record, in the representation of {@link #key}. */
        private long[] keyOf(long[] rec) {
            return switch (type) {
                case CNT -> new long[] {rec[1], rec[0], 0};
                case RMAP -> new long[] {rec[0], rec[2], rec[3] | ((rec[4] & 4) << 61) | ((rec[4] & 2) << 61)};
                case REFCOUNT -> new long[] {(rec[3] << 31) | rec[0], 0, 0};
                default -> new long[] {rec[0], 0, 0};
            };
        }

        /** A node key (for rmap: the low key; the unwritten flag is not part of keys). */
        private long[] key(byte[] b, int at) {
            return switch (type) {
                case CNT -> new long[] {Inode.u32(b, at + 4), Inode.u32(b, at), 0};
                case RMAP -> new long[] {Inode.u32(b, at), Inode.u64(b, at + 4), Inode.u64(b, at + 12) & ~(1L << 61)};
                default -> new long[] {Inode.u32(b, at), 0, 0};
            };
        }

        private long[] record(byte[] b, int at) {
            return switch (type) {
                case BNO, CNT -> new long[] {Inode.u32(b, at), Inode.u32(b, at + 4)};
                case INO, FINO -> g.hasSparseInodes()
                        ? new long[] {Inode.u32(b, at), Inode.u16(b, at + 4), b[at + 6] & 0xff, b[at + 7] & 0xff, Inode.u64(b, at + 8)}
                        : new long[] {Inode.u32(b, at), 0, 64, Inode.u32(b, at + 4), Inode.u64(b, at + 8)};
                case RMAP -> {
                    long off = Inode.u64(b, at + 16);
                    yield new long[] {Inode.u32(b, at), Inode.u32(b, at + 4), Inode.u64(b, at + 8), off & 0x3FFFFFFFFFFFFFL, off >>> 61};
                }
                case REFCOUNT -> {
                    long start = Inode.u32(b, at);
                    yield new long[] {start & 0x7fffffffL, Inode.u32(b, at + 4), Inode.u32(b, at + 8), start >>> 31};
                }
            };
        }
    }
}
