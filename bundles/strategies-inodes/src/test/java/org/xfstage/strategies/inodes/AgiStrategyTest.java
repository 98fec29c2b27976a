package org.xfstage.strategies.inodes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.SpaceMapRecord;

class AgiStrategyTest {
    private static final long ALL_USED = 0;
    /** A full chunk whose last 4 inodes are free. */
    private static final InodeChunk FOUR_FREE = new InodeChunk(128, 0, 64, 4, 0xfL << 60);

    private final AgiStrategy agi = new AgiStrategy();

    /** Two AGs whose inobts hold one full chunk each (AG 0: 4 free inodes, AG 1: none); the AGIs say so unless told. */
    private static FakeContext twoAgs(long ag1Inodes, long ag1Free) throws Exception {
        FakeDevice device = new FakeDevice(FakeContext.info(List.of(), 128, 4, 0,
                FakeContext.ag(0, 1000, 64, 4), FakeContext.ag(1, 1000, ag1Inodes, ag1Free)))
                .tree(Btree.INO, 0, List.of(FOUR_FREE))
                .tree(Btree.INO, 1, List.of(new InodeChunk(64, 0, 64, 0, ALL_USED)));
        FakeContext ctx = new FakeContext(device);
        Staged.inodes(ctx.staged(Observation.INODE_MAP), device.inodeNumber(0, 128), Staged.times(60, 'u') + Staged.times(4, 'f'));
        Staged.inodes(ctx.staged(Observation.INODE_MAP), device.inodeNumber(1, 64), Staged.times(64, 'u'));
        return ctx;
    }

    @Test
    void agiCountersThatMatchTheInobtAreClean() throws Exception {
        assertEquals(List.of(), twoAgs(64, 0).check(agi));
    }

    @Test
    void countAndFreecountThatDifferFromTheInobtAreFoundInTheirAg() throws Exception {
        List<Finding> found = twoAgs(70, 3).check(agi);

        assertEquals(List.of(
                new Finding("agi", 1, "agi_count", "says 70 inodes", "64"),
                new Finding("agi", 1, "agi_freecount", "says 3 free inodes", "0")), found);
    }

    @Test
    void countersArePlannedFromTheInobt() throws Exception {
        FakeContext ctx = twoAgs(70, 3);

        Plan plan = agi.plan(ctx, ctx.check(agi));

        assertNotNull(plan);
        assertEquals("agi", plan.structure());
        assertEquals(List.of(new FakeDevice.HeaderUpdate(HeaderKind.AGI, 1,
                Map.of(HeaderField.AGI_COUNT, 64L, HeaderField.AGI_FREECOUNT, 0L))), ctx.device.headerUpdates);
        assertEquals(1, plan.blocks().size());
    }

    @Test
    void aBucketNamingAFreeInodeIsFoundAndPlannedEmpty() throws Exception {
        FakeContext ctx = twoAgs(64, 0);
        ctx.device.unlinked(0, 5, 128 + 62); // inode 62 of AG 0's chunk: free

        List<Finding> found = ctx.check(agi);
        Plan plan = agi.plan(ctx, found);

        long ino = ctx.device.inodeNumber(0, 190);
        assertEquals(List.of(new Finding("agi", 0, "agi_unlinked[5]", "names inode " + ino + " (free) though the log is clean",
                "empty")), found);
        assertNotNull(plan);
        assertEquals(List.of(new FakeDevice.HeaderUpdate(HeaderKind.AGI, 0, Map.of(HeaderField.AGI_COUNT, 64L,
                HeaderField.AGI_FREECOUNT, 4L, HeaderField.agiUnlinked(5), HeaderField.NULL))), ctx.device.headerUpdates);
        assertTrue(plan.changes().stream().anyMatch(c -> c.contains("agi_unlinked[5]") && c.endsWith("-> empty")), plan.changes()::toString);
    }

