package org.xfstage.strategies.space;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.device.SuperblockVerdict;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.staging.Progress;

/**
 * A filesystem for tests, told what its btrees hold and which blocks they take, with no image behind it: what the
 * space strategies read of a device. What they would write is recorded ({@link #headerUpdates}, {@link #bulkLoads},
 * {@link #agfls}, {@link #secondaryRewrites}, {@link #primaryRewrites}) and handed back as tagged block images. Everything else throws.
 */
final class FakeDevice implements XfsDevice {
    /** One call of {@link #updateHeader}. */
    record HeaderUpdate(HeaderKind kind, int agno, Map<HeaderField, Long> fields) {
    }

    /** One call of {@link #bulkLoad}: the records read, in order, and the blocks given. */
    record Load(int agno, BtreeType type, List<Object> records, List<Long> blocks) {
    }

    /** One call of {@link #newHeader}. */
    record NewHeader(HeaderKind kind, int agno, Map<HeaderField, Long> fields) {
    }

    private final Map<String, BtreeRoot> roots = new HashMap<>();
    private final Map<String, List<BtreeRoot>> candidates = new HashMap<>();
    private final Map<Integer, Map<HeaderField, Long>> agfSays = new HashMap<>();
    private final java.util.Set<Integer> undecodable = new java.util.HashSet<>();
    final List<NewHeader> newHeaders = new ArrayList<>();
    private final Map<BtreeType, Map<Integer, List<?>>> records = new HashMap<>();
    private final Map<BtreeType, Map<Integer, long[]>> blocks = new HashMap<>();
    private final Map<Long, List<Map.Entry<Integer, ReverseMapping>>> mappings = new HashMap<>();

    /** Hands the inodes' mappings over (by inode, in order) and forgets them: a later read of an inode finds none. */
    Map<Long, List<Map.Entry<Integer, ReverseMapping>>> takeMappings() {
        Map<Long, List<Map.Entry<Integer, ReverseMapping>>> m = new java.util.TreeMap<>(mappings);
        mappings.clear();
        return m;
    }
    private final Map<Integer, Map<HeaderField, Long>> superblocks = new HashMap<>();
    int minFreelist = 3;
    long maxRefcountLength = (1L << 21) - 1;

    final List<HeaderUpdate> headerUpdates = new ArrayList<>();
    final List<Load> bulkLoads = new ArrayList<>();
    final Map<Integer, long[]> agfls = new HashMap<>();
    final List<Integer> secondaryRewrites = new ArrayList<>();
    int primaryRewrites;
    private SuperblockVerdict verdict;

    /** The leaf records of a tree of an AG, in tree order. */
    <R> FakeDevice tree(int agno, Btree<R> tree, List<R> leaves) {
        records.computeIfAbsent(tree.type(), t -> new HashMap<>()).put(agno, List.copyOf(leaves));
        return this;
    }

    /** The blocks of a tree of an AG (one block, 1000 + type, unless told). */
    FakeDevice blocks(int agno, BtreeType type, long... agbnos) {
        blocks.computeIfAbsent(type, t -> new HashMap<>()).put(agno, agbnos.clone());
        return this;
    }

    /** A reverse mapping of an inode's. */
    FakeDevice mapping(long ino, int agno, ReverseMapping m) {
        mappings.computeIfAbsent(ino, i -> new ArrayList<>()).add(Map.entry(agno, m));
        return this;
    }

    /** The identity fields of the superblock copy of an AG (0: the primary). */
    FakeDevice superblock(int agno, Map<HeaderField, Long> identity) {
        superblocks.put(agno, Map.copyOf(identity));
        return this;
    }

    /** The root walks of the tree start from in AG {@code agno} (else its first block, one level). */
    FakeDevice root(int agno, BtreeType type, long block, int levels) {
        roots.put(type + "/" + agno, new BtreeRoot(block, levels));
        return this;
    }

