package org.xfstage.strategies.inodes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;

class FinobtStrategyTest {
    private static final InodeChunk FULL = new InodeChunk(64, 0, 64, 0, 0);
    private static final InodeChunk TWO_FREE = new InodeChunk(128, 0, 64, 2, 0b11);
    private static final InodeChunk ONE_FREE = new InodeChunk(192, 0, 64, 1, 0b1);

    private final FinobtStrategy finobt = new FinobtStrategy();

    private static FakeContext context(List<Feature> features, List<InodeChunk> inobt, List<InodeChunk> fino) {
        FakeDevice device = new FakeDevice(FakeContext.info(features, 192, 3, 0, FakeContext.ag(0, 1000, 192, 3)))
                .tree(Btree.INO, 0, inobt);
        if (features.contains(Feature.FINOBT)) {
            device.tree(Btree.FINO, 0, fino);
        }
        return new FakeContext(device);
    }

    @Test
    void theInobtRecordsWithFreeInodesAreClean() throws Exception {
        FakeContext ctx = context(List.of(Feature.FINOBT), List.of(FULL, TWO_FREE, ONE_FREE), List.of(TWO_FREE, ONE_FREE));

        assertEquals(List.of(), ctx.check(finobt));
        assertTrue(ctx.stagingClosed());
    }

    @Test
    void missingExtraAndDifferingRecordsAreFoundByStartino() throws Exception {
        InodeChunk stale = TWO_FREE.withFree(64, 1, 0b1);
        FakeContext ctx = context(List.of(Feature.FINOBT), List.of(FULL, TWO_FREE, ONE_FREE), List.of(FULL, stale));

        assertEquals(List.of(
                new Finding("finobt", 0, "chunk at agino 64", "is in the finobt but the inobt has no free inode there", null),
                new Finding("finobt", 0, "chunk at agino 128", "differs from the inobt record (free mask or counts)", null),
                new Finding("finobt", 0, "chunk at agino 192", "has free inodes but is missing from the finobt", null)),
                ctx.check(finobt));
        assertTrue(ctx.stagingClosed());
    }

    @Test
    void aFilesystemWithoutFinobtIsNotChecked() throws Exception {
        assertEquals(List.of(), context(List.of(), List.of(TWO_FREE), List.of()).check(finobt));
    }

    @Test
    void theRepairRebuildsTheFinobtFromTheChunksTheInodesProveAndTheAgiWithIt() throws Exception {
        FakeContext ctx = context(List.of(Feature.FINOBT), List.of(FULL, TWO_FREE, ONE_FREE), List.of(FULL));
        ctx.device.blocks(BtreeType.FINO, 30);
        long first = ctx.device.inodeNumber(0, 64);
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first, Staged.times(64, 'u'));
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first + 64, "ff" + Staged.times(62, 'u'));
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first + 128, "f" + Staged.times(63, 'u'));
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first, Staged.times(64, 'n'));
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first + 64, ".." + Staged.times(62, 'n'));
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first + 128, "." + Staged.times(63, 'n'));

        Plan plan = finobt.plan(ctx, ctx.check(finobt));

        assertNotNull(plan);
        assertEquals(List.of(List.of(TWO_FREE, ONE_FREE)), ctx.device.loads.stream().map(FakeDevice.Load::records).toList());
        assertEquals(192L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.AGI_COUNT));
        assertEquals(3L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.AGI_FREECOUNT));
        assertTrue(ctx.stagingClosed());
    }
}
