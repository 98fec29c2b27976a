package org.xfstage.strategies.space;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfArrayInfo;

/**
 * A scrub as the engine would hand it to a strategy, for tests: a {@link FakeDevice}, the filesystem's figures, and
 * observations staged on the heap as the engine stages them (sorted in their api order). The strategies' own arrays
 * come from {@link #arrays}, apart from the observations', so a test sees whether they were all closed.
 */
final class FakeContext implements ScrubContext {
    final FakeDevice device = new FakeDevice();
    final MemoryArrays arrays = new MemoryArrays();
    private final MemoryArrays observations = new MemoryArrays();
    private final Map<Observation, XfArray> staged = new EnumMap<>(Observation.class);
    private final List<Feature> features;
    private final List<FsInfo.AgInfo> ags;

    /** What {@link #allocate} gives, in order (null: nothing, as a context that cannot allocate); what it was asked. */
    java.util.Deque<Long> free = null;
    final List<String> asked = new ArrayList<>();

    @Override
    public List<org.xfstage.api.device.FreeExtent> allocate(int agno, long count) {
        asked.add(agno + ":" + count);
        if (free == null || free.size() < count) {
            return null;
        }
        List<org.xfstage.api.device.FreeExtent> out = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            out.add(new org.xfstage.api.device.FreeExtent(free.poll(), 1));
        }
        return out;
    }

    /** A filesystem of {@code ags} with these optional features (crc is always on). */
    FakeContext(List<Feature> features, FsInfo.AgInfo... ags) {
        this.features = features;
        this.ags = List.of(ags);
    }

    /** An AG whose AGF says {@code freeBlocks} free, the longest {@code longest}, and no btree blocks past the roots. */
    static FsInfo.AgInfo ag(int agno, long length, long freeBlocks, long longest) {
        return agf(agno, length, freeBlocks, longest, 0, 0, 0);
    }

    /** An AG with all the AGF counters the agf strategy checks. */
    static FsInfo.AgInfo agf(int agno, long length, long freeBlocks, long longest, long btreeBlocks, long rmapBlocks,
            long refcountBlocks) {
        return new FsInfo.AgInfo(agno, length, freeBlocks, longest, 0, 0, 0, btreeBlocks, rmapBlocks, refcountBlocks);
    }

    /** Stages a space map record (any order: sorted as the engine sorts it). */
    FakeContext used(int agno, long agbno, long length, SpaceUse use) {
        return used(agno, agbno, length, use, 0);
    }

    /** Stages a file's blocks (or, with a metadata use, ignores {@code ino}). */
    FakeContext used(int agno, long agbno, long length, SpaceUse use, long ino) {
        try {
            new SpaceMapRecord().set(agno, agbno, length, use, ino).appendTo(stage(Observation.SPACE_MAP));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return this;
    }

    /** Stages an inode of the inode map. */
    private XfArray walked;

    /**
     * The inodes' mappings staged as the engine's walk stages them (Observation.FILE_MAPPINGS, sorted in tree order),
     * taken from the fake device, which then has none left to read.
     */
    FakeContext walkedMappings() throws Exception {
        walked = observations.create("FILE_MAPPINGS", org.xfstage.api.repair.MappingRecord.SIZE);
        org.xfstage.api.repair.MappingRecord r = new org.xfstage.api.repair.MappingRecord();
        for (var inode : device.takeMappings().values()) {
            for (var m : inode) {
                r.set(m.getKey(), m.getValue()).appendTo(walked);
            }
        }
        walked.sort(org.xfstage.api.repair.MappingRecord.ORDER, SortOptions.SEQUENTIAL, Progress.NONE); // as the engine does
        return this;
    }

    FakeContext inode(long ino, InodeMapRecord.State state) {
        try {
            new InodeMapRecord().set(ino, state).appendTo(stage(Observation.INODE_MAP));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return this;
    }

    /** Runs a strategy's check on this scrub and returns what it found. */
    List<Finding> check(RepairStrategy strategy) throws Exception {
        List<Finding> found = new ArrayList<>();
        Consumer<Finding> sink = found::add;
        strategy.check(this, sink);
        return found;
    }

    @Override
    public XfsDevice device() {
        return device;
    }

    @Override
    public FsInfo info() {
        List<String> names = new ArrayList<>(List.of(Feature.CRC.mkfsName()));
        features.forEach(f -> names.add(f.mkfsName()));
        long blocks = ags.stream().mapToLong(FsInfo.AgInfo::length).sum();
        return new FsInfo("00000000-0000-0000-0000-000000000001", "", 4096, 512, 512, ags.size(), ags.get(0).length(), blocks,
                4096, 0, 0, 0, 0, 25, names, 0, 0, 0, ags);
    }

    /** An observation sorted as the engine hands it out (in the order of its record type). */
    @Override
    public XfArray observation(Observation o) {
        if (o == Observation.RMAPBT_RECORDS) {
            return null; // not staged: the strategies walk the rmapbt themselves
        }
        if (o == Observation.FILE_MAPPINGS) {
            return walked; // unless staged by walkedMappings(), the rmapbt strategy reads the inodes' mappings from the device
        }
        XfArray a = stage(o);
        try {
            a.sort(o == Observation.SPACE_MAP ? SpaceMapRecord.ORDER : InodeMapRecord.ORDER, SortOptions.SEQUENTIAL, Progress.NONE);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return a;
    }

    private XfArray stage(Observation o) {
        return staged.computeIfAbsent(o, x -> {
            try {
                return observations.create(x.name(), switch (x) {
                    case SPACE_MAP -> SpaceMapRecord.SIZE;
                    case INODE_MAP -> InodeMapRecord.SIZE;
                    case LINK_COUNTS, INODE_PROBLEMS, DIRECTORY_WALK, FILE_MAPPINGS, RMAPBT_RECORDS -> throw new UnsupportedOperationException("no strategy of this bundle needs " + x);
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Override
    public XfArrayFactory arrays() {
        return arrays;
    }

    @Override
    public org.xfstage.api.staging.XfBlobFactory blobs() {
        throw new UnsupportedOperationException("no blob staging in this fake");
    }

    @Override
    public Progress progress() {
        return Progress.NONE;
    }

    /** The names of the strategy's arrays still open. */
    List<String> openArrays() {
        return arrays.liveArrays().stream().map(XfArrayInfo::name).toList();
    }
}
