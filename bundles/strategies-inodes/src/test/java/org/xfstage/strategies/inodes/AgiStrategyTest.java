package org.xfstage.strategies.inodes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;

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
    void aBucketNamingAnInodeInUseIsFoundButNotPlanned() throws Exception {
        FakeContext ctx = twoAgs(64, 0);
        ctx.device.unlinked(0, 17, 128 + 3); // inode 3 of AG 0's chunk: in use, an orphan to free

        List<Finding> found = ctx.check(agi);
        Plan plan = agi.plan(ctx, found);

        long ino = ctx.device.inodeNumber(0, 131);
        assertEquals(List.of(new Finding("agi", 0, "agi_unlinked[17]", "names inode " + ino + " (in use) though the log is clean",
                "empty")), found);
        assertNull(plan);
        assertEquals(List.of(), ctx.device.headerUpdates);
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
}
