package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.Progress;

/** A scrub context over a {@link FakeDevice}, with observations staged by the test through the api's flyweights. */
final class FakeContext implements ScrubContext {
    final FakeDevice device;
    final FakeArrays arrays = new FakeArrays();
    private final Map<Observation, FakeXfArray> observations = new EnumMap<>(Observation.class);

    FakeContext(FakeDevice device) {
        this.device = device;
        for (Observation o : Observation.values()) {
            int size = switch (o) {
                case SPACE_MAP -> SpaceMapRecord.SIZE;
                case INODE_MAP -> InodeMapRecord.SIZE;
                case LINK_COUNTS -> LinkCountRecord.SIZE;
                case INODE_PROBLEMS -> org.xfstage.api.repair.InodeProblemRecord.SIZE;
                case DIRECTORY_WALK -> org.xfstage.api.repair.DirectoryWalkRecord.SIZE;
                case FILE_MAPPINGS, RMAPBT_RECORDS -> org.xfstage.api.repair.MappingRecord.SIZE;
            };
            observations.put(o, new FakeXfArray(o.name().toLowerCase(), size));
        }
    }

    /**
     * The figures of a filesystem of equal AGs: {@code ags} give each AG's length, inode count and free inode count
     * (the AGI's), the superblock counters are icount, ifree and fdblocks.
     */
    static FsInfo info(List<Feature> features, long icount, long ifree, long fdblocks, FsInfo.AgInfo... ags) {
        long agBlocks = ags.length == 0 ? 0 : ags[0].length();
        return new FsInfo("00000000-0000-0000-0000-000000000000", "", 4096, 512, 512, ags.length, agBlocks,
                Arrays.stream(ags).mapToLong(FsInfo.AgInfo::length).sum(), 4096, 0, 0, 0, 0, 25,
                Stream.concat(Stream.of(Feature.CRC), features.stream()).map(Feature::mkfsName).toList(), icount, ifree, fdblocks,
                List.of(ags));
    }

    /** An AG of {@code length} blocks whose AGI says {@code inodes} and {@code freeInodes}. */
    static FsInfo.AgInfo ag(int agno, long length, long inodes, long freeInodes) {
        return new FsInfo.AgInfo(agno, length, 0, 0, inodes, freeInodes, 0, 0, 0, 0);
    }

    /** The staged observation, for the test to fill (in the engine's sorted order) or inspect. */
    FakeXfArray staged(Observation o) {
        return observations.get(o);
    }

    /** What {@code strategy.check} finds. */
    List<Finding> check(RepairStrategy strategy) throws Exception {
        List<Finding> out = new ArrayList<>();
        strategy.check(this, out::add);
        return out;
    }

    /** Whether every array the strategy made for itself was closed. */
    boolean stagingClosed() {
        return arrays.liveArrays().isEmpty();
    }

    @Override
    public FakeDevice device() {
        return device;
    }

    @Override
    public FsInfo info() {
        return device.info();
    }

    @Override
    public FakeXfArray observation(Observation o) {
        return observations.get(o);
    }

    @Override
    public FakeArrays arrays() {
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
}