    @Test
    void aBucketNamingNoInodeOfAnyChunkIsPlannedEmpty() throws Exception {
        FakeContext ctx = twoAgs(64, 0);
        ctx.device.unlinked(1, 63, 4000);

        List<Finding> found = ctx.check(agi);
        Plan plan = agi.plan(ctx, found);

        assertEquals(1, found.size());
        assertEquals(1, found.get(0).agno());
        assertTrue(found.get(0).problem().contains("not an inode of any chunk"), found.get(0)::problem);
        assertNotNull(plan);
        assertEquals(HeaderField.NULL, ctx.device.headerUpdates.get(0).fields().get(HeaderField.agiUnlinked(63)));
    }

    @Test
    void aBucketNamingAnInodeInUseIsEmptiedAndTheOrphanKept() throws Exception {
        FakeContext ctx = twoAgs(64, 0);
        ctx.device.unlinked(0, 17, 128 + 3); // inode 3 of AG 0's chunk: in use, an orphan log recovery would free

        List<Finding> found = ctx.check(agi);
        Plan plan = agi.plan(ctx, found);

        long ino = ctx.device.inodeNumber(0, 131);
        assertEquals(List.of(new Finding("agi", 0, "agi_unlinked[17]", "names inode " + ino + " (in use) though the log is clean",
                "empty")), found);
        assertNotNull(plan);
        assertEquals(HeaderField.NULL, ctx.device.headerUpdates.get(0).fields().get(HeaderField.agiUnlinked(17)));
        assertTrue(plan.changes().stream().anyMatch(c -> c.contains("inode " + ino + " (in use) -> empty; the orphan is kept")),
                plan.changes()::toString);
    }

    @Test
    void aBucketNamingAnUnreadableInodeIsNotPlanned() throws Exception {
        FakeDevice device = new FakeDevice(FakeContext.info(List.of(), 64, 0, 0, FakeContext.ag(0, 1000, 64, 0)))
                .tree(Btree.INO, 0, List.of(new InodeChunk(64, 0, 64, 0, ALL_USED)))
                .unlinked(0, 0, 64);
        FakeContext ctx = new FakeContext(device);
        Staged.inodes(ctx.staged(Observation.INODE_MAP), device.inodeNumber(0, 64), "?" + Staged.times(63, 'u'));

        List<Finding> found = ctx.check(agi);

        assertTrue(found.get(0).problem().contains("(unreadable)"), found.get(0)::problem);
        assertNull(agi.plan(ctx, found));
    }

    /**
     * AG 0 of a finobt and inobtcount filesystem whose walk proved the inobt's root at block 9 and the finobt's at 10
     * (staged in the space map); a search of the AG also finds old roots that the walk did not reach (block 7, two
     * levels tall, and 8).
     */
    private static FakeContext provenRoots() throws Exception {
        FakeDevice device = new FakeDevice(FakeContext.info(List.of(Feature.FINOBT, Feature.INOBTCOUNT), 64, 4, 0,
                FakeContext.ag(0, 1000, 64, 4)))
                .tree(Btree.INO, 0, List.of(FOUR_FREE))
                .tree(Btree.FINO, 0, List.of(FOUR_FREE))
                .root(BtreeType.INO, 0, 9, 1)
                .root(BtreeType.FINO, 0, 10, 1)
                .candidates(BtreeType.INO, 0, new XfsDevice.BtreeRoot(7, 2), new XfsDevice.BtreeRoot(9, 1))
                .candidates(BtreeType.FINO, 0, new XfsDevice.BtreeRoot(8, 1), new XfsDevice.BtreeRoot(10, 1))
                .blocks(BtreeType.INO, 9)
                .blocks(BtreeType.FINO, 10);
        FakeContext ctx = new FakeContext(device);
        Staged.inodes(ctx.staged(Observation.INODE_MAP), device.inodeNumber(0, 128), Staged.times(60, 'u') + Staged.times(4, 'f'));
        SpaceMapRecord r = new SpaceMapRecord();
        r.set(0, 9, 1, SpaceUse.INOBT, 0).appendTo(ctx.staged(Observation.SPACE_MAP));
        r.set(0, 10, 1, SpaceUse.FINOBT, 0).appendTo(ctx.staged(Observation.SPACE_MAP));
        return ctx;
    }

