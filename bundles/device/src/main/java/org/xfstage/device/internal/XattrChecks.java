package org.xfstage.device.internal;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsException;

/**
 * Extended attributes (xfs_da_format.h, xfs_attr_sf.h, xfs_attr_leaf.c, xfs_attr_remote.c; checked as
 * repair/attr_repair.c and the kernel's verifiers do).
 * <p>
 * Short form (attribute fork LOCAL): a 4-byte header {totsize be16, count u8, pad}, then unsorted entries
 * {namelen, valuelen, flags, name, value} that end exactly at totsize. Otherwise the fork maps attribute blocks
 * (one filesystem block each); block 0 is a leaf (XAR3) or the root of a dabtree of DA3 nodes over leaves:
 * <ul>
 * <li>both start with xfs_da3_blkinfo: forw be32 @0, back @4, magic be16 @8, crc @12, blkno @16, uuid @32,
 * owner @48;</li>
 * <li>leaf: count be16 @56, usedbytes @58, firstused @60 (0 means 65536), holes u8 @62, three free map slots
 * {base be16, size be16} from 64; entries {hashval be32,
 * nameidx be16, flags u8, pad} from 80, in hash order; at nameidx a local record {valuelen be16, namelen u8, name,
 * value} (round_up(3+n+v, 4) bytes) or a remote one {valueblk be32, valuelen be32, namelen u8, name}
 * (round_up(11+n, 4));</li>
 * <li>node: count be16 @56, level @58; entries {hashval, before} from 64, each key the largest hash below it;</li>
 * <li>remote values: from attribute block valueblk on, one XARM header (56 bytes: magic @0, offset @4, bytes @8,
 * crc @12, uuid @16, owner @32, blkno @40) per block, then that block's part of the value.</li>
 * </ul>
 * Names are hashed with xfs_da_hashname (the namespace is not hashed). An empty leaf at block 0 is legal.
 */
final class XattrChecks {
    static final int LEAF_MAGIC = 0x3bee; // XFS_ATTR3_LEAF_MAGIC
    static final int NODE_MAGIC = 0x3ebe; // XFS_DA3_NODE_MAGIC
    static final long REMOTE_MAGIC = 0x5841524dL; // XARM
    static final int FLAG_LOCAL = 0x01;
    static final int FLAG_ROOT = 0x02;
    static final int FLAG_SECURE = 0x04;
    static final int FLAG_PARENT = 0x08;
    static final int FLAG_INCOMPLETE = 0x80;
    /** XFS_ATTR_ONDISK_MASK without parent pointers (no filesystem here has them). */
    private static final int FLAGS_ALLOWED = FLAG_LOCAL | FLAG_ROOT | FLAG_SECURE | FLAG_INCOMPLETE;
    private static final int SF_HDR = 4;
    private static final int LEAF_HDR = 80;
    private static final int NODE_HDR = 64;
    private static final int REMOTE_HDR = 56;
    /** XFS_XATTR_SIZE_MAX: no value is longer. */
    private static final long VALUE_MAX = 1 << 16;
    /** XFS_DA_NODE_MAXDEPTH: nodes above the leaves. */
    private static final int MAX_NODE_LEVEL = 5;
    private final InodeChecks c;
    private final int bs;

    XattrChecks(InodeChecks c) {
        this.c = c;
        this.bs = c.g.blockSize;
    }

    /** xfs_da_hashname: h = b ^ rol32(h, 7) per byte, from 0. */
    static int hash(byte[] b, int from, int len) {
        int h = 0;
        for (int i = 0; i < len; i++) {
            h = (b[from + i] & 0xff) ^ Integer.rotateLeft(h, 7);
        }
        return h;
    }

    void check(InodeChecks.Run run, int aformat, byte[] raw, int start, int size, List<Inode.Extent> map, boolean mapComplete)
            throws XfsException {
        if (aformat == Inode.FMT_LOCAL) {
            shortForm(run, raw, start, size);
        } else if (mapComplete && !map.isEmpty()) {
            // an extents fork with no extents is legal (attributes removed); a damaged map is reported as such
            new Tree(run, map).walk();
        }
    }

