package org.xfstage.strategies.inodes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.InodeChunkGeometry;
import org.xfstage.api.device.InodeProbe;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.staging.Progress;

/**
 * A device that answers from what the test put in it (btree records, unlinked buckets, old tree blocks) and records
 * what a plan asks it to encode (header and inode updates, bulk loads). What the inode strategies never call throws.
 */
final class FakeDevice implements XfsDevice {
    /** Inode numbers of this fake: the AG above bit 24, the AG inode number below. */
    static final int AG_SHIFT = 24;

    /** A header update a plan asked for. */
    record HeaderUpdate(HeaderKind kind, int agno, Map<HeaderField, Long> fields) {
    }

    /** An inode update a plan asked for. */
    record InodeUpdate(long ino, Map<InodeField, Long> fields) {
    }

    /** A bulk load a plan asked for, with the records it read. */
    record Load(int agno, BtreeType type, List<Object> records, long[] blocks) {
    }

    /** A new header a plan asked for. */
    record NewHeader(HeaderKind kind, int agno, Map<HeaderField, Long> fields) {
    }

    private final FsInfo info;
    private final Map<String, BtreeRoot> roots = new HashMap<>();
    private final Map<String, List<BtreeRoot>> candidates = new HashMap<>();
    private final Map<Integer, Map<HeaderField, Long>> agiSays = new HashMap<>();
    private final java.util.Set<Integer> undecodable = new java.util.HashSet<>();
    final List<NewHeader> newHeaders = new ArrayList<>();
    private final Map<BtreeType, Map<Integer, List<?>>> trees = new HashMap<>();
    private final Map<Integer, Map<Integer, Long>> buckets = new HashMap<>();
    private final Map<BtreeType, long[]> oldBlocks = new HashMap<>();
    private final Map<Long, InodeProbe> probes = new HashMap<>();
    final List<HeaderUpdate> headerUpdates = new ArrayList<>();
    final List<InodeUpdate> inodeUpdates = new ArrayList<>();
    final List<Load> loads = new ArrayList<>();

    FakeDevice(FsInfo info) {
        this.info = info;
    }

    /** The records of the {@code tree} of AG {@code agno}, in tree order. */
    <R> FakeDevice tree(Btree<R> tree, int agno, List<R> records) {
        trees.computeIfAbsent(tree.type(), t -> new HashMap<>()).put(agno, List.copyOf(records));
        return this;
    }

    /** A bucket of the AGI of AG {@code agno} that names AG inode {@code agino}. */
    FakeDevice unlinked(int agno, int bucket, long agino) {
        buckets.computeIfAbsent(agno, a -> new TreeMap<>()).put(bucket, agino);
        return this;
    }

    /** The blocks the tree of that type has now, in every AG. */
    FakeDevice blocks(BtreeType type, long... agbnos) {
        oldBlocks.put(type, agbnos);
        return this;
    }

    /** The root walks of the tree start from in AG {@code agno} (else block 100 + the type's ordinal, one level). */
    FakeDevice root(BtreeType type, int agno, long block, int levels) {
        roots.put(type + "/" + agno, new BtreeRoot(block, levels));
        return this;
    }

    /** What a search of AG {@code agno} finds that looks like the tree's root (else the root walks start from). */
    FakeDevice candidates(BtreeType type, int agno, BtreeRoot... found) {
        candidates.put(type + "/" + agno, List.of(found));
        return this;
    }

    /** A field of the AGI of AG {@code agno} that says something else than the trees (its roots say theirs unless told). */
    FakeDevice agiSays(int agno, HeaderField field, long value) {
        agiSays.computeIfAbsent(agno, a -> new HashMap<>()).put(field, value);
        return this;
    }

    /** The AGI of AG {@code agno} cannot be decoded. */
    FakeDevice undecodableAgi(int agno) {
        undecodable.add(agno);
        return this;
    }

    @Override
    public BtreeRoot btreeRoot(int agno, BtreeType type) {
        return roots.getOrDefault(type + "/" + agno, new BtreeRoot(100 + type.ordinal(), 1));
    }

    @Override
    public List<BtreeRoot> findBtreeRoots(int agno, BtreeType type) {
        return candidates.getOrDefault(type + "/" + agno, List.of(btreeRoot(agno, type)));
    }

    @Override
    public BlockImage newHeader(HeaderKind kind, int agno, Map<HeaderField, Long> fields) {
        newHeaders.add(new NewHeader(kind, agno, Map.copyOf(fields)));
        return new BlockImage(agno, new byte[0], "new " + kind + " of AG " + agno);
    }

    @Override
    public String source() {
        return "fake";
    }

    @Override
    public FsInfo info() {
        return info;
    }

    @Override
    public void manifest(boolean checksums, Progress progress, Consumer<ManifestEntry> sink) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <R> long walkBtree(int agno, Btree<R> tree, Consumer<? super R> sink) throws XfsFormatException {
        return walkBtree(agno, tree, sink, b -> { });
    }

    @Override
    public <R> long walkBtree(int agno, Btree<R> tree, Consumer<? super R> sink, LongConsumer blocks) throws XfsFormatException {
        if (!info.hasTree(tree.type())) {
            throw new XfsFormatException("no " + tree, tree.type().treeName());
        }
        List<?> records = trees.getOrDefault(tree.type(), Map.of()).getOrDefault(agno, List.of());
        for (Object r : records) {
            sink.accept(tree.recordType().cast(r));
        }
        return 1;
    }

    @Override
    public long[] btreeBlocks(int agno, BtreeType type) throws XfsFormatException {
        long[] b = oldBlocks.get(type);
        if (b == null) {
            throw new XfsFormatException("no blocks given for " + type.treeName(), type.treeName());
        }
        return b.clone();
    }