    @Test
    void anAgiThatCannotBeDecodedIsFoundInItsAgAndNothingElseOfItIsChecked() throws Exception {
        FakeContext ctx = provenRoots();
        ctx.device.undecodableAgi(0).unlinked(0, 3, 200); // its buckets are not read: they mean nothing

        assertEquals(List.of(new Finding("agi", 0, "AGI", "AGI of AG 0: bad magic", "a header rebuilt from the AG's inodes")),
                ctx.check(agi));
    }

    @Test
    void anAgiThatCannotBeDecodedIsMadeNewFromTheInodesAndTheProvenRoots() throws Exception {
        FakeContext ctx = provenRoots();
        ctx.device.undecodableAgi(0);

        Plan plan = agi.plan(ctx, ctx.check(agi));

        assertNotNull(plan);
        assertEquals(List.of(), ctx.device.headerUpdates, "nothing is read from the old header or updated in it");
        assertEquals(List.of(new FakeDevice.NewHeader(HeaderKind.AGI, 0, Map.of(HeaderField.AGI_COUNT, 64L,
                HeaderField.AGI_FREECOUNT, 4L, HeaderField.root(BtreeType.INO), 9L, HeaderField.level(BtreeType.INO), 1L,
                HeaderField.blocks(BtreeType.INO), 1L, HeaderField.root(BtreeType.FINO), 10L, HeaderField.level(BtreeType.FINO), 1L,
                HeaderField.blocks(BtreeType.FINO), 1L))), ctx.device.newHeaders);
    }

    @Test
    void aNewAgiCountsTheInodesNotTheInobtsRecords() throws Exception {
        FakeContext ctx = provenRoots();
        ctx.device.undecodableAgi(0).tree(Btree.INO, 0, List.of(new InodeChunk(128, 0, 64, 9, 0x1ffL)));

        agi.plan(ctx, ctx.check(agi));

        assertEquals(4L, ctx.device.newHeaders.get(0).fields().get(HeaderField.AGI_FREECOUNT), "4 inodes have mode 0");
    }

    @Test
    void anAgiRootThatNamesAnotherBlockIsFoundAndPointedAtTheProvenRoot() throws Exception {
        FakeContext ctx = provenRoots();
        ctx.device.agiSays(0, HeaderField.root(BtreeType.INO), 5);

        List<Finding> found = ctx.check(agi);
        Plan plan = agi.plan(ctx, found);

        assertEquals(List.of(new Finding("agi", 0, "agi_root", "says block 5, which is not the inobt's root", "9")), found);
        assertNotNull(plan);
        assertEquals(9L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.root(BtreeType.INO)));
        assertEquals(1L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.level(BtreeType.INO)));
    }

    /** With inobtcount the AGI counts its trees' blocks: a count the trees do not hold is found and set to theirs. */
    @Test
    void treeBlockCountsThatDisagreeWithTheTreesAreFoundAndSet() throws Exception {
        FakeContext ctx = provenRoots();
        ctx.device.agiSays(0, HeaderField.blocks(BtreeType.INO), 3).agiSays(0, HeaderField.blocks(BtreeType.FINO), 0);

        List<Finding> found = ctx.check(agi);
        Plan plan = agi.plan(ctx, found);

        assertEquals(List.of(new Finding("agi", 0, "agi_iblocks", "says 3 inobt blocks", "1"),
                new Finding("agi", 0, "agi_fblocks", "says 0 finobt blocks", "1")), found);
        assertNotNull(plan);
        Map<HeaderField, Long> set = ctx.device.headerUpdates.get(0).fields();
        assertEquals(1L, set.get(HeaderField.blocks(BtreeType.INO)));
        assertEquals(1L, set.get(HeaderField.blocks(BtreeType.FINO)));
    }

    @Test
    void noNewAgiWhenNoCandidateIsARootTheWalkReached() throws Exception {
        FakeContext ctx = provenRoots();
        ctx.device.undecodableAgi(0).candidates(BtreeType.INO, 0, new XfsDevice.BtreeRoot(7, 2));

        assertNull(agi.plan(ctx, ctx.check(agi)));
        assertEquals(List.of(), ctx.device.newHeaders);
    }
}
