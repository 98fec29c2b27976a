package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Arrays;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;

/** An open image or device: the checks at open, then decoding on demand. */
final class XfsImage implements XfsDevice {
    /** Deepest directory nesting a walk follows before calling the tree corrupt (PATH_MAX allows about 2048). */
    private static final int MAX_DEPTH = 4096;

    private final String source;
    private final boolean writable;
    private final FileChannel channel;
    private final FileLock lock;
    final Image image;
    final Struct superblock;
    final Geometry geometry;
    final Contents contents;
    final InodeNumbers inodeNumbers;
    final Directories directories;
    /** A view made by {@link #withPlanned}: the device it was made from keeps the channel and the lock. */
    private boolean view;

    private XfsImage(String source, boolean writable, FileChannel channel, FileLock lock, Image image, Struct sb) {
        this.source = source;
        this.writable = writable;
        this.channel = channel;
        this.lock = lock;
        this.image = image;
        this.superblock = sb;
        this.geometry = new Geometry(sb);
        this.inodeNumbers = new InodeNumbers(sb, geometry);
        this.directories = new Directories(image, geometry, inodeNumbers);
        this.contents = new Contents(image, geometry, directories);
    }

    static XfsImage open(Path path, OpenOptions options) throws XfsException {
        String name = path.toString();
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS) && !Files.exists(path)) {
            throw new XfsException(name + ": no such file or device");
        }
        if (Files.isDirectory(path)) {
            throw new XfsException(name + ": is a directory, not an image file or block device");
        }
        try {
            String mountPoint = MountCheck.mountPoint(path, options.mountInfo());
            if (mountPoint != null) {
                throw new XfsException(name + ": is mounted on " + mountPoint + "; unmount it first (xfstage works offline)");
            }
        } catch (IOException e) {
            throw new XfsException(name + ": cannot check whether it is mounted: " + e.getMessage(), e);
        }
        FileChannel channel;
        try {
            channel = options.writable()
                    ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new XfsException(name + ": no such file or device");
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new XfsException(name + ": cannot open " + (options.writable() ? "for writing" : "for reading") + ": " + why, e);
        }
        FileLock lock = null;
        try {
            lock = channel.tryLock(0, Long.MAX_VALUE, !options.writable());
            if (lock == null) {
                throw new XfsException(name + ": is in use by another xfstage run (locked); wait for it to finish");
            }
            long size = Files.isRegularFile(path) ? channel.size() : blockDeviceSize(channel);
            Image image = new Image(name, channel, size);
            if (size < 512) {
                throw new XfsException(name + ": not an XFS filesystem (only " + size + " bytes)");
            }
            byte[] first = image.read(0, 512);
            int sectsize = (int) new Struct(Layouts.SB, first, 0).get("sectsize");
            byte[] sector = sectsize > 512 && sectsize <= 32768 && size >= sectsize ? image.read(0, sectsize) : first;
            Struct sb;
            try {
                sb = Headers.superblock(sector, name + " primary superblock");
            } catch (XfsFormatException e) {
                throw new XfsException(e.getMessage());
            }
            long needed = sb.get("dblocks") * sb.get("blocksize");
            if (size < needed) {
                throw new XfsException(name + ": image is truncated: the superblock says " + needed + " bytes, the file has " + size);
            }
            XfsImage fs = new XfsImage(name, options.writable(), channel, lock, image, sb);
            if ((fs.geometry.incompat & Geometry.FEAT_INCOMPAT_NEEDSREPAIR) != 0 && !options.allowDirtyLog()) {
                throw new XfsException(name + ": the filesystem is marked as needing repair (an earlier repair did not finish)");
            }
            if (!options.allowDirtyLog()) {
                String dirty = LogCheck.dirtyReason(image, fs.geometry);
                if (dirty != null) {
                    throw new XfsException(name + ": " + dirty);
                }
            }
            return fs;
        } catch (OverlappingFileLockException e) {
            closeQuietly(channel);
            throw new XfsException(name + ": is already open in this container by another xfstage run; wait for it to finish");
        } catch (XfsException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new XfsException(name + ": " + e.getMessage(), e);
        }
    }

    private static long blockDeviceSize(FileChannel channel) throws IOException {
        // stat reports a block device's size as 0, but FileChannel.size() asks the device (ioctl BLKGETSIZE64 on Linux)
        return channel.size();
    }

    private static void closeQuietly(FileChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing was written; the descriptor is released anyway
        }
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public FsInfo info() throws XfsException {
        Geometry g = geometry;
        List<FsInfo.AgInfo> ags = new ArrayList<>();
        for (int agno = 0; agno < g.agCount; agno++) {
            Struct agf;
            Struct agi;
            try {
                agf = Headers.agf(image, g, agno);
            } catch (XfsFormatException e) {
                throw new XfsFormatException(e.getMessage(), "agf");
            }
            try {
                agi = Headers.agi(image, g, agno);
            } catch (XfsFormatException e) {
                throw new XfsFormatException(e.getMessage(), "agi");
            }
            ags.add(new FsInfo.AgInfo(agno, agf.get("length"), agf.get("freeblks"), agf.get("longest"), agi.get("count"),
                    agi.get("freecount"), agf.get("flcount"), agf.get("btreeblks"), agf.get("rmap_blocks"), agf.get("refcount_blocks")));
        }
        Struct sb = superblock;
        String label = new String(java.util.Arrays.copyOfRange(sb.raw(), 108, 120), StandardCharsets.UTF_8).replace("\0", "");
        return new FsInfo(new UUID(sb.get("uuid0"), sb.get("uuid1")).toString(), label, g.blockSize, g.sectorSize, g.inodeSize,
                g.agCount, g.agBlocks, g.dataBlocks, g.dirBlockSize, g.logStart == 0 ? 0 : g.logBlocks, g.logStart,
                sb.get("unit"), sb.get("width"), (int) sb.get("imax_pct"), g.featureNames(), sb.get("icount"),
                sb.get("ifree"), sb.get("fdblocks"), ags);
    }

    @Override
    public void manifest(boolean checksums, Progress progress, Consumer<ManifestEntry> sink) throws XfsException, CancelledException {
        Progress p = progress == null ? Progress.NONE : progress;
        p.total("manifest", -1);
        record Pending(String path, long ino, int depth) {
        }
        Deque<Pending> stack = new ArrayDeque<>();
        Set<Long> dirsSeen = new HashSet<>();
        stack.push(new Pending("/", geometry.rootIno, 0));
        while (!stack.isEmpty()) {
            if (p.isCancelled()) {
                throw new CancelledException("manifest of " + source + " cancelled");
            }
            Pending at = stack.pop();
            Inode inode = Inode.read(image, geometry, at.ino());
            FileType type = inode.checkedType();
            String target = type == FileType.SYMLINK ? contents.symlink(inode) : null;
            String sha = checksums && type == FileType.FILE ? contents.sha256(inode) : null;
            sink.accept(new ManifestEntry(at.path(), type, inode.mode & 07777, inode.size, target, sha, inode.ino, inode.nlink));
            p.increment(1);
            if (type == FileType.DIRECTORY) {
                Headers.check(dirsSeen.add(inode.ino), () -> "directory inode " + inode.ino + " is reached twice (a directory cycle) at " + at.path());
                Headers.check(at.depth() < MAX_DEPTH, () -> "directory tree deeper than " + MAX_DEPTH + " at " + at.path());
                List<Contents.DirEntry> entries = contents.directory(inode);
                entries.sort(Comparator.comparing(Contents.DirEntry::name).reversed()); // pushed in reverse: popped in name order
                String prefix = at.path().equals("/") ? "/" : at.path() + "/";
                for (Contents.DirEntry e : entries) {
                    stack.push(new Pending(prefix + e.name(), e.ino(), at.depth() + 1));
                }
            }
        }
    }

    @Override
    public void directory(long ino, DirectorySink sink) throws XfsException {
        Inode dir = Inode.read(image, geometry, ino);
        if (dir.type() != FileType.DIRECTORY) {
            throw new XfsException("inode " + ino + " is not a directory");
        }
        directories.read(dir, sink, true);
    }

    @Override
    public void directoryTree(Progress progress, DirectorySink sink) throws CancelledException {
        new DirectoryTree(image, geometry, inodeNumbers, directories).walk(progress, sink);
    }

    @Override
    public <R> long walkBtree(int agno, Btree<R> tree, Consumer<? super R> sink) throws XfsException {
        return walkBtree(agno, tree, sink, b -> { });
    }

    @Override
    public long[] btreeBlocks(int agno, BtreeType type) throws XfsException {
        Headers.check(agno >= 0 && agno < geometry.agCount, () -> "AG " + agno + " does not exist (" + geometry.agCount + " AGs)");
        return new Btrees(image, geometry).blocks(agno, type);
    }

    @Override
    public <R> long walkBtree(int agno, Btree<R> tree, Consumer<? super R> sink, LongConsumer blocks) throws XfsException {
        Headers.check(agno >= 0 && agno < geometry.agCount, () -> "AG " + agno + " does not exist (" + geometry.agCount + " AGs)");
        long agStart = (long) agno * geometry.agBlocks;
        return new Btrees(image, geometry).walk(agno, tree.type(), f -> sink.accept(Records.typed(tree, f)),
                h -> blocks.accept((h.get("blkno") << 9) / geometry.blockSize - agStart));
    }

    @Override
    public void staticSpace(int agno, SpaceSink sink) throws XfsException {
        Geometry g = geometry;
        Headers.check(agno >= 0 && agno < g.agCount, () -> "AG " + agno + " does not exist (" + g.agCount + " AGs)");
        sink.extent(0, 3L * g.sectorSize / g.blockSize + 1, SpaceUse.HEADERS); // superblock, AGF, AGI, AGFL
        Struct agf = Headers.agf(image, g, agno);
        Struct agfl = Headers.agfl(image, g, agno);
        int size = Headers.agflSize(g);
        long count = agf.get("flcount");
        for (long i = 0, slot = agf.get("flfirst"); i < count; i++, slot = (slot + 1) % size) {
            long agbno = Headers.agflEntry(agfl, (int) slot);
            Headers.check(agbno < agf.get("length"), "AGFL of AG " + agno + ": slot " + slot + " holds block " + agbno + " past the AG");
            sink.extent(agbno, 1, SpaceUse.AGFL);
        }
        if (g.logStart != 0 && g.agOf(g.logStart) == agno) {
            sink.extent(g.logStart & ((1L << g.agBlkLog) - 1), g.logBlocks, SpaceUse.LOG);
        }
    }

    @Override
    public boolean inodeSpace(long ino, InodeSpaceSink sink) throws XfsException {
        return inodeMappings(ino, (agno, m) -> sink.extent(agno, m.start(), m.length(), m.bmbt()));
    }

    @Override
    public boolean inodeMappings(long ino, MappingSink sink) throws XfsException {
        Inode inode = Inode.read(image, geometry, ino);
        if (inode.mode == 0) {
            return false;
        }
        inode.checkedType();
        Geometry g = geometry;
        long mask = (1L << g.agBlkLog) - 1;
        for (boolean attr : new boolean[] {false, true}) {
            for (Inode.Extent e : inode.forkExtents(image, g, attr,
                    fsb -> sink.mapping((int) g.agOf(fsb), new ReverseMapping(fsb & mask, 1, ino, 0, attr, true, false)))) {
                g.fsbOffset(e.startBlock() + e.count() - 1);
                sink.mapping((int) g.agOf(e.startBlock()),
                        new ReverseMapping(e.startBlock() & mask, e.count(), ino, e.startOff(), attr, false, e.unwritten()));
            }
        }
        return true;
    }

    @Override
    public long inodeNumber(int agno, long agino) {
        return ((long) agno << (geometry.agBlkLog + geometry.inopbLog)) | agino;
    }

    @Override
    public int inodesPerBlock() {
        return geometry.blockSize / geometry.inodeSize;
    }

    @Override
    public BlockImage updateHeader(HeaderKind kind, int agno, Map<HeaderField, Long> fields) throws XfsException {
        Map<String, Long> counters = new java.util.LinkedHashMap<>();
        for (Map.Entry<HeaderField, Long> e : fields.entrySet()) {
            if (e.getKey().kind() != kind) {
                throw new IllegalArgumentException(e.getKey() + " is not a field of the " + kind);
            }
            long v = e.getValue();
            counters.put(e.getKey().name(), v == HeaderField.NULL ? NULL_AG : v);
        }
        Geometry g = geometry;
        Headers.check(agno >= 0 && agno < g.agCount, () -> "AG " + agno + " does not exist");
        Layout layout;
        Set<String> allowed;
        long offset;
        String what;
        switch (kind) {
            case SUPERBLOCK -> {
                layout = Layouts.SB;
                allowed = Set.of("icount", "ifree", "fdblocks");
                offset = 0;
                what = "primary superblock";
            }
            case AGF -> {
                layout = Layouts.AGF;
                allowed = Set.of("freeblks", "longest", "btreeblks", "flcount", "flfirst", "fllast", "bno_root", "cnt_root",
                        "bno_level", "cnt_level", "rmap_blocks", "rmap_root", "rmap_level", "refcount_blocks", "refcount_root", "refcount_level");
                offset = g.agBlockOffset(agno, 0) + g.sectorSize;
                what = "AGF of AG " + agno;
            }
            case AGI -> {
                layout = Layouts.AGI;
                allowed = AGI_UPDATABLE;
                offset = g.agBlockOffset(agno, 0) + 2L * g.sectorSize;
                what = "AGI of AG " + agno;
            }
            default -> throw new IllegalArgumentException(kind.toString());
        }
        for (String f : counters.keySet()) {
            if (!allowed.contains(f)) {
                throw new IllegalArgumentException(kind + " counter '" + f + "' cannot be set; only " + allowed);
            }
        }
        // read as it is (its counters may be what is wrong), but only if it is the structure it claims to be
        Struct s = new Struct(layout, image.read(offset, g.sectorSize), 0);
        Headers.check(s.get("magicnum") == (kind == HeaderKind.SUPERBLOCK ? Headers.SB_MAGIC
                : kind == HeaderKind.AGF ? Headers.AGF_MAGIC : Headers.AGI_MAGIC), () -> what + ": bad magic; it cannot be updated, only rebuilt");
        counters.forEach(s::set);
        return new BlockImage(offset, s.encode(0, g.sectorSize), what);
    }

    /**
     * Superblock fields every copy must share with the primary. Excluded: the counters, CRC and LSN (only the primary
     * keeps them), and the root, realtime and quota inode numbers, which mkfs leaves as NULLFSINO in some copies.
     */
    private static final List<String> SB_IDENTITY = List.of("blocksize", "dblocks", "rblocks", "rextents", "uuid0", "uuid1",
            "logstart", "rextsize", "agblocks", "agcount", "rbmblocks", "logblocks",
            "versionnum", "sectsize", "inodesize", "inopblock", "fname0", "fname1", "blocklog", "sectlog", "inodelog",
            "inopblog", "agblklog", "rextslog", "imax_pct", "inoalignmt", "unit", "width", "dirblklog", "logsectlog",
            "logsectsize", "logsunit", "features2", "features_compat", "features_ro_compat", "features_incompat",
            "spino_align", "meta_uuid0", "meta_uuid1");

    private Struct superblockCopy(int agno) throws XfsException {
        Headers.check(agno >= 0 && agno < geometry.agCount, () -> "AG " + agno + " does not exist");
        byte[] sector = image.read(geometry.agBlockOffset(agno, 0), geometry.sectorSize);
        Struct sb = new Struct(Layouts.SB, sector, 0);
        Headers.check(sb.get("magicnum") == Headers.SB_MAGIC, () -> "superblock of AG " + agno + ": bad magic");
        return sb;
    }

    @Override
    public Map<HeaderField, Long> superblockIdentity(int agno) throws XfsException {
        Struct sb = superblockCopy(agno);
        Map<HeaderField, Long> out = new java.util.LinkedHashMap<>();
        for (String f : SB_IDENTITY) {
            out.put(new HeaderField(HeaderKind.SUPERBLOCK, f), sb.get(f));
        }
        return out;
    }

    @Override
    public BlockImage secondarySuperblockFromPrimary(int agno) throws XfsException {
        Headers.check(agno > 0, "AG 0 holds the primary superblock, not a copy");
        Struct copy = superblockCopy(agno);
        for (String f : SB_IDENTITY) {
            copy.set(f, superblock.get(f));
        }
        return new BlockImage(geometry.agBlockOffset(agno, 0), copy.encode(0, geometry.sectorSize), "superblock copy of AG " + agno);
    }

    @Override
    public int btreeBlocksNeeded(BtreeType type, long records) {
        return BulkLoader.blocksNeeded(geometry, type, records);
    }

    @Override
    public boolean btreeFits(BtreeType type, long records, int blocks) {
        return BulkLoader.leavesFor(geometry, type, records, blocks) > 0;
    }

    @Override
    public <R> BulkLoad bulkLoad(int agno, Btree<R> tree, long count, java.util.Iterator<? extends R> records, long[] blocks)
            throws XfsException {
        BtreeType type = tree.type();
        java.util.Iterator<long[]> fields = new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return records.hasNext();
            }

            @Override
            public long[] next() {
                return Records.fields(type, records.next());
            }
        };
        return new BulkLoader(geometry).load(agno, type, count, fields, blocks);
    }

    /** NULLAGINO and NULLAGBLOCK: an empty pointer of an AG header. */
    private static final long NULL_AG = 0xffffffffL;
    /** Unlinked-inode buckets of an AGI (XFS_AGI_UNLINKED_BUCKETS). */
    static final int UNLINKED_BUCKETS = 64;

    @Override
    public Map<Integer, Long> unlinkedBuckets(int agno) throws XfsException {
        Headers.check(agno >= 0 && agno < geometry.agCount, () -> "AG " + agno + " does not exist");
        Struct agi = Headers.agi(image, geometry, agno);
        Map<Integer, Long> out = new java.util.TreeMap<>();
        for (int i = 0; i < UNLINKED_BUCKETS; i++) {
            long agino = agi.get("unlinked" + i);
            if (agino != NULL_AG) {
                out.put(i, agino);
            }
        }
        return out;
    }

    @Override
    public int minFreelist(int bnoLevels, int cntLevels, int rmapLevels) {
        // xfs_alloc_min_freelist: per tree, enough blocks to split every level once the tree is one level taller
        int n = (bnoLevels + 1) * 2 - 2 + (cntLevels + 1) * 2 - 2;
        if (geometry.hasRmapbt()) {
            n += (rmapLevels + 1) * 2 - 2;
        }
        return n;
    }

    /** XFS_REFC_LEN_MAX: the kernel keeps refcount records as short as block mappings. */
    @Override
    public long maxRefcountLength() {
        return (1L << 21) - 1;
    }

    /** XFS_MAX_BMBT_EXTLEN: 21 bits of a bmbt record. */
    @Override
    public long maxExtentLength() {
        return (1L << 21) - 1;
    }

    private static final Set<String> AGI_UPDATABLE;

    static {
        Set<String> agi = new java.util.HashSet<>(Set.of("count", "freecount", "root", "level", "free_root", "free_level", "iblocks", "fblocks"));
        for (int i = 0; i < UNLINKED_BUCKETS; i++) {
            agi.add("unlinked" + i);
        }
        AGI_UPDATABLE = Set.copyOf(agi);
    }

    @Override
    public Map<HeaderField, Long> header(HeaderKind kind, int agno) throws XfsException {
        Geometry g = geometry;
        Headers.check(agno >= 0 && agno < g.agCount, () -> "AG " + agno + " does not exist");
        Struct s = switch (kind) {
            case SUPERBLOCK -> superblock;
            case AGF -> Headers.agf(image, g, agno);
            case AGI -> Headers.agi(image, g, agno);
        };
        Map<HeaderField, Long> out = new java.util.LinkedHashMap<>();
        for (Layout.Field f : s.layout.fields()) {
            out.put(new HeaderField(kind, f.name()), s.get(f));
        }
        return out;
    }

    @Override
    public BlockImage rebuildAgfl(int agno, long[] blocks) throws XfsException {
        Geometry g = geometry;
        Headers.check(agno >= 0 && agno < g.agCount, () -> "AG " + agno + " does not exist");
        long length = Headers.agf(image, g, agno).get("length");
        for (long b : blocks) {
            Headers.check(b > 3L * g.sectorSize / g.blockSize && b < length, () -> "AGFL of AG " + agno + ": block " + b + " is not in the AG");
        }
        Struct old = new Struct(Layouts.AGFL, image.read(g.agBlockOffset(agno, 0) + 3L * g.sectorSize, g.sectorSize), 0);
        Headers.check(old.get("magicnum") == Headers.AGFL_MAGIC, () -> "AGFL of AG " + agno + ": bad magic; it cannot be updated");
        return new BlockImage(g.agBlockOffset(agno, 0) + 3L * g.sectorSize, Headers.agflWith(old, g, blocks), "AGFL of AG " + agno);
    }

    @Override
    public BlockImage updateInode(long ino, Map<InodeField, Long> fields) throws XfsException {
        Map<String, Long> named = new java.util.HashMap<>();
        fields.forEach((f, v) -> named.put(f.name().toLowerCase(), v));
        Inode inode = Inode.read(image, geometry, ino);
        return new BlockImage(geometry.inodeOffset(ino), inode.with(named), "inode " + ino);
    }

    @Override
    public void verify(BlockImage block) throws XfsException {
        Geometry g = geometry;
        long agBytes = g.agBlocks * g.blockSize;
        int agno = (int) (block.offset() / agBytes);
        long within = block.offset() % agBytes;
        byte[] b = block.bytes();
        if (within >= g.blockSize && b.length == g.inodeSize && within % g.inodeSize == 0 && b[0] == 'I' && b[1] == 'N') {
            long agino = ((within / g.blockSize) << g.inopbLog) + (within % g.blockSize) / g.inodeSize;
            Inode.decode(b, g, inodeNumber(agno, agino)).checkedType();
            return;
        }
        if (block.bytes().length == g.blockSize && within % g.blockSize == 0 && within >= g.blockSize) {
            new BulkLoader(g).verify(agno, within / g.blockSize, block.bytes(), block.what());
            return;
        }
        Headers.check(block.bytes().length == g.sectorSize && within % g.sectorSize == 0 && within <= 3L * g.sectorSize,
                () -> block.what() + ": only superblocks, AG headers, btree blocks and inodes can be written yet");
        if (within == 3L * g.sectorSize) {
            Struct agfl = Headers.agHeader(block.bytes(), g, agno, Layouts.AGFL, Headers.AGFL_MAGIC);
            for (int i = 0; i < Headers.agflSize(g); i++) {
                long entry = Headers.agflEntry(agfl, i);
                int slot = i;
                Headers.check(entry == Btrees.NULL_AGBLOCK || entry < g.agBlocks, () -> block.what() + ": slot " + slot + " is past the AG");
            }
        } else if (within == 0) {
            Headers.superblock(block.bytes(), block.what());
        } else if (within == g.sectorSize) {
            Headers.agHeader(block.bytes(), g, agno, Layouts.AGF, Headers.AGF_MAGIC);
        } else {
            Headers.agHeader(block.bytes(), g, agno, Layouts.AGI, Headers.AGI_MAGIC);
        }
    }

    @Override
    public void commit(List<BlockImage> blocks, Path journal) throws XfsException {
        if (!writable) {
            throw new XfsException(source + ": opened read-only; a repair needs it opened for writing");
        }
        for (BlockImage b : blocks) {
            verify(b);
        }
        Journal.of(image, superblock.get("uuid0"), superblock.get("uuid1"), blocks).writeDurably(journal);
        int written = 0;
        WriteListener listener = writeListener;
        try {
            for (BlockImage b : blocks) {
                if (listener != null) {
                    listener.beforeBlock(written);
                }
                ByteBuffer buf = ByteBuffer.wrap(b.bytes());
                while (buf.hasRemaining()) {
                    channel.write(buf, b.offset() + buf.position());
                }
                written++;
            }
            channel.force(true);
            for (BlockImage b : blocks) {
                ByteBuffer back = ByteBuffer.allocate(b.bytes().length);
                while (back.hasRemaining() && channel.read(back, b.offset() + back.position()) >= 0) {
                    // read on until the block is whole
                }
                if (!java.util.Arrays.equals(back.array(), b.bytes())) {
                    throw new IOException(b.what() + " reads back differently");
                }
            }
        } catch (IOException e) {
            throw new XfsException(source + ": write failed after " + written + " of " + blocks.size() + " blocks (" + e.getMessage()
                    + "); restore it with xfs:undo " + journal + " " + source, e);
        }
    }

    /** Told of each block {@link #commit} is about to write; tests of crash safety halt the JVM there. */
    interface WriteListener {
        /** Called before block {@code index} (counted from 0) of a commit is written, after the journal is durable. */
        void beforeBlock(int index);
    }

    /** Null in production: only tests, on the plain class path in this package, set one. */
    private static volatile WriteListener writeListener;

    /** Sets the listener of every later commit in this JVM, or removes it with null. For tests only. */
    static void setWriteListener(WriteListener listener) {
        writeListener = listener;
    }

    /** Restores the blocks of a journal; the image must be opened writable and be the one the journal was made for. */
    int undo(Journal j) throws XfsException {
        if (!writable) {
            throw new XfsException(source + ": opened read-only; undo needs it opened for writing");
        }
        if (j.imageSize != image.size() || j.uuid0 != superblock.get("uuid0") || j.uuid1 != superblock.get("uuid1")) {
            throw new XfsException("the journal was made for another image (size or filesystem uuid differ from " + source + ")");
        }
        for (Journal.Entry e : j.entries) {
            byte[] now = image.read(e.offset(), e.old().length);
            if (!Arrays.equals(now, e.old()) && !Arrays.equals(Journal.sha256(now), e.newDigest())) {
                throw new XfsException(source + ": the block at offset " + e.offset()
                        + " holds neither its journaled old nor new contents: the image changed since the repair; not undoing");
            }
        }
        try {
            for (Journal.Entry e : j.entries) {
                ByteBuffer buf = ByteBuffer.wrap(e.old());
                while (buf.hasRemaining()) {
                    channel.write(buf, e.offset() + buf.position());
                }
            }
            channel.force(true);
        } catch (IOException e) {
            throw new XfsException(source + ": undo write failed (" + e.getMessage() + "); run xfs:undo again", e);
        }
        return j.entries.size();
    }

    @Override
    public XfsDevice withPlanned(List<BlockImage> blocks) throws XfsException {
        java.util.TreeMap<Long, byte[]> overlay = new java.util.TreeMap<>();
        for (BlockImage b : blocks) {
            Headers.check(b.offset() >= 0 && b.offset() + b.bytes().length <= image.size(), () -> b.what() + ": past the end of " + source);
            overlay.put(b.offset(), b.bytes());
        }
        Image planned = new Image(source, channel, image.size(), overlay);
        Struct sb = Headers.superblock(planned.read(0, geometry.sectorSize), source + " primary superblock (as planned)");
        XfsImage view = new XfsImage(source, false, channel, null, planned, sb);
        view.view = true;
        return view;
    }

    @Override
    public void close() {
        if (view) {
            return;
        }
        try {
            if (lock != null && lock.isValid()) {
                lock.release();
            }
        } catch (IOException e) {
            // closing the channel releases the lock too
        }
        closeQuietly(channel);
    }
}
