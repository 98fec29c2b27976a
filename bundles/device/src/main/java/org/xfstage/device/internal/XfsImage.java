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
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.InodeChunkGeometry;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.device.InodeProbe;
import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.ReadSink;
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
    /** The superblock the filesystem is opened on: the primary, or the agreed copy merged as it would go there. */
    final Struct superblock;
    final SuperblockChoice choice;
    final Geometry geometry;
    final Contents contents;
    final InodeNumbers inodeNumbers;
    final Directories directories;
    /** A view made by {@link #withPlanned}: the device it was made from keeps the channel and the lock. */
    private boolean view;
    /** This JVM's claim on the file, released after the channel is closed; null for a view. */
    private Object claim;
    /**
     * What choosing the superblock read, as (offset, length) pairs: the geometry and every decoding after depend on
     * those bytes, read once, so a recording view tells its sink of them first ({@link #recordingReads}).
     */
    private long[] openReads = new long[0];

    private XfsImage(String source, boolean writable, FileChannel channel, FileLock lock, Image image, SuperblockChoice choice) {
        this.source = source;
        this.writable = writable;
        this.channel = channel;
        this.lock = lock;
        this.image = image;
        this.choice = choice;
        this.superblock = choice.chosen;
        this.geometry = new Geometry(superblock);
        this.inodeNumbers = new InodeNumbers(superblock, geometry);
        this.directories = new Directories(image, geometry, inodeNumbers);
        this.contents = new Contents(image, geometry, directories);
    }

    static XfsImage open(Path path, OpenOptions options) throws XfsException {
        Object claim = OpenImages.claim(path); // before any descriptor of the file is opened (see OpenImages)
        try {
            XfsImage fs = openClaimed(path, options);
            fs.claim = claim;
            return fs;
        } catch (XfsException | RuntimeException e) {
            OpenImages.release(claim);
            throw e;
        }
    }

    private static XfsImage openClaimed(Path path, OpenOptions options) throws XfsException {
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
            OpenReads reads = new OpenReads(null);
            SuperblockChoice choice = chosen(image.recording(reads), name);
            XfsImage fs = new XfsImage(name, options.writable(), channel, lock, image, choice);
            fs.openReads = reads.pairs();
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

    /**
     * The superblock agreed on (the primary, or the copies' when they outvote it), checked for what this reader
     * supports and for fitting the image.
     */
    private static SuperblockChoice chosen(Image image, String name) throws XfsException {
        SuperblockChoice choice;
        try {
            choice = SuperblockChoice.choose(image, name);
        } catch (XfsFormatException e) {
            throw new XfsException(e.getMessage()); // one line, as every refusal at open
        }
        Struct sb = choice.chosen;
        long unknown = sb.get("features_incompat") & ~Geometry.FEAT_INCOMPAT_KNOWN;
        if (unknown != 0) {
            throw new XfsException(name + ": unsupported incompatible features 0x" + Long.toHexString(unknown));
        }
        long needed = sb.get("dblocks") * sb.get("blocksize");
        if (image.size() < needed) {
            throw new XfsException(name + ": image is truncated: the superblock says " + needed + " bytes, the file has " + image.size());
        }
        return choice;
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
            // a header that does not decode is damage for the agf and agi checks to report and rebuild, not a reason
            // to stop here: its figures are what its sector holds, and the AG is as long as the geometry says
            Struct agf;
            long length;
            try {
                agf = Headers.agf(image, g, agno);
                length = agf.get("length");
            } catch (XfsFormatException e) {
                agf = Headers.salvagedAgf(image, g, agno);
                length = g.agLength(agno);
            }
            Struct agi = Headers.salvagedAgi(image, g, agno);
            ags.add(new FsInfo.AgInfo(agno, length, agf.get("freeblks"), agf.get("longest"), agi.get("count"),
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
    public void directoryTree(Progress progress, DirectorySink sink, int threads) throws CancelledException {
        new DirectoryTree(image, geometry, inodeNumbers, directories).walk(progress, sink, threads);
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
        // the log before the AGFL: an AGFL that cannot be read must not make the log look free
        if (g.logStart != 0 && g.agOf(g.logStart) == agno) {
            sink.extent(g.logStart & ((1L << g.agBlkLog) - 1), g.logBlocks, SpaceUse.LOG);
        }
        // an AGF that does not decode still says where its list is (the agf check reports the header); its indexes
        // are checked here, as the AGF's decoding would have
        Struct agf = Headers.salvagedAgf(image, g, agno);
        Struct agfl = Headers.agfl(image, g, agno);
        int size = Headers.agflSize(g);
        long count = agf.get("flcount");
        long first = agf.get("flfirst");
        Headers.check(count <= size && first < size, () -> "AGF of AG " + agno + ": AGFL indexes out of range");
        for (long i = 0, slot = first; i < count; i++, slot = (slot + 1) % size) {
            long agbno = Headers.agflEntry(agfl, (int) slot);
            Headers.check(agbno < g.agLength(agno), "AGFL of AG " + agno + ": slot " + slot + " holds block " + agbno + " past the AG");
            sink.extent(agbno, 1, SpaceUse.AGFL);
        }
    }

    @Override
    public boolean inodeSpace(long ino, InodeSpaceSink sink) throws XfsException {
        return inodeMappings(ino, (agno, m) -> sink.extent(agno, m.start(), m.length(), m.bmbt()));
    }

    /**
     * The verifying reader of inodes, made on first use (a scrub's walk; manifests and repairs never need it). Volatile:
     * the walk's threads share it (it holds no state of a read).
     */
    private volatile InodeChecks inodeChecks;

    @Override
    public boolean inodeSpace(long ino, InodeSpaceSink sink, ProblemSink problems) throws XfsException {
        InodeChecks checks = inodeChecks;
        if (checks == null) { // two threads may both make one: the same, and either will do
            checks = new InodeChecks(image, geometry, superblock);
            inodeChecks = checks;
        }
        long mask = (1L << geometry.agBlkLog) - 1;
        Inode inode;
        try {
            inode = Inode.read(image, geometry, ino);
            if (inode.mode != 0) {
                inode.checkedType();
            }
        } catch (XfsFormatException undecodable) {
            // the reason, typed, for a repair to tell an inode it sets right from one it clears; then as before
            undecodable(ino).forEach(problems::problem);
            throw undecodable;
        }
        return checks.check(inode,
                (fsb, count, startOff, attr, bmbt, unwritten) -> sink.mapping((int) geometry.agOf(fsb), fsb & mask, count,
                        startOff, attr, bmbt, unwritten),
                problems);
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
    public InodeChunkGeometry inodeChunkGeometry() {
        Geometry g = geometry;
        int perBlock = inodesPerBlock();
        // xfs_ialloc_setup_geometry: chunks aligned to sb_inoalignmt blocks; without it, to a block
        long align = Math.max(1, g.inoAlignBlocks) * perBlock;
        // a sparse allocation is sb_spino_align blocks (a multiple of the holemask's 4 inodes that divides 64)
        long unit = InodeChunk.INODES;
        if (g.hasSparseInodes() && g.spinoAlignBlocks > 0) {
            long sparse = g.spinoAlignBlocks * perBlock;
            if (sparse < InodeChunk.INODES && sparse % InodeChunk.INODES_PER_HOLEMASK_BIT == 0 && InodeChunk.INODES % sparse == 0) {
                unit = sparse;
            }
        }
        return new InodeChunkGeometry(perBlock, (int) Math.min(align, Integer.MAX_VALUE), (int) unit);
    }

    @Override
    public InodeProbe probeInode(long ino) throws XfsException {
        byte[] raw;
        try {
            raw = image.read(geometry.inodeOffset(ino), geometry.inodeSize);
        } catch (XfsFormatException e) {
            return InodeProbe.NONE; // outside the filesystem: no inode can be there
        }
        Inode inode;
        try {
            inode = Inode.decode(raw, geometry, ino);
        } catch (XfsFormatException e) {
            return InodeProbe.NONE;
        }
        return inode.mode == 0 ? InodeProbe.FREE : InodeProbe.IN_USE;
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
                allowed = AGF_UPDATABLE;
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
        // an untrusted primary is rewritten from the agreed copy first (sb-primary); its own fields are not a base
        Headers.check(kind != HeaderKind.SUPERBLOCK || choice.verdict.primaryTrusted(),
                () -> "primary superblock: not trusted (" + String.join("; ", choice.verdict.primaryProblems())
                        + "); it must be rewritten from the agreed copy before its counters are set");
        // read as it is (its counters may be what is wrong), but only if it is the structure it claims to be
        Struct s = new Struct(layout, image.read(offset, g.sectorSize), 0);
        Headers.check(s.get("magicnum") == (kind == HeaderKind.SUPERBLOCK ? Headers.SB_MAGIC
                : kind == HeaderKind.AGF ? Headers.AGF_MAGIC : Headers.AGI_MAGIC), () -> what + ": bad magic; it cannot be updated, only rebuilt");
        counters.forEach(s::set);
        return new BlockImage(offset, s.encode(0, g.sectorSize), what);
    }

    /** Fields of a new AGF: required always, with an rmapbt, with a refcountbt. */
    private static final List<String> AGF_REQUIRED = List.of("bno_root", "bno_level", "cnt_root", "cnt_level", "flfirst", "fllast",
            "flcount", "freeblks", "longest", "btreeblks");
    private static final List<String> AGF_RMAP = List.of("rmap_root", "rmap_level", "rmap_blocks");
    private static final List<String> AGF_REFCOUNT = List.of("refcount_root", "refcount_level", "refcount_blocks");
    /** Fields of a new AGI: required always, with a finobt, with INOBTCNT. */
    private static final List<String> AGI_REQUIRED = List.of("count", "freecount", "root", "level");
    private static final List<String> AGI_FINOBT = List.of("free_root", "free_level");
    private static final List<String> AGI_COUNTS = List.of("iblocks", "fblocks");

    @Override
    public BlockImage newHeader(HeaderKind kind, int agno, Map<HeaderField, Long> fields) throws XfsException {
        Geometry g = geometry;
        Headers.check(agno >= 0 && agno < g.agCount, () -> "AG " + agno + " does not exist");
        List<String> required = new ArrayList<>();
        Set<String> allowed;
        Struct h;
        long offset;
        String what;
        switch (kind) {
            case AGF -> {
                required.addAll(AGF_REQUIRED);
                if (g.hasRmapbt()) {
                    required.addAll(AGF_RMAP);
                }
                if (g.hasReflink()) {
                    required.addAll(AGF_REFCOUNT);
                }
                allowed = AGF_UPDATABLE;
                h = Headers.freshAgHeader(g, agno, Layouts.AGF, Headers.AGF_MAGIC);
                offset = g.agBlockOffset(agno, 0) + g.sectorSize;
                what = "AGF of AG " + agno;
            }
            case AGI -> {
                required.addAll(AGI_REQUIRED);
                if (g.hasFinobt()) {
                    required.addAll(AGI_FINOBT);
                }
                if (g.hasInobtCounts()) {
                    required.addAll(AGI_COUNTS);
                }
                allowed = AGI_UPDATABLE;
                h = Headers.freshAgHeader(g, agno, Layouts.AGI, Headers.AGI_MAGIC);
                h.set("newino", NULL_AG);
                h.set("dirino", NULL_AG);
                for (int i = 0; i < UNLINKED_BUCKETS; i++) {
                    h.set("unlinked" + i, NULL_AG);
                }
                offset = g.agBlockOffset(agno, 0) + 2L * g.sectorSize;
                what = "AGI of AG " + agno;
            }
            default -> throw new IllegalArgumentException("only an AGF or an AGI can be made new, not the " + kind);
        }
        Set<String> given = new java.util.HashSet<>();
        for (Map.Entry<HeaderField, Long> e : fields.entrySet()) {
            String f = e.getKey().name();
            if (e.getKey().kind() != kind || !allowed.contains(f)) {
                throw new IllegalArgumentException(e.getKey() + " cannot be set in a new " + kind + "; only " + allowed);
            }
            h.set(f, e.getValue() == HeaderField.NULL ? NULL_AG : e.getValue());
            given.add(f);
        }
        List<String> missing = required.stream().filter(f -> !given.contains(f)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("a new " + kind + " of this filesystem needs " + missing);
        }
        return new BlockImage(offset, h.encode(0, g.sectorSize), what);
    }

    @Override
    public BtreeRoot btreeRoot(int agno, BtreeType type) throws XfsException {
        Headers.check(agno >= 0 && agno < geometry.agCount, () -> "AG " + agno + " does not exist (" + geometry.agCount + " AGs)");
        long[] root = new Btrees(image, geometry).root(agno, type);
        return new BtreeRoot(root[0], (int) root[1]);
    }

    @Override
    public BtreeRoot rootCandidate(int agno, BtreeType type, long agbno) throws XfsException {
        Headers.check(agno >= 0 && agno < geometry.agCount, () -> "AG " + agno + " does not exist (" + geometry.agCount + " AGs)");
        Btrees trees = new Btrees(image, geometry);
        trees.claimedRoot(agno, type); // the tree must exist on this filesystem (no search: that reads the AG)
        long levels = trees.candidateLevels(agno, type, agbno);
        return levels > 0 ? new BtreeRoot(agbno, (int) levels) : null;
    }

    @Override
    public List<BtreeRoot> findBtreeRoots(int agno, BtreeType type) throws XfsException {
        Headers.check(agno >= 0 && agno < geometry.agCount, () -> "AG " + agno + " does not exist (" + geometry.agCount + " AGs)");
        List<BtreeRoot> out = new ArrayList<>();
        for (long[] c : new Btrees(image, geometry).candidates(agno, type)) {
            out.add(new BtreeRoot(c[0], (int) c[1]));
        }
        return out;
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

    /**
     * versionnum bits the kernel sets in the primary alone while the filesystem is in use (XFS_SB_VERSION_ATTRBIT with
     * the first extended attribute, XFS_SB_VERSION_QUOTABIT when quotas are turned on): the copies are only rewritten
     * by growfs, so a copy without them is as the kernel leaves it, not damage (xfs_repair -n agrees).
     */
    private static final long VERSION_SET_IN_USE = 0x0010 | 0x0040;

    @Override
    public Map<HeaderField, Long> superblockIdentity(int agno) throws XfsException {
        return identity(superblockCopy(agno));
    }

    @Override
    public Map<HeaderField, Long> agreedSuperblockIdentity() {
        return identity(superblock);
    }

    private static Map<HeaderField, Long> identity(Struct sb) {
        Map<HeaderField, Long> out = new java.util.LinkedHashMap<>();
        for (String f : SB_IDENTITY) {
            long v = sb.get(f);
            out.put(new HeaderField(HeaderKind.SUPERBLOCK, f), f.equals("versionnum") ? v & ~VERSION_SET_IN_USE : v);
        }
        return out;
    }

    @Override
    public BlockImage secondarySuperblockFromPrimary(int agno) throws XfsException {
        Headers.check(choice.verdict.primaryTrusted(), () -> "the primary superblock is not trusted ("
                + String.join("; ", choice.verdict.primaryProblems()) + "): it is never copied into the copies");
        return secondarySuperblockFromAgreed(agno);
    }

    @Override
    public org.xfstage.api.device.SuperblockVerdict superblockChoice() {
        return choice.verdict;
    }

    @Override
    public BlockImage secondarySuperblockFromAgreed(int agno) throws XfsException {
        Headers.check(agno > 0, "AG 0 holds the primary superblock, not a copy");
        long offset = geometry.agBlockOffset(agno, 0);
        byte[] sector = image.read(offset, geometry.sectorSize);
        String what = "superblock copy of AG " + agno;
        if (SuperblockChecks.problems(sector, false).isEmpty()) {
            // a sound copy keeps what is its own (counters, inode numbers, inprogress) and gets the agreed identity
            Struct copy = new Struct(Layouts.SB, sector, 0);
            for (String f : SB_IDENTITY) {
                copy.set(f, superblock.get(f));
            }
            return new BlockImage(offset, copy.encode(0, geometry.sectorSize), what);
        }
        // a copy that fails a check is written anew, as xfs_repair's phase 2 writes a bad one: the agreed superblock,
        // marked as a copy, without counters or quota flags and inodes (as mkfs leaves copies), nothing past its last field
        byte[] fresh = java.util.Arrays.copyOf(superblock.encode(0, geometry.sectorSize), geometry.sectorSize);
        int end = (geometry.incompat & Geometry.FEAT_INCOMPAT_META_UUID) != 0 ? SuperblockChecks.END_WITH_META_UUID
                : SuperblockChecks.END_WITHOUT_META_UUID;
        java.util.Arrays.fill(fresh, end, fresh.length, (byte) 0);
        Struct copy = new Struct(Layouts.SB, fresh, 0);
        copy.set("inprogress", 1);
        for (String f : List.of("icount", "ifree", "fdblocks", "frextents", "qflags", "uquotino", "gquotino", "pquotino")) {
            copy.set(f, 0);
        }
        return new BlockImage(offset, copy.encode(0, geometry.sectorSize), what);
    }

    @Override
    public BlockImage primarySuperblockFromAgreed() throws XfsException {
        Headers.check(!choice.verdict.primaryTrusted(), "the primary superblock is trusted: there is nothing to rewrite it from");
        return new BlockImage(0, superblock.encode(0, geometry.sectorSize), "primary superblock (from the copy in AG "
                + choice.verdict.sourceAg() + ")");
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

    private static final Set<String> AGF_UPDATABLE = Set.of("freeblks", "longest", "btreeblks", "flcount", "flfirst", "fllast",
            "bno_root", "cnt_root", "bno_level", "cnt_level", "rmap_blocks", "rmap_root", "rmap_level", "refcount_blocks",
            "refcount_root", "refcount_level");
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
        // bounded by the geometry, not by the AGF, which may be the header being rebuilt with it
        long length = g.agLength(agno);
        for (long b : blocks) {
            Headers.check(b > 3L * g.sectorSize / g.blockSize && b < length, () -> "AGFL of AG " + agno + ": block " + b + " is not in the AG");
        }
        return new BlockImage(g.agBlockOffset(agno, 0) + 3L * g.sectorSize, Headers.agflWith(g, agno, blocks), "AGFL of AG " + agno);
    }

    @Override
    public boolean reflinked(long ino) throws XfsException {
        return Inode.read(image, geometry, ino).reflinked();
    }

    @Override
    public BlockImage updateInode(long ino, Map<InodeField, Long> fields) throws XfsException {
        Map<String, Long> named = new java.util.HashMap<>();
        fields.forEach((f, v) -> named.put(f.name().toLowerCase(), v));
        Inode inode = Inode.read(image, geometry, ino);
        return new BlockImage(geometry.inodeOffset(ino), inode.with(named), "inode " + ino);
    }

    @Override
    public BlockImage repairInodeCore(long ino, java.util.Set<org.xfstage.api.device.InodeProblem.Kind> rules) throws XfsException {
        if (inodeChecks == null) {
            inodeChecks = new InodeChecks(image, geometry, superblock);
        }
        byte[] fixed = new InodeCoreRepair(inodeChecks).repair(Inode.read(image, geometry, ino), rules);
        return new BlockImage(geometry.inodeOffset(ino), fixed, "inode " + ino);
    }

    @Override
    public BlockImage clearInode(long ino) throws XfsException {
        InodeClear clear = new InodeClear(checks(), superblock);
        clear.refuseReserved(ino); // before the number check, which calls them no inodes an entry may name
        Headers.check(inodeNumbers.validForEntry(ino), () -> "inode " + ino + " is not an inode of this filesystem");
        byte[] cleared = clear.clear(ino, image.read(geometry.inodeOffset(ino), geometry.inodeSize));
        return new BlockImage(geometry.inodeOffset(ino), cleared, "inode " + ino + " (cleared)");
    }

    @Override
    public BlockImage dropAttributeFork(long ino) throws XfsException {
        byte[] out = new InodeClear(checks(), superblock).dropAttributes(Inode.read(image, geometry, ino));
        return new BlockImage(geometry.inodeOffset(ino), out, "inode " + ino + " (attribute fork dropped)");
    }

    @Override
    public BlockImage salvageShortFormAttributes(long ino) throws XfsException {
        new InodeClear(checks(), superblock).refuseReserved(ino);
        AttributeSalvage.Salvaged s = new AttributeSalvage(checks()).salvage(Inode.read(image, geometry, ino));
        return new BlockImage(geometry.inodeOffset(ino), s.inode(), "inode " + ino + " (attributes: " + s.what() + ")");
    }

    @Override
    public List<BlockImage> salvageAttributeBlocks(long ino) throws XfsException {
        new InodeClear(checks(), superblock).refuseReserved(ino);
        return new AttributeBlockSalvage(this, checks()).salvage(Inode.read(image, geometry, ino)).blocks();
    }

    @Override
    public List<BlockImage> rebuildSymlinkBlocks(long ino) throws XfsException {
        return new SymlinkRebuild(this).rebuild(ino);
    }

    @Override
    public BlockImage rewriteInodeChecksum(long ino) throws XfsException {
        Headers.check(inodeNumbers.validForEntry(ino) || ino == geometry.rootIno, () -> "inode " + ino + " is not an inode of this filesystem");
        byte[] raw = image.read(geometry.inodeOffset(ino), geometry.inodeSize);
        Struct s = new Struct(Layouts.DINODE, raw, 0);
        Headers.check(!s.crcValid(0, geometry.inodeSize), () -> "inode " + ino + ": its checksum is right");
        byte[] fixed = s.encode(0, geometry.inodeSize);
        Inode inode = Inode.decode(fixed, geometry, ino); // a core that is no inode of this filesystem is not made one by its checksum
        if (inode.mode != 0) {
            inode.checkedType(); // nor one of no known type, or whose type cannot have its fork's format
        }
        return new BlockImage(geometry.inodeOffset(ino), fixed, "inode " + ino + " (checksum)");
    }

    /** The rules inode {@code ino}'s bytes break that stop it decoding; none when it cannot be read at all. */
    private List<org.xfstage.api.device.InodeProblem> undecodable(long ino) {
        try {
            return InodeDecodeProblems.of(image.read(geometry.inodeOffset(ino), geometry.inodeSize), geometry, ino);
        } catch (XfsException outside) {
            return List.of(); // no inode of this filesystem is there: the exception thrown says so
        }
    }

    @Override
    public BlockImage rewriteInodeHeader(long ino) throws XfsException {
        Headers.check(inodeNumbers.validForEntry(ino) || ino == geometry.rootIno, () -> "inode " + ino + " is not an inode of this filesystem");
        byte[] raw = image.read(geometry.inodeOffset(ino), geometry.inodeSize);
        Struct s = new Struct(Layouts.DINODE, raw, 0);
        Headers.check(s.get("magic") != 0x494E || s.get("version") != 3 || !s.crcValid(0, geometry.inodeSize),
                () -> "inode " + ino + ": its magic, version and checksum are right");
        s.set("magic", 0x494E);
        s.set("version", 3);
        byte[] fixed = s.encode(0, geometry.inodeSize);
        // a core that is no inode of this filesystem is not made one by its header: its number, uuid, size, fork
        // offset and type must read right as they are
        Inode inode = Inode.decode(fixed, geometry, ino);
        if (inode.mode != 0) {
            inode.checkedType();
        }
        return new BlockImage(geometry.inodeOffset(ino), fixed, "inode " + ino + " (magic, version, checksum)");
    }

    @Override
    public BlockImage directorySizeFromBlocks(long ino) throws XfsException {
        Inode dir = Inode.read(image, geometry, ino);
        Headers.check(dir.mode != 0 && dir.checkedType() == FileType.DIRECTORY, () -> "inode " + ino + " is not a directory");
        long size = directories.sizeOfBlocks(dir);
        Headers.check(size > 0, () -> "directory inode " + ino + ": its extent map is no directory form, or no data block reads");
        Headers.check(size != dir.size, () -> "directory inode " + ino + ": its size is " + size + " already");
        byte[] fixed = dir.with(Map.of("size", size));
        Inode sized = Inode.decode(fixed, geometry, ino);
        // proven only if the directory then reads whole without a fault: its blocks, its indexes, its inode's rules
        String[] first = {null};
        directories.read(sized, new DirectorySink() {
            @Override
            public void entry(org.xfstage.api.device.DirectoryEntry e) {
            }

            @Override
            public void problem(DirectoryProblem p) {
                if (first[0] == null) {
                    first[0] = p.where() + ": " + p.kind().description() + ": " + p.detail();
                }
            }
        }, true);
        Headers.check(first[0] == null, () -> "directory inode " + ino + " of size " + size + " still breaks a rule (" + first[0]
                + "): its size is not proven");
        java.util.EnumSet<org.xfstage.api.device.InodeProblem.Kind> sizeRules = java.util.EnumSet.of(
                org.xfstage.api.device.InodeProblem.Kind.SIZE_FORMAT, org.xfstage.api.device.InodeProblem.Kind.DIRECTORY_SIZE,
                org.xfstage.api.device.InodeProblem.Kind.DIRECTORY_BLOCK_SIZE);
        checks().check(sized, (fsb, count, startOff, attr, bmbt, unwritten) -> { }, p -> {
            if (sizeRules.contains(p.kind()) && first[0] == null) {
                first[0] = p.describe();
            }
        });
        Headers.check(first[0] == null, () -> "directory inode " + ino + " of size " + size + " still breaks " + first[0]);
        return new BlockImage(geometry.inodeOffset(ino), fixed, "inode " + ino + " (directory size)");
    }

    private InodeChecks checks() {
        if (inodeChecks == null) {
            inodeChecks = new InodeChecks(image, geometry, superblock);
        }
        return inodeChecks;
    }

    @Override
    public FileType fileType(long ino) throws XfsException {
        try {
            Inode inode = Inode.read(image, geometry, ino);
            return inode.mode == 0 ? null : inode.type();
        } catch (XfsFormatException e) {
            return null; // not an inode of this filesystem at this number, or no known type
        }
    }

    @Override
    public List<BlockImage> rebuildDirectory(long ino, long parent, java.util.Iterator<org.xfstage.api.device.SalvagedEntry> entries)
            throws XfsException {
        return new DirectoryRebuild(this).rebuild(ino, parent, entries);
    }

    @Override
    public BlockImage newDirectory(long ino, long parent, java.util.Iterator<org.xfstage.api.device.SalvagedEntry> entries)
            throws XfsException {
        return new NewDirectory(this).make(ino, parent, entries, System.currentTimeMillis());
    }

    @Override
    public List<BlockImage> rebuildDirectory(long ino, long parent, java.util.Iterator<org.xfstage.api.device.SalvagedEntry> entries,
            org.xfstage.api.device.BlockAllocator more) throws XfsException {
        return new DirectoryRebuild(this).rebuild(ino, parent, entries, more);
    }

    @Override
    public List<BlockImage> resizeDirectory(long ino, long parent, java.util.Iterator<org.xfstage.api.device.SalvagedEntry> entries,
            org.xfstage.api.device.BlockAllocator more) throws XfsException {
        return new DirectoryRebuild(this).rebuild(ino, parent, entries, more, true);
    }

    @Override
    public List<BlockImage> newDirectory(long ino, long parent, java.util.Iterator<org.xfstage.api.device.SalvagedEntry> entries,
            org.xfstage.api.device.BlockAllocator more) throws XfsException {
        return new NewDirectory(this).make(ino, parent, entries, System.currentTimeMillis(), more);
    }

    @Override
    public org.xfstage.api.device.SalvagedFork salvageFork(long ino, boolean attrFork) throws XfsException {
        return new ForkRewrite(this).salvage(ino, attrFork);
    }

    @Override
    public int forkBlocksNeeded(long ino, boolean attrFork, long extents) throws XfsException {
        return new ForkRewrite(this).blocksNeeded(ino, attrFork, extents);
    }

    @Override
    public List<BlockImage> rewriteFork(long ino, boolean attrFork, List<org.xfstage.api.device.FileExtent> extents,
            List<org.xfstage.api.device.SalvagedFork.AgBlock> bmbtBlocks) throws XfsException {
        return new ForkRewrite(this).rewrite(ino, attrFork, extents, bmbtBlocks);
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
            Inode inode = Inode.decode(b, g, inodeNumber(agno, agino));
            if (inode.mode != 0) {
                inode.checkedType(); // a free inode (one cleared) has no type to check
            }
            return;
        }
        if (within >= g.blockSize && within % g.blockSize == 0 && Directories.verifyBlock(b, block.offset(), g)) {
            return; // a directory block: its own checksum, place and filesystem
        }
        if (within >= g.blockSize && within % g.blockSize == 0 && b.length % g.blockSize == 0 && b.length >= 4
                && new Struct(Layouts.SYMLINK, b, 0).get("magic") == Contents.SYMLINK_MAGIC) {
            // a remote symlink extent: its checksum over the extent, its place and filesystem
            Struct h = new Struct(Layouts.SYMLINK, b, 0);
            Headers.check(h.crcValid(0, b.length) && h.get("blkno") == block.offset() >> 9 && Headers.sameUuid(h, g),
                    () -> block.what() + ": remote symlink header does not verify");
            return;
        }
        if (block.bytes().length == g.blockSize && within % g.blockSize == 0 && within >= g.blockSize
                && Inode.u32(b, 0) == Inode.BMBT_MAGIC) {
            ForkRewrite.verifyBlock(g, block.offset(), b, block.what()); // a file's bmbt block: no AG owns it
            return;
        }
        if (block.bytes().length == g.blockSize && within % g.blockSize == 0 && within >= g.blockSize
                && AttributeBlockSalvage.verifyBlock(g, block.offset(), b, block.what())) {
            return; // an attribute leaf or node written anew: no AG owns it
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
            Struct sb = Headers.superblock(block.bytes(), block.what(), agno == 0);
            Headers.check(SuperblockChecks.Tuple.of(sb).equals(SuperblockChecks.Tuple.of(superblock)),
                    () -> block.what() + ": its geometry is not the filesystem's agreed geometry");
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
        // a view of a view sees what both plan: a plan made on a view reads the earlier plans' blocks through it
        java.util.TreeMap<Long, byte[]> overlay = image.overlay() == null ? new java.util.TreeMap<>()
                : new java.util.TreeMap<>(image.overlay());
        for (BlockImage b : blocks) {
            Headers.check(b.offset() >= 0 && b.offset() + b.bytes().length <= image.size(), () -> b.what() + ": past the end of " + source);
            overlay.put(b.offset(), b.bytes());
        }
        Image planned = new Image(source, channel, image.size(), overlay, image.sink()); // a recording view's records too
        // the view chooses its superblock again: a planned primary or copy changes the vote
        OpenReads reads = new OpenReads(planned.sink());
        XfsImage view = new XfsImage(source, false, channel, null, planned,
                chosen(planned.recording(reads), source + " (as planned)"));
        view.openReads = reads.pairs();
        view.view = true;
        return view;
    }

    @Override
    public XfsDevice recordingReads(ReadSink sink) {
        java.util.Objects.requireNonNull(sink, "sink");
        for (int i = 0; i < openReads.length; i += 2) {
            sink.read(openReads[i], (int) openReads[i + 1]);
        }
        // the superblock chosen is this device's: read once, its bytes told above
        XfsImage view = new XfsImage(source, false, channel, null, image.recording(sink), choice);
        view.openReads = openReads;
        view.view = true;
        return view;
    }

    /** The reads of a superblock choice, collected as (offset, length) pairs, and told on to {@code next} (may be null). */
    private static final class OpenReads implements ReadSink {
        private final ReadSink next;
        private long[] pairs = new long[16];
        private int n;

        OpenReads(ReadSink next) {
            this.next = next;
        }

        @Override
        public synchronized void read(long offset, int length) {
            if (next != null) {
                next.read(offset, length);
            }
            if (n == pairs.length) {
                pairs = Arrays.copyOf(pairs, n * 2); // bounded by the choice's own bound on what it reads
            }
            pairs[n++] = offset;
            pairs[n++] = length;
        }

        synchronized long[] pairs() {
            return Arrays.copyOf(pairs, n);
        }
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
        OpenImages.release(claim);
    }
}
