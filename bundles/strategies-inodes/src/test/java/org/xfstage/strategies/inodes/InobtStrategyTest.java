package org.xfstage.strategies.inodes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;

class InobtStrategyTest {
    /** The first 8 inodes free. */
    private static final long FIRST_EIGHT = 0xffL;
    /** A sparse chunk: holemask bit 15, inodes 60-63 are holes (marked free, not counted). */
    private static final int LAST_FOUR_HOLES = 1 << 15;
    private static final long LAST_FOUR = 0xfL << 60;

    private final InobtStrategy inobt = new InobtStrategy();

    /** AG 1 holds the one chunk, at AG inode 64, with the inodes in {@code states} (see {@link Staged#inodes}). */
    private static FakeContext context(List<Feature> features, InodeChunk chunk, String states) throws Exception {
        FakeDevice device = new FakeDevice(FakeContext.info(features, 64, 8, 0, FakeContext.ag(0, 1000, 0, 0),
                FakeContext.ag(1, 1000, 64, 8)))
                .tree(Btree.INO, 1, List.of(chunk))
                .blocks(BtreeType.INO, 20)
                .blocks(BtreeType.FINO, 21);
        FakeContext ctx = new FakeContext(device);
        Staged.inodes(ctx.staged(Observation.INODE_MAP), device.inodeNumber(1, 64), states);
        return ctx;
    }

    private static long first() {
        return (1L << FakeDevice.AG_SHIFT) + 64;
    }

    @Test
    void aChunkThatMatchesItsInodesIsClean() throws Exception {
        FakeContext ctx = context(List.of(), new InodeChunk(64, 0, 64, 8, FIRST_EIGHT), Staged.times(8, 'f') + Staged.times(56, 'u'));

        assertEquals(List.of(), ctx.check(inobt));
        assertTrue(ctx.stagingClosed());
    }

    @Test
    void aSparseChunkWhoseHolesAreMarkedFreeIsClean() throws Exception {
        FakeContext ctx = context(List.of(), new InodeChunk(64, LAST_FOUR_HOLES, 60, 8, FIRST_EIGHT | LAST_FOUR),
                Staged.times(8, 'f') + Staged.times(52, 'u') + "----");

        assertEquals(List.of(), ctx.check(inobt));
    }

    @Test
    void aFreecountThatDisagreesWithTheFreeMaskIsFound() throws Exception {
        FakeContext ctx = context(List.of(), new InodeChunk(64, 0, 64, 10, FIRST_EIGHT), Staged.times(8, 'f') + Staged.times(56, 'u'));

        List<Finding> found = ctx.check(inobt);

        assertEquals(List.of(new Finding("inobt", 1, "chunk at inode " + first(), "freecount 10 does not match the free mask", "8")),
                found);
        assertTrue(ctx.stagingClosed());
    }

    @Test
    void aCountThatDisagreesWithTheHolemaskIsFound() throws Exception {
        FakeContext ctx = context(List.of(), new InodeChunk(64, LAST_FOUR_HOLES, 64, 8, FIRST_EIGHT | LAST_FOUR),
                Staged.times(8, 'f') + Staged.times(52, 'u') + "----");

        assertEquals(List.of(new Finding("inobt", 1, "chunk at inode " + first(), "count 64 does not match the holemask", "60")),
                ctx.check(inobt));
    }

    @Test
    void anInodeMarkedFreeButInUseIsFound() throws Exception {
        // the free mask and freecount agree, but inode 7 is in use
        FakeContext ctx = context(List.of(), new InodeChunk(64, 0, 64, 8, FIRST_EIGHT), Staged.times(7, 'f') + Staged.times(57, 'u'));

        assertEquals(List.of(new Finding("inobt", 1, "inode " + (first() + 7), "marked free but in use", "in use")), ctx.check(inobt));
    }

    @Test
    void theRepairCorrectsTheChunkFromItsInodesAndRebuildsBothTreesAndTheAgi() throws Exception {
        FakeContext ctx = context(List.of(Feature.FINOBT), new InodeChunk(64, LAST_FOUR_HOLES, 64, 10, FIRST_EIGHT),
                Staged.times(7, 'f') + Staged.times(53, 'u') + "----");

        Plan plan = inobt.plan(ctx, ctx.check(inobt));

        InodeChunk right = new InodeChunk(64, LAST_FOUR_HOLES, 60, 7, 0x7fL | LAST_FOUR);
        assertNotNull(plan);
        assertEquals(List.of("AG 1 INO into [20]", "AG 1 FINO into [21]"), ctx.device.loads.stream()
                .map(l -> "AG " + l.agno() + " " + l.type() + " into " + Arrays.toString(l.blocks())).toList());
        assertEquals(List.of(List.of(right), List.of(right)), ctx.device.loads.stream().map(FakeDevice.Load::records).toList());
        FakeDevice.HeaderUpdate agi = ctx.device.headerUpdates.get(0);
        assertEquals(HeaderKind.AGI, agi.kind());
        assertEquals(1, agi.agno());
        assertEquals(60L, agi.fields().get(HeaderField.AGI_COUNT));
        assertEquals(7L, agi.fields().get(HeaderField.AGI_FREECOUNT));
        assertEquals(20L, agi.fields().get(HeaderField.root(BtreeType.INO)));
        assertEquals(21L, agi.fields().get(HeaderField.root(BtreeType.FINO)));
        assertEquals(Set.of(new Coverage("inobt", 1), new Coverage("finobt", 1), new Coverage("agi", 1)), plan.covers());
        assertTrue(ctx.stagingClosed());
    }

    @Test
    void anUnreadableInodeLeavesTheChunkUnplanned() throws Exception {
        FakeContext ctx = context(List.of(), new InodeChunk(64, 0, 64, 10, FIRST_EIGHT), "?" + Staged.times(7, 'f') + Staged.times(56, 'u'));

        assertNull(inobt.plan(ctx, ctx.check(inobt)));
        assertTrue(ctx.stagingClosed());
    }
}
