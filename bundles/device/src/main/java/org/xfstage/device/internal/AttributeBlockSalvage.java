package org.xfstage.device.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * A leaf or node attribute fork kept as far as it reads, as the kernel's online repair salvages one (scrub/attr_repair.c,
 * xrep_xattr_recover: every mapped block that is a leaf of this inode, every entry of it that reads; xfs_repair 6.1
 * instead clears the whole fork for any damaged entry, "would clear attr fork").
 * <p>
 * An entry is kept when its flags are ones a kernel writes and not INCOMPLETE, its name is 1 to 255 bytes without a NUL,
 * its record lies in the block past the entry table and claims no byte an earlier entry of the block claimed, no kept
 * entry has its namespace and name, and, for a remote value, every block of the value maps, reads as this inode's
 * XARM block (checksum, owner, place, uuid) holding the part the header says and claims no block another kept value
 * or attribute block 0 holds. The hash is not believed: it is computed again, as the kernel's salvage adds each name
 * anew. Leaves are recognised by magic and owner, in the order the fork maps them, so a node that lost its keys or its
 * pointers loses no leaf.
 * <p>
 * The kept entries go back in the smallest form that holds them (the kernel's xfs_attr_shortform_allfit): short form
 * when every value is local and every name and value is shorter than 255 bytes and they fit the fork in the inode; else
 * one leaf block written anew in the block that attribute block 0 maps (xfs_attr3_leaf_compact's layout: entries in hash
 * order, records packed down from the block's end, one free map slot between the two); else leaves filled in turn, in
 * the blocks the fork maps that hold no kept value, under one node at attribute block 0 (keys the leaves' largest
 * hashes, siblings linked). The kept remote values' blocks stay mapped at their places. The map goes in the inode, or
 * when it has more extents than the inode holds, in a bmbt laid out by {@link ForkRewrite} in the fork's own bmbt
 * blocks. Entries that need more leaves than one node holds, more blocks than the fork maps, or a bmbt larger than the
 * fork's, are refused (the fork is then dropped whole: no block is allocated here). The fork offset and the data fork are kept; everything else the fork mapped is unmapped (leaked
 * until the free-space plans give it back).
 */
final class AttributeBlockSalvage {
    private static final int LEAF_HDR = 80;
    private static final int LEAF_ENTRY = 8;
    private static final int NODE_HDR = 64;
    private static final int NODE_ENTRY = 8;
    private static final int REMOTE_HDR = 56;
    private static final int SF_HDR = 4;
    private static final int SF_ENTRY_HDR = 3;
    private static final int BMBT_REC = 16;
    /** XFS_ATTR_SF_ENTSIZE_MAX: a name or value this long or longer keeps a fork out of short form. */
    private static final int SF_LENGTH_MAX = 0xff;
    /** XFS_XATTR_SIZE_MAX: no value is longer. */
    private static final long VALUE_MAX = 1 << 16;
    /**
     * The most attribute blocks one salvage reads (256 MiB of 4 KiB blocks): a fork whose map claims more is damage of
     * its map, not attributes to salvage, and is dropped whole rather than read block by block.
     */
    private static final long MAX_BLOCKS = 1 << 16;
    /** The dropped entries named one by one in the description; the rest are counted. */
    private static final int NAMED = 8;
    private static final int NAMESPACES = XattrChecks.FLAG_ROOT | XattrChecks.FLAG_SECURE | XattrChecks.FLAG_PARENT;

    private final XfsImage fs;
    private final InodeChecks checks;
    private final Geometry g;
    private final int bs;

    AttributeBlockSalvage(XfsImage fs, InodeChecks checks) {
        this.fs = fs;
        this.checks = checks;
        this.g = checks.g;
        this.bs = g.blockSize;
    }

    /** An entry kept: its namespace bits, name, and either its local value or its remote value's place and length. */
    private record Entry(int namespace, byte[] name, byte[] value, long valueblk, long valuelen) {
        int hash() {
            return XattrChecks.hash(name, 0, name.length);
        }

        boolean local() {
            return value != null;
        }

        int leafSize() {
            return local() ? (SF_ENTRY_HDR + name.length + value.length + 3) & ~3 : (11 + name.length + 3) & ~3;
        }

        long remoteBlocks(int bs) {
            return (valuelen + bs - REMOTE_HDR - 1) / (bs - REMOTE_HDR);
        }
    }

    /** The blocks to write (the inode first) and what was kept and dropped, in words. */
    record Salvaged(List<BlockImage> blocks, String what) {
    }

    Salvaged salvage(Inode inode) throws XfsException {
        long ino = inode.ino;
        if (inode.mode == 0) {
            throw bad(ino, "is free");
        }
        inode.checkedType();
        Struct core = inode.core;
        int forkoff = (int) core.get("forkoff") * 8;
        int aformat = (int) core.get("aformat");
        if (forkoff == 0 || (aformat != Inode.FMT_EXTENTS && aformat != Inode.FMT_BTREE)) {
            throw bad(ino, "has no attribute fork of blocks");
        }
        List<Inode.Extent> map;
        List<Long> bmbt = new ArrayList<>(); // the fork's bmbt blocks, which a kept map too long for the inode reuses
        try {
            map = inode.forkExtents(fs.image, g, true, bmbt::add);
        } catch (XfsFormatException e) {
            throw bad(ino, "its attribute map does not read (" + e.getMessage() + ")");
        }
        if (map.isEmpty()) {
            throw bad(ino, "its attribute fork maps no blocks");
        }
        long mapped = 0;
        for (Inode.Extent e : map) {
            mapped += e.count();
        }
        long blocks = mapped;
        Headers.check(blocks <= MAX_BLOCKS, () -> "inode " + ino + ": its attribute fork maps " + blocks
                + " blocks, more than a salvage reads (" + MAX_BLOCKS + ")");
        Read read = new Read(ino, map);
        for (Inode.Extent e : map) { // each mapped block once: bounded by the map
            for (long i = 0; i < e.count(); i++) {
                read.block(e.startOff() + i, e.startBlock() + i);
            }
        }
        List<Entry> kept = read.kept;
        if (kept.isEmpty()) {
            throw bad(ino, "no attribute of its blocks reads: nothing to keep" + (read.skipped.isEmpty() ? "" : " (" + read.skipped.get(0) + ")"));
        }
        int start = Inode.CORE_SIZE + forkoff;
        int forkSize = g.inodeSize - start;
        byte[] raw = core.raw().clone();
        java.util.Arrays.fill(raw, start, g.inodeSize, (byte) 0);
        Struct s = new Struct(Layouts.DINODE, raw, 0);
        boolean large = (s.get("flags2") & InodeChecks.DIFLAG2_NREXT64) != 0;
        long dataBlocks = dataForkBlocks(inode);
        List<BlockImage> out = new ArrayList<>();
        int sfBytes = SF_HDR;
        boolean shortForm = true;
        for (Entry e : kept) {
            shortForm &= e.local() && e.name().length < SF_LENGTH_MAX && e.value().length < SF_LENGTH_MAX;
            sfBytes += shortForm ? SF_ENTRY_HDR + e.name().length + e.value().length : 0;
        }
        shortForm &= sfBytes <= forkSize;
        String form;
        boolean inodeWritten = false;
        long unmapped = 0;
        for (Inode.Extent e : map) {
            unmapped += e.count();
        }
        if (shortForm) {
            int at = start + SF_HDR;
            for (Entry e : kept) {
                raw[at] = (byte) e.name().length;
                raw[at + 1] = (byte) e.value().length;
                raw[at + 2] = (byte) e.namespace();
                System.arraycopy(e.name(), 0, raw, at + SF_ENTRY_HDR, e.name().length);
                System.arraycopy(e.value(), 0, raw, at + SF_ENTRY_HDR + e.name().length, e.value().length);
                at += SF_ENTRY_HDR + e.name().length + e.value().length;
            }
            raw[start] = (byte) (sfBytes >>> 8);
            raw[start + 1] = (byte) sfBytes;
            raw[start + 2] = (byte) kept.size();
            s.set("aformat", Inode.FMT_LOCAL);
            s.set(large ? "nextents" : "anextents", 0);
            s.set("nblocks", dataBlocks);
            form = "in short form";
        } else {
            Headers.check(read.fsb(0) >= 0 && checks.validFsb(read.fsb(0)), () -> "inode " + ino + ": attribute block 0 is not mapped: no leaf or node to write the kept entries in");
            TreeSet<Long> keep = new TreeSet<>();
            keep.add(0L);
            for (Entry e : kept) {
                for (long j = 0; !e.local() && j < e.remoteBlocks(bs); j++) {
                    keep.add(e.valueblk() + j);
                }
            }
            List<List<Entry>> leaves = pack(kept);
            // one leaf at block 0; more go in the blocks the fork maps that hold no kept value, a node over them at block 0
            List<Long> at = new ArrayList<>(List.of(0L));
            if (leaves.size() > 1) {
                Headers.check(leaves.size() <= (bs - NODE_HDR) / NODE_ENTRY, () -> "inode " + ino + ": the kept attributes need "
                        + leaves.size() + " leaves, more than one node holds");
                at.clear();
                for (Inode.Extent e : map) {
                    for (long i = 0; i < e.count() && at.size() < leaves.size(); i++) {
                        if (!keep.contains(e.startOff() + i) && checks.validFsb(e.startBlock() + i)) {
                            at.add(e.startOff() + i);
                        }
                    }
                }
                Headers.check(at.size() == leaves.size(), () -> "inode " + ino + ": the kept attributes need " + leaves.size()
                        + " leaves, and the fork maps blocks for " + at.size());
                keep.addAll(at);
            }
            long[] keys = new long[leaves.size()];
            for (int i = 0; i < leaves.size(); i++) {
                long offset = g.fsbOffset(read.fsb(at.get(i)));
                byte[] leaf = leaf(ino, leaves.get(i), offset, i == 0 ? 0 : at.get(i - 1), i == leaves.size() - 1 ? 0 : at.get(i + 1));
                List<Entry> in = leaves.get(i);
                keys[i] = in.get(in.size() - 1).hash() & 0xffffffffL;
                out.add(new BlockImage(offset, leaf, "inode " + ino + " attribute leaf block " + at.get(i)));
            }
            if (leaves.size() > 1) {
                long offset = g.fsbOffset(read.fsb(0));
                out.add(new BlockImage(offset, node(ino, keys, at, offset), "inode " + ino + " attribute node block 0"));
            }
            List<long[]> extents = new ArrayList<>(); // {dablk, fsb, count}
            for (long dablk : keep) {
                long fsb = read.fsb(dablk);
                long[] last = extents.isEmpty() ? null : extents.get(extents.size() - 1);
                if (last != null && last[0] + last[2] == dablk && last[1] + last[2] == fsb && g.agOf(fsb) == g.agOf(last[1])) {
                    last[2]++;
                } else {
                    extents.add(new long[] {dablk, fsb, 1});
                }
            }
            unmapped -= keep.size();
            if (extents.size() * BMBT_REC > forkSize) {
                // too many for the inode: a bmbt in the blocks of the fork's own (ForkRewrite lays it out and reads it back)
                unmapped += bmbt.size() - bmbtInOwnBlocks(inode, extents, bmbt, out);
                inodeWritten = true;
            } else {
                for (int i = 0; i < extents.size(); i++) {
                    long[] x = extents.get(i);
                    putRecord(raw, start + i * BMBT_REC, x[0], x[1], x[2]);
                }
                s.set("aformat", Inode.FMT_EXTENTS);
                s.set(large ? "nextents" : "anextents", extents.size());
                s.set("nblocks", dataBlocks + keep.size());
                unmapped += bmbt.size();
            }
            form = leaves.size() == 1 ? "as one leaf block" : "as a node over " + leaves.size() + " leaf blocks";
        }
        if (!inodeWritten) { // else the bmbt's rewrite made it
            out.add(0, new BlockImage(g.inodeOffset(ino), s.encode(0, g.inodeSize), "inode " + ino));
        }
        readBack(inode, out);
        int seen = kept.size() + read.dropped.size();
        StringBuilder what = new StringBuilder(kept.size() + " of " + seen + " attribute(s) kept " + form);
        if (!read.dropped.isEmpty()) {
            what.append("; dropped: ").append(String.join(", ", read.dropped.subList(0, Math.min(NAMED, read.dropped.size()))));
            if (read.dropped.size() > NAMED) {
                what.append(" and ").append(read.dropped.size() - NAMED).append(" more");
            }
        }
        if (!read.skipped.isEmpty()) {
            what.append("; ").append(String.join(", ", read.skipped.subList(0, Math.min(NAMED, read.skipped.size()))));
        }
        if (unmapped > 0) {
            what.append("; ").append(unmapped).append(" block(s) unmapped");
        }
        BlockImage first = out.get(0);
        out.set(0, new BlockImage(first.offset(), first.bytes(), "inode " + ino + " (attributes: " + what + ")"));
        return new Salvaged(out, what.toString());
    }

    /**
     * The kept attribute blocks' {@code extents} ({dablk, fsb, count}) written as the fork's bmbt, in as many of its
     * old bmbt blocks as they need, by {@link ForkRewrite} (the inode with its count, format and di_nblocks first in
     * {@code out}, then the bmbt blocks); returns the bmbt blocks used.
     */
    private int bmbtInOwnBlocks(Inode inode, List<long[]> extents, List<Long> bmbt, List<BlockImage> out) throws XfsException {
        long ino = inode.ino;
        ForkRewrite rewrite = new ForkRewrite(fs);
        int need = rewrite.blocksNeeded(ino, true, extents.size());
        Headers.check(need <= bmbt.size(), () -> "inode " + ino + ": the kept attribute blocks need " + extents.size()
                + " extents, a bmbt of " + need + " blocks, and the fork has " + bmbt.size());
        List<org.xfstage.api.device.FileExtent> fileExtents = new ArrayList<>();
        for (long[] x : extents) {
            fileExtents.add(new org.xfstage.api.device.FileExtent(x[0], (int) g.agOf(x[1]), x[1] & ((1L << g.agBlkLog) - 1), x[2], false));
        }
        List<org.xfstage.api.device.SalvagedFork.AgBlock> tree = new ArrayList<>();
        for (long fsb : bmbt.subList(0, need)) {
            tree.add(new org.xfstage.api.device.SalvagedFork.AgBlock((int) g.agOf(fsb), fsb & ((1L << g.agBlkLog) - 1)));
        }
        List<BlockImage> written = new ArrayList<>(rewrite.rewrite(ino, true, fileExtents, tree));
        BlockImage node = written.remove(written.size() - 1); // the inode comes last from ForkRewrite
        out.add(0, node);
        out.addAll(written);
        return need;
    }

    /** The leaves of one fork read: the entries kept, those dropped and the blocks skipped, in words. */
    private final class Read {
        private final long ino;
        private final List<Inode.Extent> map;
        final List<Entry> kept = new ArrayList<>();
        final List<String> dropped = new ArrayList<>();
        final List<String> skipped = new ArrayList<>();
        private final Set<String> names = new HashSet<>();
        /** Attribute blocks a kept remote value holds; block 0 is the leaf's. */
        private final Set<Long> valueBlocks = new HashSet<>(Set.of(0L));
        /** The leaf bytes the kept entries need, to stop reading once no single leaf holds them. */
        private long leafBytes = LEAF_HDR;

        Read(long ino, List<Inode.Extent> map) {
            this.ino = ino;
            this.map = map;
        }

        /** The filesystem block of attribute block {@code dablk}, or -1 when not mapped. */
        long fsb(long dablk) {
            return Inode.Extent.blockAt(map, dablk);
        }

        void block(long dablk, long fsb) throws XfsException {
            if (!checks.validFsb(fsb)) {
                skipped.add("attribute block " + dablk + " skipped: it lies outside the filesystem's data blocks");
                return;
            }
            byte[] b = fs.image.read(g.fsbOffset(fsb), bs);
            if (Inode.u16(b, 8) != XattrChecks.LEAF_MAGIC) {
                return; // a node, a remote value block or no attribute block: the kernel's salvage reads leaves only
            }
            long owner = Inode.u64(b, 48);
            if (owner != ino || Inode.u64(b, 32) != g.metaUuid0 || Inode.u64(b, 40) != g.metaUuid1) {
                skipped.add("leaf at attribute block " + dablk + " (" + Inode.u16(b, 56) + " entries) skipped: " + (owner != ino ? "owned by inode " + owner
                        : "of another filesystem"));
                return;
            }
            int count = Math.min(Inode.u16(b, 56), (bs - LEAF_HDR) / LEAF_ENTRY);
            int entriesEnd = LEAF_HDR + count * LEAF_ENTRY;
            boolean[] used = new boolean[bs];
            for (int i = 0; i < count; i++) {
                entry(dablk, b, i, entriesEnd, used);
            }
        }

        private void entry(long dablk, byte[] b, int i, int entriesEnd, boolean[] used) throws XfsException {
            int e = LEAF_HDR + i * LEAF_ENTRY;
            int nameidx = Inode.u16(b, e + 4);
            int flags = b[e + 6] & 0xff;
            String where = "entry " + i + " of attribute block " + dablk;
            boolean local = (flags & XattrChecks.FLAG_LOCAL) != 0;
            int fixed = local ? SF_ENTRY_HDR : 9;
            if (nameidx < entriesEnd || nameidx + fixed > bs) {
                dropped.add(where + " (its name lies outside the block's names)");
                return;
            }
            int namelen = b[nameidx + fixed - 1] & 0xff;
            long valuelen = local ? Inode.u16(b, nameidx) : Inode.u32(b, nameidx + 4);
            long size = local ? (SF_ENTRY_HDR + namelen + valuelen + 3) & ~3 : (11 + namelen + 3) & ~3;
            if (namelen == 0 || nameidx + size > bs) {
                dropped.add(where + (namelen == 0 ? " (a name of no length)" : " (its name and value run past the block)"));
                return;
            }
            for (int k = nameidx; k < nameidx + size; k++) {
                if (used[k]) { // the bytes are another entry's: the name read there is not this entry's
                    dropped.add(where + " (its record overlaps another entry's)");
                    return;
                }
            }
            java.util.Arrays.fill(used, nameidx, (int) (nameidx + size), true);
            byte[] name = java.util.Arrays.copyOfRange(b, nameidx + fixed, nameidx + fixed + namelen);
            String said = display(flags, name);
            for (byte c : name) {
                if (c == 0) {
                    dropped.add(said + " (its name holds a NUL)");
                    return;
                }
            }
            if (!XattrChecks.flagsValidForSalvage(flags)) {
                dropped.add(said + ((flags & XattrChecks.FLAG_INCOMPLETE) != 0 ? " (incomplete)" : " (flags " + Integer.toHexString(flags) + " no kernel writes)"));
                return;
            }
            if (!names.add((flags & NAMESPACES) + "/" + new String(name, StandardCharsets.ISO_8859_1))) {
                dropped.add(said + " (a second entry of this name)");
                return;
            }
            Entry kept;
            if (local) {
                kept = new Entry(flags & NAMESPACES, name, java.util.Arrays.copyOfRange(b, nameidx + SF_ENTRY_HDR + namelen,
                        (int) (nameidx + SF_ENTRY_HDR + namelen + valuelen)), 0, valuelen);
            } else {
                long valueblk = Inode.u32(b, nameidx);
                String why = valueblk == 0 || valuelen > VALUE_MAX ? "its remote value's place or length is impossible"
                        : remoteValue(valueblk, valuelen);
                if (why != null) {
                    names.remove((flags & NAMESPACES) + "/" + new String(name, StandardCharsets.ISO_8859_1));
                    dropped.add(said + " (" + why + ")");
                    return;
                }
                kept = new Entry(flags & NAMESPACES, name, null, valueblk, valuelen);
                for (long j = 0; j < kept.remoteBlocks(bs); j++) {
                    valueBlocks.add(valueblk + j);
                }
            }
            leafBytes += LEAF_ENTRY + kept.leafSize();
            // a bound on what one node's leaves can hold, so that a fork of garbage keeps no more in memory
            Headers.check(leafBytes <= (long) bs * ((bs - NODE_HDR) / NODE_ENTRY), () -> "inode " + ino
                    + ": the attributes that read fill more leaves than one node holds; a second node level is not written");
            this.kept.add(kept);
        }

        /** Why the remote value at {@code valueblk} is not kept, or null when every block of it verifies. */
        private String remoteValue(long valueblk, long valuelen) throws XfsException {
            int per = bs - REMOTE_HDR;
            long blocks = (valuelen + per - 1) / per;
            long done = 0;
            for (long j = 0; j < blocks; j++) {
                long dablk = valueblk + j;
                String at = "its remote value block " + dablk;
                long fsb = fsb(dablk);
                if (fsb < 0 || !checks.validFsb(fsb)) {
                    return at + (fsb < 0 ? " is not mapped" : " lies outside the filesystem's data blocks");
                }
                if (valueBlocks.contains(dablk)) {
                    return at + " is another value's or the leaf's";
                }
                long offset = g.fsbOffset(fsb);
                byte[] v = fs.image.read(offset, bs);
                long bytes = Math.min(per, valuelen - done);
                if (Inode.u32(v, 0) != XattrChecks.REMOTE_MAGIC || !Checksums.valid(v, 0, bs, 12) || Inode.u64(v, 32) != ino
                        || Inode.u64(v, 40) != offset >> 9 || Inode.u64(v, 16) != g.metaUuid0 || Inode.u64(v, 24) != g.metaUuid1
                        || Inode.u32(v, 4) != done || Inode.u32(v, 8) != bytes) {
                    return at + " does not verify";
                }
                done += bytes;
            }
            return null;
        }
    }

    /**
     * The kept entries in hash order, in leaves filled in turn (as full as the kernel's bulk load fills them; a leaf
     * holds at least one entry, since no record is larger than a leaf).
     */
    private List<List<Entry>> pack(List<Entry> kept) {
        List<Entry> sorted = new ArrayList<>(kept);
        sorted.sort(Comparator.comparingLong(e -> e.hash() & 0xffffffffL));
        List<List<Entry>> leaves = new ArrayList<>();
        List<Entry> leaf = new ArrayList<>();
        int used = LEAF_HDR;
        for (Entry e : sorted) {
            int need = LEAF_ENTRY + e.leafSize();
            if (used + need > bs && !leaf.isEmpty()) {
                leaves.add(leaf);
                leaf = new ArrayList<>();
                used = LEAF_HDR;
            }
            leaf.add(e);
            used += need;
        }
        leaves.add(leaf);
        return leaves;
    }

    /** The node at attribute block 0 over the leaves at {@code at}, each key its leaf's largest hash. */
    private byte[] node(long ino, long[] keys, List<Long> at, long offset) {
        byte[] b = new byte[bs];
        put16(b, 8, XattrChecks.NODE_MAGIC);
        put64(b, 16, offset >> 9);
        put64(b, 32, g.metaUuid0);
        put64(b, 40, g.metaUuid1);
        put64(b, 48, ino);
        put16(b, 56, keys.length);
        put16(b, 58, 1);
        for (int i = 0; i < keys.length; i++) {
            put32(b, NODE_HDR + i * NODE_ENTRY, (int) keys[i]);
            put32(b, NODE_HDR + i * NODE_ENTRY + 4, at.get(i).intValue());
        }
        Checksums.update(b, 0, bs, 12);
        return b;
    }

    /** The leaf block holding {@code sorted} (in hash order), records packed down from the block's end. */
    private byte[] leaf(long ino, List<Entry> sorted, long offset, long back, long forw) throws XfsException {
        byte[] b = new byte[bs];
        put32(b, 0, (int) forw);
        put32(b, 4, (int) back);
        put16(b, 8, XattrChecks.LEAF_MAGIC);
        put64(b, 16, offset >> 9);
        put64(b, 32, g.metaUuid0);
        put64(b, 40, g.metaUuid1);
        put64(b, 48, ino);
        int top = bs;
        int used = 0;
        for (int i = 0; i < sorted.size(); i++) {
            Entry e = sorted.get(i);
            int size = e.leafSize();
            top -= size;
            used += size;
            int at = LEAF_HDR + i * LEAF_ENTRY;
            put32(b, at, e.hash());
            put16(b, at + 4, top);
            b[at + 6] = (byte) (e.namespace() | (e.local() ? XattrChecks.FLAG_LOCAL : 0));
            if (e.local()) {
                put16(b, top, e.value().length);
                b[top + 2] = (byte) e.name().length;
                System.arraycopy(e.name(), 0, b, top + SF_ENTRY_HDR, e.name().length);
                System.arraycopy(e.value(), 0, b, top + SF_ENTRY_HDR + e.name().length, e.value().length);
            } else {
                put32(b, top, (int) e.valueblk());
                put32(b, top + 4, (int) e.valuelen());
                b[top + 8] = (byte) e.name().length;
                System.arraycopy(e.name(), 0, b, top + 9, e.name().length);
            }
        }
        int entriesEnd = LEAF_HDR + sorted.size() * LEAF_ENTRY;
        Headers.check(entriesEnd <= top, () -> "inode " + ino + ": the kept attributes fill more than one leaf block");
        put16(b, 56, sorted.size());
        put16(b, 58, used);
        put16(b, 60, top); // a leaf with entries has firstused below 65536, which fits 16 bits
        put16(b, 64, entriesEnd); // free map slot 0: the space between the entries and the records
        put16(b, 66, top - entriesEnd);
        Checksums.update(b, 0, bs, 12);
        return b;
    }

    /**
     * The salvaged inode read again on a view with its leaf: no attribute rule broken and no rule broken that held
     * before (and each block as the engine verifies a planned one).
     */
    private void readBack(Inode before, List<BlockImage> out) throws XfsException {
        long ino = before.ino;
        Set<Kind> had = problems(checks, before);
        XfsImage view = (XfsImage) fs.withPlanned(out);
        InodeChecks vc = new InodeChecks(view.image, g, fs.superblock);
        for (Kind k : problems(vc, Inode.read(view.image, g, ino))) {
            if (k.structure() == InodeProblem.Structure.XATTR || !had.contains(k)) {
                throw bad(ino, "its salvaged attribute fork still breaks '" + k + "'");
            }
        }
        for (BlockImage b : out) {
            fs.verify(b); // as the engine verifies a plan's blocks: the leaves and node by verifyBlock
        }
    }

    /**
     * Whether a planned block is an attribute leaf or node (its magic at byte 8 and a right checksum at byte 12, where
     * no AG btree block keeps its checksum; a directory's node is met before, by the directory's verifier); if so, it
     * must lie where it says, in this filesystem, and a leaf hold a table of entries that ends before its first record,
     * records in the block and a free map in the block (the checks of the kernel's xfs_attr3_leaf_verify and
     * xfs_da3_node_verify that a block read alone can make).
     */
    static boolean verifyBlock(Geometry g, long offset, byte[] b, String what) throws XfsException {
        int bs = g.blockSize;
        int magic = b.length == bs ? Inode.u16(b, 8) : -1;
        if ((magic != XattrChecks.LEAF_MAGIC && magic != XattrChecks.NODE_MAGIC) || !Checksums.valid(b, 0, bs, 12)) {
            return false;
        }
        Headers.check(Inode.u64(b, 16) == offset >> 9 && Inode.u64(b, 32) == g.metaUuid0 && Inode.u64(b, 40) == g.metaUuid1,
                () -> what + ": attribute block header does not say its place or filesystem");
        if (magic == XattrChecks.NODE_MAGIC) { // xfs_da3_node_verify: a level of 1 to 5, 1 to as many entries as fit
            int count = Inode.u16(b, 56);
            int level = Inode.u16(b, 58);
            Headers.check(level >= 1 && level <= 5 && count >= 1 && count <= (bs - NODE_HDR) / NODE_ENTRY,
                    () -> what + ": attribute node of level " + level + " with " + count + " entries");
            return true;
        }
        int count = Inode.u16(b, 56);
        int firstUsed = Inode.u16(b, 60) == 0 ? bs : Inode.u16(b, 60);
        Headers.check(LEAF_HDR + count * LEAF_ENTRY <= firstUsed && firstUsed <= bs, () -> what + ": attribute leaf entries overrun its records");
        for (int i = 0; i < count; i++) {
            int nameidx = Inode.u16(b, LEAF_HDR + i * LEAF_ENTRY + 4);
            Headers.check(nameidx >= firstUsed && nameidx < bs, () -> what + ": an attribute leaf record lies outside the block's names");
        }
        for (int m = 0; m < 3; m++) {
            int base = Inode.u16(b, 64 + 4 * m);
            int size = Inode.u16(b, 66 + 4 * m);
            Headers.check((base & 3) == 0 && (size & 3) == 0 && base + size <= bs, () -> what + ": attribute leaf free map runs past the block");
        }
        return true;
    }

    /** The blocks the data fork maps, its bmbt blocks too, as the verifying read counts them. */
    private long dataForkBlocks(Inode inode) throws XfsException {
        long[] n = {0};
        checks.check(inode, (fsb, count, startOff, attr, bmbt, unwritten) -> {
            if (!attr) {
                n[0] += count;
            }
        }, p -> { });
        return n[0];
    }

    private static Set<Kind> problems(InodeChecks c, Inode inode) throws XfsException {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        c.check(inode, (fsb, n, startOff, attr, bmbt, unwritten) -> { }, (InodeProblem p) -> out.add(p.kind()));
        return out;
    }

    /** The name as getfattr shows it (namespace prefix), bytes outside printable ASCII escaped. */
    private static String display(int flags, byte[] name) {
        StringBuilder s = new StringBuilder((flags & XattrChecks.FLAG_ROOT) != 0 ? "trusted." : (flags & XattrChecks.FLAG_SECURE) != 0
                ? "security." : (flags & XattrChecks.FLAG_PARENT) != 0 ? "parent." : "user.");
        for (byte c : name) {
            if (c >= 0x20 && c < 0x7f) {
                s.append((char) c);
            } else {
                s.append(String.format("\\x%02x", c & 0xff));
            }
        }
        return s.toString();
    }

    /** Packs a bmbt record (xfs_bmbt_disk_set_all): startoff (54 bits), startblock (52), blockcount (21), written. */
    private static void putRecord(byte[] b, int at, long offset, long fsb, long count) {
        put64(b, at, (offset << 9) | (fsb >>> 43));
        put64(b, at + 8, (fsb << 21) | count);
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    private static void put64(byte[] b, int at, long v) {
        put32(b, at, (int) (v >>> 32));
        put32(b, at + 4, (int) v);
    }

    private static XfsFormatException bad(long ino, String what) {
        return new XfsFormatException("inode " + ino + ": " + what);
    }
}
