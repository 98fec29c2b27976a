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
        // the record's count does not agree with its holes, so the inodes in use must be named to be proven there
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first(), Staged.times(7, '.') + Staged.times(53, 'n') + "....");

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

    /** A chunk of AG 1 at AG inode {@code startino}, its inodes as {@link FakeDevice#inodes} finds them on disk. */
    private static FakeContext onDisk(List<Feature> features, List<InodeChunk> inobt, long startino, String inodes) {
        FakeDevice device = new FakeDevice(FakeContext.info(features, 64, 8, 0, FakeContext.ag(0, 1000, 0, 0),
                FakeContext.ag(1, 1000, 64, 8)))
                .tree(Btree.INO, 1, inobt)
                .blocks(BtreeType.INO, 20)
                .blocks(BtreeType.FINO, 21)
                .inodes((1L << FakeDevice.AG_SHIFT) + startino, inodes);
        return new FakeContext(device);
    }

    @Test
    void aChunkTheInobtLostComesBackFromTheInodesTheDirectoryTreeNames() throws Exception {
        // the inobt of AG 1 is empty: its record was lost; the directory tree names inodes of the chunk at 64
        FakeContext ctx = onDisk(List.of(), List.of(), 64, Staged.times(8, 'f') + Staged.times(56, 'u'));
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first(), Staged.times(8, '.') + Staged.times(56, 'n'));

        List<Finding> found = ctx.check(inobt);
        assertEquals(1, found.size(), found.toString());
        assertEquals("chunk at inode " + first(), found.get(0).location());
        assertTrue(found.get(0).problem().startsWith("missing from the inobt, but its inodes are there"), found.get(0).problem());

        Plan plan = inobt.plan(ctx, found);
        assertNotNull(plan);
        assertEquals(List.of(List.of(new InodeChunk(64, 0, 64, 8, FIRST_EIGHT))), ctx.device.loads.stream().map(FakeDevice.Load::records).toList());
        assertEquals(64L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.AGI_COUNT));
        // the walk followed the damaged tree: what it found in free space and the counters is this plan's to put right
        assertTrue(plan.covers().containsAll(Set.of(new Coverage("bnobt", 1), new Coverage("rmapbt", 1), new Coverage("inode", 1),
                new Coverage("sb-counters", -1))), plan.covers().toString());
        assertTrue(ctx.stagingClosed());
    }

    @Test
    void aHolemaskThatHidesNamedInodesGetsTheHolesTheInodesShow() throws Exception {
        // the record agrees with itself (count 60 for one hole bit), but the directory tree names inode 62, in the hole
        FakeContext ctx = onDisk(List.of(), List.of(new InodeChunk(64, LAST_FOUR_HOLES, 60, 8, FIRST_EIGHT | LAST_FOUR)), 64,
                Staged.times(8, 'f') + Staged.times(56, 'u'));
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first(), Staged.times(8, 'f') + Staged.times(52, 'u') + "----");
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first(), Staged.times(8, '.') + Staged.times(54, 'n') + "n.");

        List<Finding> found = ctx.check(inobt);
        assertEquals(List.of("holemask 0x8000 does not match the inodes"), found.stream().map(f -> f.problem().split(":")[0]).toList());
        assertEquals("0x0", found.get(0).expected());

        assertNotNull(inobt.plan(ctx, found));
        assertEquals(List.of(List.of(new InodeChunk(64, 0, 64, 8, FIRST_EIGHT))), ctx.device.loads.stream().map(FakeDevice.Load::records).toList());
    }

    @Test
    void aHoleWhoseBlocksAreFreeStaysAHoleThoughItsOldInodesStillDecode() throws Exception {
        // the holemask was cleared (the count still says 60): the walk read inodes 124-127, but their block (31) is
        // free in the bnobt and no directory names them: stale inodes of a hole, not a part of the chunk
        FakeContext ctx = onDisk(List.of(), List.of(new InodeChunk(64, 0, 60, 12, FIRST_EIGHT | LAST_FOUR)), 64, "");
        ctx.device.tree(Btree.BNO, 1, List.of(new org.xfstage.api.device.FreeExtent(31, 100)));
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first(), Staged.times(8, 'f') + Staged.times(52, 'u') + "ffff");
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first(), Staged.times(8, '.') + Staged.times(52, 'n') + "....");

        List<Finding> found = ctx.check(inobt);
        assertTrue(found.stream().anyMatch(f -> f.problem().startsWith("holemask 0x0 does not match the inodes") && "0x8000".equals(f.expected())),
                found.toString());

        assertNotNull(inobt.plan(ctx, found));
        assertEquals(List.of(List.of(new InodeChunk(64, LAST_FOUR_HOLES, 60, 8, FIRST_EIGHT | LAST_FOUR))),
                ctx.device.loads.stream().map(FakeDevice.Load::records).toList());
    }

    @Test
    void aRecordWhereNoInodeDecodesIsDropped() throws Exception {
        InodeChunk real = new InodeChunk(64, 0, 64, 8, FIRST_EIGHT);
        InodeChunk bogus = new InodeChunk(128, 0, 64, 0, 0);
        FakeContext ctx = onDisk(List.of(), List.of(real, bogus), 64, Staged.times(8, 'f') + Staged.times(56, 'u'));
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first(), Staged.times(8, 'f') + Staged.times(56, 'u'));
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first() + 64, Staged.times(64, '?'));
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first(), Staged.times(8, '.') + Staged.times(56, 'n'));

        List<Finding> found = ctx.check(inobt);
        assertEquals(1, found.size(), found.toString());
        assertEquals("chunk at inode " + (first() + 64), found.get(0).location());
        assertEquals("no record", found.get(0).expected());

        assertNotNull(inobt.plan(ctx, found));
        assertEquals(List.of(List.of(real)), ctx.device.loads.stream().map(FakeDevice.Load::records).toList());
    }

    @Test
    void whenANamedInodeOfAHiddenPartDoesNotDecodeNothingIsPlanned() throws Exception {
        // the hole hides inode 62, which a directory names but which does not decode: free or not cannot be told
        FakeContext ctx = onDisk(List.of(), List.of(new InodeChunk(64, LAST_FOUR_HOLES, 64, 8, FIRST_EIGHT | LAST_FOUR)), 64,
                Staged.times(8, 'f') + Staged.times(54, 'u') + "-u");
        Staged.inodes(ctx.staged(Observation.INODE_MAP), first(), Staged.times(8, 'f') + Staged.times(52, 'u') + "----");
        Staged.named(ctx.staged(Observation.LINK_COUNTS), first(), Staged.times(8, '.') + Staged.times(56, 'n'));

        List<Finding> found = ctx.check(inobt);
        assertEquals(List.of("count 64 does not match the holemask"), found.stream().map(Finding::problem).toList(),
                "the evidence conflicts: nothing is said of the chunk's place");
        assertNull(inobt.plan(ctx, found));
        assertTrue(ctx.device.loads.isEmpty());
        assertTrue(ctx.stagingClosed());
    }

    @Test
    void theRmapbtProvesAPartWhoseInodesAreInUseButNamedByNoDirectory() throws Exception {
        // inodes 60-63 in use, named by no directory (as the realtime bitmap's inode is), hidden by a holemask
        InodeChunk hiding = new InodeChunk(64, LAST_FOUR_HOLES, 60, 8, FIRST_EIGHT | LAST_FOUR);
        String disk = Staged.times(8, 'f') + Staged.times(56, 'u');
        String named = Staged.times(8, '.') + Staged.times(52, 'n') + "....";
        FakeContext without = onDisk(List.of(), List.of(hiding), 64, disk);
        Staged.inodes(without.staged(Observation.INODE_MAP), first(), Staged.times(8, 'f') + Staged.times(52, 'u') + "----");
        Staged.named(without.staged(Observation.LINK_COUNTS), first(), named);
        assertEquals(List.of(), without.check(inobt), "without an rmapbt nothing proves them: nothing is said");

        FakeContext with = onDisk(List.of(Feature.RMAPBT), List.of(hiding), 64, disk);
        with.device.tree(Btree.RMAP, 1, List.of(new org.xfstage.api.device.ReverseMapping(16, 16,
                org.xfstage.api.device.MetadataOwner.INODES.code(), 0, false, false, false)));
        Staged.inodes(with.staged(Observation.INODE_MAP), first(), Staged.times(8, 'f') + Staged.times(52, 'u') + "----");
        Staged.named(with.staged(Observation.LINK_COUNTS), first(), named);
        List<Finding> found = with.check(inobt);
        assertEquals(List.of("0x0"), found.stream().map(Finding::expected).toList(), found.toString());
        assertNotNull(inobt.plan(with, found));
        assertEquals(List.of(List.of(new InodeChunk(64, 0, 64, 8, FIRST_EIGHT))), with.device.loads.stream().map(FakeDevice.Load::records).toList());
    }
}