    /** What a search of AG {@code agno} finds that looks like the tree's root (else the root walks start from). */
    FakeDevice candidates(int agno, BtreeType type, BtreeRoot... found) {
        candidates.put(type + "/" + agno, List.of(found));
        return this;
    }

    /** A field of the AGF of AG {@code agno} that says something else than the trees (its roots say theirs unless told). */
    FakeDevice agfSays(int agno, HeaderField field, long value) {
        agfSays.computeIfAbsent(agno, a -> new HashMap<>()).put(field, value);
        return this;
    }

    /** The AGF of AG {@code agno} cannot be decoded. */
    FakeDevice undecodableAgf(int agno) {
        undecodable.add(agno);
        return this;
    }

    @Override
    public BtreeRoot btreeRoot(int agno, BtreeType type) {
        return roots.getOrDefault(type + "/" + agno, new BtreeRoot(btreeBlocks(agno, type)[0], 1));
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
    public long[] btreeBlocks(int agno, BtreeType type) {
        return blocks.getOrDefault(type, Map.of()).getOrDefault(agno, new long[] {1000 + type.ordinal()}).clone();
    }

    @Override
    public <R> long walkBtree(int agno, Btree<R> tree, Consumer<? super R> sink) {
        @SuppressWarnings("unchecked")
        List<R> leaves = (List<R>) records.getOrDefault(tree.type(), Map.of()).getOrDefault(agno, List.of());
        leaves.forEach(sink);
        return btreeBlocks(agno, tree.type()).length;
    }

    @Override
    public <R> long walkBtree(int agno, Btree<R> tree, Consumer<? super R> sink, LongConsumer blockSink) {
        for (long b : btreeBlocks(agno, tree.type())) {
            blockSink.accept(b);
        }
        return walkBtree(agno, tree, sink);
    }

    @Override
    public boolean inodeMappings(long ino, MappingSink sink) {
        List<Map.Entry<Integer, ReverseMapping>> m = mappings.get(ino);
        if (m == null) {
            return false;
        }
        m.forEach(e -> sink.mapping(e.getKey(), e.getValue()));
        return true;
    }

    @Override
    public BlockImage updateHeader(HeaderKind kind, int agno, Map<HeaderField, Long> counters) {
        headerUpdates.add(new HeaderUpdate(kind, agno, Map.copyOf(counters)));
        return new BlockImage(agno, new byte[0], kind + " of AG " + agno);
    }

    @Override
    public BlockImage rebuildAgfl(int agno, long[] agfl) {
        agfls.put(agno, agfl.clone());
        return new BlockImage(agno, new byte[0], "AGFL of AG " + agno);
    }

    @Override
    public Map<HeaderField, Long> superblockIdentity(int agno) throws XfsException {
        Map<HeaderField, Long> sb = superblocks.get(agno);
        if (sb == null) {
            throw new XfsException("no superblock in AG " + agno);
        }
        return sb;
    }

    /**
     * What the vote decided: the primary trusted (the default), or the copy of an AG agreed on (then
     * {@link #agreedSuperblockIdentity} is that AG's superblock).
     */
    FakeDevice verdict(SuperblockVerdict v) {
        verdict = v;
        return this;
    }

    @Override
    public SuperblockVerdict superblockChoice() {
        return verdict != null ? verdict : new SuperblockVerdict(List.of(), List.of(), superblocks.size() - 1, superblocks.size() - 1,
                superblocks.size() - 1, 0, Map.of());
    }

    @Override
    public Map<HeaderField, Long> agreedSuperblockIdentity() {
        return superblocks.get(superblockChoice().sourceAg());
    }

    @Override
    public BlockImage secondarySuperblockFromPrimary(int agno) throws XfsException {
        if (!superblockChoice().primaryTrusted()) {
            throw new XfsFormatException("the primary is not trusted");
        }
        return secondarySuperblockFromAgreed(agno);
    }

    @Override
    public BlockImage secondarySuperblockFromAgreed(int agno) {
        secondaryRewrites.add(agno);
        return new BlockImage(agno, new byte[0], "superblock of AG " + agno);
    }

    @Override
    public BlockImage primarySuperblockFromAgreed() throws XfsException {
        if (superblockChoice().primaryTrusted()) {
            throw new XfsFormatException("the primary is trusted");
        }
        primaryRewrites++;
        return new BlockImage(0, new byte[0], "primary superblock");
    }

    @Override
    public int minFreelist(int bnoLevels, int cntLevels, int rmapLevels) {
        return minFreelist;
    }

    @Override
    public long maxRefcountLength() {
        return maxRefcountLength;
    }

    @Override
    public long maxExtentLength() {
        return (1L << 21) - 1;
    }

    /** One block holds up to 100 records. */
    @Override
    public int btreeBlocksNeeded(BtreeType type, long n) {
        return (int) Math.max(1, (n + 99) / 100);
    }

    @Override
    public boolean btreeFits(BtreeType type, long n, int count) {
        return count >= btreeBlocksNeeded(type, n) && count <= Math.max(1, (n + 49) / 50);
    }

    /** A tree of one level per block given (the root last), its records recorded. */
    @Override
    public <R> BulkLoad bulkLoad(int agno, Btree<R> tree, long count, Iterator<? extends R> leaves, long[] where) {
        List<Object> read = new ArrayList<>();
        while (read.size() < count) {
            read.add(leaves.next());
        }
        bulkLoads.add(new Load(agno, tree.type(), read, java.util.Arrays.stream(where).boxed().toList()));
        List<BlockImage> images = new ArrayList<>();
        for (long b : where) {
            images.add(new BlockImage(b, new byte[0], tree + " block " + b + " of AG " + agno));
        }
        return new BulkLoad(images, where[where.length - 1], where.length);
    }

    @Override
    public String source() {
        return "fake";
    }

    @Override
    public FsInfo info() {
        throw new UnsupportedOperationException("the strategies read the context's info");
    }

    @Override
    public void manifest(boolean checksums, Progress progress, Consumer<ManifestEntry> sink) {
        throw new UnsupportedOperationException();
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
    public long inodeNumber(int agno, long agino) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int inodesPerBlock() {
        throw new UnsupportedOperationException();
    }

    /** The AGF's tree fields: the roots walks start from, unless the test says otherwise. */
    @Override
    public org.xfstage.api.device.InodeChunkGeometry inodeChunkGeometry() {
        throw new UnsupportedOperationException();
    }

    @Override
    public org.xfstage.api.device.InodeProbe probeInode(long ino) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Map<HeaderField, Long> header(HeaderKind kind, int agno) throws XfsFormatException {
        if (kind != HeaderKind.AGF) {
            throw new UnsupportedOperationException("the space strategies read only the AGF");
        }
        if (undecodable.contains(agno)) {
            throw new XfsFormatException("AGF of AG " + agno + ": bad magic", "agf");
        }
        Map<HeaderField, Long> out = new HashMap<>();
        for (BtreeType t : List.of(BtreeType.BNO, BtreeType.CNT, BtreeType.RMAP, BtreeType.REFCOUNT)) {
            out.put(HeaderField.root(t), btreeRoot(agno, t).block());
            out.put(HeaderField.level(t), (long) btreeRoot(agno, t).levels());
        }
        out.putAll(agfSays.getOrDefault(agno, Map.of()));
        return out;
    }

    @Override
    public Map<Integer, Long> unlinkedBuckets(int agno) {
        throw new UnsupportedOperationException();
    }

    @Override
    public BlockImage updateInode(long ino, Map<InodeField, Long> fields) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void verify(BlockImage block) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void commit(List<BlockImage> images, Path journal) {
        throw new UnsupportedOperationException("strategies never write");
    }

    @Override
    public XfsDevice withPlanned(List<BlockImage> images) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