    /** xfs_attr_shortform_verify and process_shortform_attr. */
    private void shortForm(InodeChecks.Run run, byte[] raw, int start, int size) {
        int totsize = Inode.u16(raw, start);
        int count = raw[start + 2] & 0xff;
        if (totsize > size || totsize < SF_HDR) {
            run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SF_SIZE, true, -1, totsize, size));
            return;
        }
        int pos = SF_HDR;
        int i = 0;
        for (; i < count; i++) {
            if (pos + 3 > totsize) {
                break;
            }
            int namelen = raw[start + pos] & 0xff;
            int valuelen = raw[start + pos + 1] & 0xff;
            int flags = raw[start + pos + 2] & 0xff;
            if (namelen == 0 || pos + 3 + namelen + valuelen > totsize || hasNul(raw, start + pos + 3, namelen)) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SF_ENTRY, true, i, namelen, -1));
                return;
            }
            if (!flagsValid(flags)) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_FLAGS, true, -1, i, flags));
            }
            pos += 3 + namelen + valuelen;
        }
        if (i != count) {
            run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SF_ENTRY, true, i, count, i));
        } else if (pos != totsize) {
            run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SF_END, true, -1, pos, totsize));
        }
    }

    /** The rule {@link AttributeSalvage} keeps an entry by: the one the check reports against. */
    static boolean flagsValidForSalvage(int flags) {
        return flagsValid(flags);
    }

    /** Only known bits, at most one namespace, never INCOMPLETE (xfs_repair junks those). */
    private static boolean flagsValid(int flags) {
        return (flags & ~FLAGS_ALLOWED) == 0 && Integer.bitCount(flags & (FLAG_ROOT | FLAG_SECURE | FLAG_PARENT)) < 2
                && (flags & FLAG_INCOMPLETE) == 0;
    }

    private static boolean hasNul(byte[] b, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (b[from + i] == 0) {
                return true;
            }
        }
        return false;
    }

    /** The leaf or dabtree of one inode's attribute blocks, walked from block 0, each block met once. */
    private final class Tree {
        private final InodeChecks.Run run;
        private final List<Inode.Extent> map;
        private final Set<Long> seen = new HashSet<>();
        /** Per level (0 = leaves): the block met last there and its forw pointer; -1 before the first. */
        private final long[] lastAt = new long[MAX_NODE_LEVEL + 1];
        private final long[] forwOfLast = new long[MAX_NODE_LEVEL + 1];
        private long mappedBlocks;
        private long lastHash;

        Tree(InodeChecks.Run run, List<Inode.Extent> map) {
            this.run = run;
            this.map = map;
            java.util.Arrays.fill(lastAt, -1);
            for (Inode.Extent e : map) {
                mappedBlocks += e.count();
            }
        }

        void walk() throws XfsException {
            byte[] root = read(0);
            if (root == null) {
                return;
            }
            int magic = Inode.u16(root, 8);
            if (magic != LEAF_MAGIC && magic != NODE_MAGIC) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_MAGIC, true, 0, magic, LEAF_MAGIC));
                return;
            }
            if (!header(0, root)) {
                return;
            }
            long forw = Inode.u32(root, 0);
            long back = Inode.u32(root, 4);
            if (forw != 0 || back != 0) { // the root has no siblings
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SIBLING, true, 0, forw != 0 ? forw : back, 0));
            }
            if (magic == LEAF_MAGIC) {
                leaf(0, root, true);
                return;
            }
            int level = Inode.u16(root, 58);
            if (node(0, root, level) < 0) {
                return; // walked only part way: the last blocks met are not the last of their levels
            }
            for (int l = 0; l < Math.min(level, MAX_NODE_LEVEL); l++) {
                if (lastAt[l] >= 0 && forwOfLast[l] != 0) { // the last block of each level points nowhere
                    run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SIBLING, true, lastAt[l], forwOfLast[l], 0));
                }
            }
        }

        /** The filesystem block of attribute block {@code dablk}, or -1 when not mapped. */
        private long fsb(long dablk) {
            return Inode.Extent.blockAt(map, dablk);
        }

        /** Attribute block {@code dablk}, read once; null (reported) when unmapped or reached before. */
        private byte[] read(long dablk) throws XfsException {
            if (!seen.add(dablk) || seen.size() > mappedBlocks) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_CYCLE, true, dablk, -1, -1));
                return null;
            }
            long fsb = fsb(dablk);
            if (fsb < 0) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_UNMAPPED, true, dablk, -1, -1));
                return null;
            }
            return c.image.read(c.g.fsbOffset(fsb), bs);
        }

        /** The blkinfo of a leaf or node: CRC (reported, read on), owner, place and uuid (reported, not read on). */
        private boolean header(long dablk, byte[] b) throws XfsException {
            long ino = run.inode.ino;
            if (!Checksums.valid(b, 0, bs, 12)) {
                run.add(new InodeProblem(ino, Kind.XATTR_CRC, true, dablk, -1, -1));
            }
            long owner = Inode.u64(b, 48);
            if (owner != ino) {
                run.add(new InodeProblem(ino, Kind.XATTR_OWNER, true, dablk, owner, ino));
                return false;
            }
            long daddr = c.g.fsbOffset(fsb(dablk)) >> 9;
            if (Inode.u64(b, 16) != daddr || Inode.u64(b, 32) != c.g.metaUuid0 || Inode.u64(b, 40) != c.g.metaUuid1) {
                run.add(new InodeProblem(ino, Kind.XATTR_HEADER, true, dablk, Inode.u64(b, 16), daddr));
                return false;
            }
            return true;
        }

        /** forw and back of a block below the root against the blocks met before it at its level. */
        private void siblings(long dablk, byte[] b, int level) {
            long forw = Inode.u32(b, 0);
            long back = Inode.u32(b, 4);
            long expectedBack = lastAt[level] < 0 ? 0 : lastAt[level];
            if (lastAt[level] >= 0 && forwOfLast[level] != dablk) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SIBLING, true, lastAt[level], forwOfLast[level], dablk));
            }
            if (back != expectedBack) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_SIBLING, true, dablk, back, expectedBack));
            }
            lastAt[level] = dablk;
            forwOfLast[level] = forw;
        }

        /** A node at {@code level}: its entries, each child walked and its largest hash compared with the key. */
        private long node(long dablk, byte[] b, int level) throws XfsException {
            int count = Inode.u16(b, 56);
            int actual = Inode.u16(b, 58);
            int max = (bs - NODE_HDR) / 8;
            if (actual != level || level < 1 || level > MAX_NODE_LEVEL || count < 1 || count > max) {
                run.add(new InodeProblem(run.inode.ino, Kind.XATTR_NODE, true, dablk, actual, count));
                return -1;
            }
            long greatest = -1;
            long lastKey = -1;
            for (int i = 0; i < count; i++) {
                long key = Inode.u32(b, NODE_HDR + i * 8);
                long before = Inode.u32(b, NODE_HDR + i * 8 + 4);
                if (key < lastKey) {
                    run.add(new InodeProblem(run.inode.ino, Kind.XATTR_NODE_KEY, true, dablk, i, lastKey));
                    return -1;
                }
                lastKey = key;
                byte[] child = before == 0 ? null : read(before);
                if (before == 0) {
                    run.add(new InodeProblem(run.inode.ino, Kind.XATTR_CYCLE, true, 0, -1, -1));
                }
                if (child == null) {
                    return -1;
                }
                int magic = Inode.u16(child, 8);
                int wanted = level == 1 ? LEAF_MAGIC : NODE_MAGIC;
                if (magic != wanted) {
                    run.add(new InodeProblem(run.inode.ino, magic == LEAF_MAGIC || magic == NODE_MAGIC ? Kind.XATTR_NODE
                            : Kind.XATTR_MAGIC, true, before, magic, wanted));
                    return -1;
                }
                if (!header(before, child)) {
                    return -1;
                }
                siblings(before, child, level - 1);
                long below = level == 1 ? leaf(before, child, false) : node(before, child, level - 1);
                if (below < 0) {
                    return -1;
                }
                if (below != key) {
                    run.add(new InodeProblem(run.inode.ino, Kind.XATTR_NODE_KEY, true, dablk, i, below));
                }
                greatest = below;
            }
            return greatest;
        }

        /**
         * A leaf (process_leaf_attr_block): header bounds, each entry's flags, name, hash and place (no byte used
         * twice), remote values; usedbytes and firstused. Returns its largest hash, or -1 when it could not be read
         * through (or is empty).
         */
        private long leaf(long dablk, byte[] b, boolean root) throws XfsException {
            long ino = run.inode.ino;
            // the three free map slots {base be16, size be16} @64: the kernel's leaf verifier refuses the block
            // when one is not 4-byte aligned or ends past the block (xfs_repair -n: "would clear attr fork"); the
            // entries can still be read, so the checks go on
            for (int m = 0; m < 3; m++) {
                int base = Inode.u16(b, 64 + 4 * m);
                int size = Inode.u16(b, 66 + 4 * m);
                if ((base & 3) != 0 || (size & 3) != 0 || base + size > bs) {
                    run.add(new InodeProblem(ino, Kind.XATTR_LEAF_HEADER, true, dablk, base + size, bs));
                    break;
                }
            }
            int count = Inode.u16(b, 56);
            if (count == 0) {
                if (!root) { // an empty leaf at block 0 is a setxattr cut short, and legal
                    run.add(new InodeProblem(ino, Kind.XATTR_LEAF_HEADER, true, dablk, 0, 1));
                }
                return -1;
            }
            int entriesEnd = LEAF_HDR + count * 8;
            if (entriesEnd > bs) {
                run.add(new InodeProblem(ino, Kind.XATTR_LEAF_HEADER, true, dablk, count, (bs - LEAF_HDR) / 8));
                return -1;
            }
            boolean[] used = new boolean[bs];
            java.util.Arrays.fill(used, 0, entriesEnd, true);
            long usedBytes = 0;
            int firstUsed = bs;
            long hashval = -1;
            for (int i = 0; i < count; i++) {
                int e = LEAF_HDR + i * 8;
                hashval = Inode.u32(b, e);
                int nameidx = Inode.u16(b, e + 4);
                int flags = b[e + 6] & 0xff;
                if (!flagsValid(flags)) {
                    run.add(new InodeProblem(ino, Kind.XATTR_FLAGS, true, dablk, i, flags));
                    return -1;
                }
                boolean local = (flags & FLAG_LOCAL) != 0;
                int fixed = local ? 3 : 9;
                if (nameidx < entriesEnd || nameidx + fixed > bs) {
                    run.add(new InodeProblem(ino, Kind.XATTR_ENTRY, true, dablk, i, -1));
                    return -1;
                }
                int namelen = b[nameidx + fixed - 1] & 0xff;
                long valuelen = local ? Inode.u16(b, nameidx) : Inode.u32(b, nameidx + 4);
                int size = local ? (int) ((3 + namelen + valuelen + 3) & ~3) : (11 + namelen + 3) & ~3;
                if (namelen == 0 || nameidx + size > bs || hasNul(b, nameidx + fixed, namelen) || (!local && valuelen > VALUE_MAX)) {
                    run.add(new InodeProblem(ino, Kind.XATTR_ENTRY, true, dablk, i, -1));
                    return -1;
                }
                int computed = hash(b, nameidx + fixed, namelen);
                if (hashval != (computed & 0xffffffffL)) {
                    run.add(new InodeProblem(ino, Kind.XATTR_HASH, true, dablk, i, computed & 0xffffffffL));
                    return -1;
                }
                if (hashval < lastHash) {
                    run.add(new InodeProblem(ino, Kind.XATTR_HASH_ORDER, true, dablk, i, -1));
                    return -1;
                }
                lastHash = hashval;
                for (int k = nameidx; k < nameidx + size; k++) {
                    if (used[k]) {
                        run.add(new InodeProblem(ino, Kind.XATTR_ENTRY, true, dablk, i, -1));
                        return -1;
                    }
                    used[k] = true;
                }
                if (!local) {
                    long valueblk = Inode.u32(b, nameidx);
                    if (valueblk == 0) {
                        run.add(new InodeProblem(ino, Kind.XATTR_ENTRY, true, dablk, i, -1));
                        return -1;
                    }
                    if (!remoteValue(valueblk, valuelen)) {
                        return -1;
                    }
                }
                usedBytes += size;
                firstUsed = Math.min(firstUsed, nameidx);
            }
            int hdrFirstUsed = Inode.u16(b, 60);
            if (hdrFirstUsed == 0) {
                // XFS_ATTR3_LEAF_NULLOFF: libxfs reads 0 as the block size whatever that is (meant for 65536, which does
                // not fit 16 bits), and its verifier then refuses a leaf whose entries' names lie below it
                hdrFirstUsed = bs;
            }
            int holes = b[62] & 0xff;
            // the leaf verifier (xfs_attr3_leaf_verify): firstused not inside the header and the entries' array, and
            // no name below it; without holes, it is exactly where the names begin
            if (hdrFirstUsed < entriesEnd || (holes == 0 && firstUsed != hdrFirstUsed) || hdrFirstUsed > firstUsed) {
                run.add(new InodeProblem(ino, Kind.XATTR_LEAF_HEADER, true, dablk, hdrFirstUsed, firstUsed));
            }
            long hdrUsed = Inode.u16(b, 58);
            if (hdrUsed != usedBytes) {
                run.add(new InodeProblem(ino, Kind.XATTR_USEDBYTES, true, dablk, hdrUsed, usedBytes));
            }
            return hashval;
        }

        /** The blocks of a remote value (rmtval_get, xfs_attr3_rmt_verify, xfs_attr3_rmt_hdr_ok); whether they are right. */
        private boolean remoteValue(long valueblk, long valuelen) throws XfsException {
            long ino = run.inode.ino;
            int per = bs - REMOTE_HDR;
            long blocks = (valuelen + per - 1) / per;
            long done = 0;
            for (long j = 0; j < blocks; j++) {
                long dablk = valueblk + j;
                long fsb = fsb(dablk);
                if (fsb < 0) {
                    run.add(new InodeProblem(ino, Kind.XATTR_UNMAPPED, true, dablk, -1, -1));
                    return false;
                }
                long offset = c.g.fsbOffset(fsb);
                byte[] v = c.image.read(offset, bs);
                if (Inode.u32(v, 0) != REMOTE_MAGIC) {
                    run.add(new InodeProblem(ino, Kind.XATTR_REMOTE_MAGIC, true, dablk, Inode.u32(v, 0), REMOTE_MAGIC));
                    return false;
                }
                if (!Checksums.valid(v, 0, bs, 12)) {
                    run.add(new InodeProblem(ino, Kind.XATTR_REMOTE_CRC, true, dablk, -1, -1));
                    return false;
                }
                if (Inode.u64(v, 32) != ino) {
                    run.add(new InodeProblem(ino, Kind.XATTR_REMOTE_OWNER, true, dablk, Inode.u64(v, 32), ino));
                    return false;
                }
                if (Inode.u64(v, 40) != offset >> 9 || Inode.u64(v, 16) != c.g.metaUuid0 || Inode.u64(v, 24) != c.g.metaUuid1) {
                    run.add(new InodeProblem(ino, Kind.XATTR_REMOTE_HEADER, true, dablk, Inode.u64(v, 40), offset >> 9));
                    return false;
                }
                long bytes = Math.min(per, valuelen - done);
                if (Inode.u32(v, 4) != done || Inode.u32(v, 8) != bytes) {
                    run.add(new InodeProblem(ino, Kind.XATTR_REMOTE_CHUNK, true, dablk, Inode.u32(v, 4), done));
                    return false;
                }
                done += bytes;
            }
            return true;
        }
    }
}