    @Override
    public void staticSpace(int agno, SpaceSink sink) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean inodeSpace(long ino, InodeSpaceSink sink) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean inodeMappings(long ino, MappingSink sink) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long inodeNumber(int agno, long agino) {
        return (long) agno << AG_SHIFT | agino;
    }

    @Override
    public int inodesPerBlock() {
        throw new UnsupportedOperationException();
    }

    /**
     * 4 inodes a block (a chunk at AG inode 64 is blocks 16-31), chunks where a chunk fits, sparse allocations of one
     * holemask bit (4 inodes, one block).
     */
    @Override
    public InodeChunkGeometry inodeChunkGeometry() {
        return new InodeChunkGeometry(InodeChunk.INODES_PER_HOLEMASK_BIT, InodeChunk.INODES, InodeChunk.INODES_PER_HOLEMASK_BIT);
    }

    /** The inodes the test put there; none elsewhere. */
    @Override
    public InodeProbe probeInode(long ino) {
        return probes.getOrDefault(ino, InodeProbe.NONE);
    }

    /** What {@link #probeInode} finds at inodes {@code first} on, one character each: u in use, f free, - none. */
    FakeDevice inodes(long first, String states) {
        for (int i = 0; i < states.length(); i++) {
            char c = states.charAt(i);
            probes.put(first + i, c == 'u' ? InodeProbe.IN_USE : c == 'f' ? InodeProbe.FREE : InodeProbe.NONE);
        }
        return this;
    }

    /** The AGI's tree fields: the roots walks start from and the trees' blocks, unless the test says otherwise. */
    @Override
    public Map<HeaderField, Long> header(HeaderKind kind, int agno) throws XfsFormatException {
        if (kind != HeaderKind.AGI) {
            throw new UnsupportedOperationException("the inode strategies read only the AGI");
        }
        if (undecodable.contains(agno)) {
            throw new XfsFormatException("AGI of AG " + agno + ": bad magic", "agi");
        }
        Map<HeaderField, Long> out = new HashMap<>();
        for (BtreeType t : List.of(BtreeType.INO, BtreeType.FINO)) {
            out.put(HeaderField.root(t), btreeRoot(agno, t).block());
            out.put(HeaderField.level(t), (long) btreeRoot(agno, t).levels());
            if (oldBlocks.containsKey(t)) {
                out.put(HeaderField.blocks(t), (long) oldBlocks.get(t).length); // agi_iblocks, agi_fblocks
            }
        }
        out.putAll(agiSays.getOrDefault(agno, Map.of()));
        return out;
    }

    @Override
    public BlockImage updateHeader(HeaderKind kind, int agno, Map<HeaderField, Long> counters) {
        for (HeaderField f : counters.keySet()) {
            if (f.kind() != kind) {
                throw new IllegalArgumentException(f + " is not a field of the " + kind);
            }
        }
        headerUpdates.add(new HeaderUpdate(kind, agno, Map.copyOf(counters)));
        return new BlockImage(headerUpdates.size(), new byte[0], kind + " of AG " + agno);
    }

    @Override
    public Map<Integer, Long> unlinkedBuckets(int agno) {
        return Map.copyOf(buckets.getOrDefault(agno, Map.of()));
    }

    @Override
    public BlockImage rebuildAgfl(int agno, long[] blocks) {
        throw new UnsupportedOperationException();
    }

    @Override
    public BlockImage updateInode(long ino, Map<InodeField, Long> fields) {
        inodeUpdates.add(new InodeUpdate(ino, Map.copyOf(fields)));
        return new BlockImage(ino, new byte[0], "inode " + ino);
    }

    @Override
    public int minFreelist(int bnoLevels, int cntLevels, int rmapLevels) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long maxRefcountLength() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long maxExtentLength() {
        throw new UnsupportedOperationException();
    }

    @Override
    public int btreeBlocksNeeded(BtreeType type, long records) {
        return 1;
    }

    /** Any tree fits in one block or more: the fake's blocks hold every record. */
    @Override
    public boolean btreeFits(BtreeType type, long records, int blocks) {
        return blocks >= 1;
    }

    @Override
    public <R> BulkLoad bulkLoad(int agno, Btree<R> tree, long count, Iterator<? extends R> records, long[] blocks) {
        List<Object> read = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            read.add(records.next());
        }
        if (records.hasNext()) {
            throw new IllegalStateException("more than " + count + " records");
        }
        loads.add(new Load(agno, tree.type(), read, blocks.clone()));
        List<BlockImage> images = new ArrayList<>();
        for (long b : blocks) {
            images.add(new BlockImage(b, new byte[0], tree + " block " + b + " of AG " + agno));
        }
        return new BulkLoad(images, blocks[blocks.length - 1], 1);
    }

    @Override
    public Map<HeaderField, Long> superblockIdentity(int agno) {
        throw new UnsupportedOperationException();
    }

    @Override
    public BlockImage secondarySuperblockFromPrimary(int agno) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Map<HeaderField, Long> agreedSuperblockIdentity() {
        throw new UnsupportedOperationException();
    }

    @Override
    public org.xfstage.api.device.SuperblockVerdict superblockChoice() {
        throw new UnsupportedOperationException();
    }

    @Override
    public BlockImage secondarySuperblockFromAgreed(int agno) {
        throw new UnsupportedOperationException();
    }

    @Override
    public BlockImage primarySuperblockFromAgreed() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void verify(BlockImage block) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void commit(List<BlockImage> blocks, Path journal) {
        throw new UnsupportedOperationException("strategies never write");
    }

    @Override
    public XfsDevice withPlanned(List<BlockImage> blocks) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
