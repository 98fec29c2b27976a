package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;

class FreeSpaceRebuildTest {

    /**
     * AG 0 of 100 blocks without rmapbt: headers 0-3, the AGFL 4 and 5, the old bnobt 6 and cntbt 7, inobt 8, inode
     * 131's data 40-94. Free, the old trees given back: 4-7, 9-39, 95-99.
     */
    private static FakeContext ag0() {
        return new FakeContext(List.of(), ag(0, 100, 12, 7)).used(0, 0, 4, SpaceUse.HEADERS).used(0, 4, 1, SpaceUse.AGFL)
                .used(0, 5, 1, SpaceUse.AGFL).used(0, 6, 1, SpaceUse.BNOBT).used(0, 7, 1, SpaceUse.CNTBT).used(0, 8, 1, SpaceUse.INOBT)
                .used(0, 40, 55, SpaceUse.FILE_DATA, 131);
    }

    @Test
    void bnobtRebuildKeepsTheAgflRefillsItToTheMinimumAndLoadsTheRestInBothOrders() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.minFreelist = 3;

        Plan plan = new BnobtStrategy().plan(ctx, List.of(new Finding("bnobt", 0, "blocks 9-39", "free space missing from the bnobt", null)));

        // the AGFL keeps 4 and 5 and takes 6; the new trees take 7 and 9 from the front of what is left
        assertEquals(List.of(4L, 5L, 6L), java.util.Arrays.stream(ctx.device.agfls.get(0)).boxed().toList());
        assertEquals(List.of(new FakeDevice.Load(0, BtreeType.BNO, List.of(new FreeExtent(10, 30), new FreeExtent(95, 5)), List.of(7L)),
                new FakeDevice.Load(0, BtreeType.CNT, List.of(new FreeExtent(95, 5), new FreeExtent(10, 30)), List.of(9L))),
                ctx.device.bulkLoads);
        assertEquals(List.of(new FakeDevice.HeaderUpdate(HeaderKind.AGF, 0, Map.of(HeaderField.root(BtreeType.BNO), 7L,
                HeaderField.level(BtreeType.BNO), 1L, HeaderField.root(BtreeType.CNT), 9L, HeaderField.level(BtreeType.CNT), 1L,
                HeaderField.AGF_FREEBLKS, 35L, HeaderField.AGF_LONGEST, 30L, HeaderField.AGF_BTREEBLKS, 0L, HeaderField.AGF_FLFIRST, 0L,
                HeaderField.AGF_FLLAST, 2L, HeaderField.AGF_FLCOUNT, 3L))), ctx.device.headerUpdates);
        assertEquals("bnobt", plan.structure());
        assertEquals(List.of("AG 0: bnobt and cntbt rebuilt from the space map: 2 free extents, 35 free blocks (was 12), 2 btree blocks; "
                + "AGFL 2 of 2 blocks kept, 1 added"), plan.changes());
    }

    @Test
    void theAgflGrowsToWhatTheDeviceSaysTheTreesNeed() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.minFreelist = 5;

        new BnobtStrategy().plan(ctx, List.of(new Finding("bnobt", 0, "blocks 9-39", "free space missing from the bnobt", null)));

        assertEquals(List.of(4L, 5L, 6L, 7L, 9L), java.util.Arrays.stream(ctx.device.agfls.get(0)).boxed().toList());
    }

    @Test
    void theRebuildCoversTheFreeSpaceStructuresOfItsAgAndThoseOfNoAg() throws Exception {
        FakeContext ctx = ag0();

        Plan plan = new CntbtStrategy().plan(ctx, List.of(new Finding("cntbt", 0, "blocks 9-39", "missing", null)));

        for (String s : List.of("bnobt", "cntbt", "agf", "agfl")) {
            assertTrue(plan.covers().contains(new Coverage(s, 0)), s + " of AG 0");
            assertTrue(plan.covers().contains(new Coverage(s, -1)), s + " of no AG");
        }
        assertTrue(plan.puts(new Finding("agf", 0, "agf_longest", "says 7", "30")));
    }

    /**
     * As {@link #ag0()} on a reflink filesystem whose AGF cannot be decoded: the refcountbt's root is block 9, as the walk
     * proved; a search also finds an old refcountbt root two levels tall at block 30, which the walk did not reach.
     */
    private static FakeContext ag0WithoutAnAgf() {
        FakeContext ctx = new FakeContext(List.of(Feature.REFLINK), ag(0, 100, 12, 7)).used(0, 0, 4, SpaceUse.HEADERS)
                .used(0, 4, 1, SpaceUse.AGFL).used(0, 5, 1, SpaceUse.AGFL).used(0, 6, 1, SpaceUse.BNOBT).used(0, 7, 1, SpaceUse.CNTBT)
                .used(0, 8, 1, SpaceUse.INOBT).used(0, 9, 1, SpaceUse.REFCOUNTBT).used(0, 40, 55, SpaceUse.FILE_DATA, 131);
        ctx.device.undecodableAgf(0).blocks(0, BtreeType.REFCOUNT, 9)
                .candidates(0, BtreeType.REFCOUNT, new XfsDevice.BtreeRoot(30, 2), new XfsDevice.BtreeRoot(9, 1)).minFreelist = 3;
        return ctx;
    }

    @Test
    void anAgfThatCannotBeDecodedIsMadeNewAroundTheRebuiltTreesTheAgflAndTheProvenRefcountRoot() throws Exception {
        FakeContext ctx = ag0WithoutAnAgf();

        Plan plan = new AgfStrategy().plan(ctx, ctx.check(new AgfStrategy()));

        assertEquals(List.of(), ctx.device.headerUpdates, "nothing is updated in the old header");
        assertEquals(1, ctx.device.newHeaders.size());
        Map<HeaderField, Long> made = ctx.device.newHeaders.get(0).fields();
        assertEquals(HeaderKind.AGF, ctx.device.newHeaders.get(0).kind());
        assertEquals(9L, made.get(HeaderField.root(BtreeType.REFCOUNT)));
        assertEquals(1L, made.get(HeaderField.level(BtreeType.REFCOUNT)));
        assertEquals(1L, made.get(HeaderField.blocks(BtreeType.REFCOUNT)));
        assertEquals(List.of(4L, 5L, 6L), java.util.Arrays.stream(ctx.device.agfls.get(0)).boxed().toList());
        assertEquals(List.of(0L, 2L, 3L), List.of(made.get(HeaderField.AGF_FLFIRST), made.get(HeaderField.AGF_FLLAST),
                made.get(HeaderField.AGF_FLCOUNT)));
        assertEquals(34L, made.get(HeaderField.AGF_FREEBLKS), "the space map's free blocks less the AGFL's and the new trees'");
        for (String s : List.of("bnobt", "cntbt", "agf", "agfl")) {
            assertTrue(plan.covers().contains(new Coverage(s, 0)), s + " of AG 0");
        }
        assertTrue(plan.changes().get(0).startsWith("AG 0: AGF made new;"), plan.changes()::toString);
    }

    @Test
    void noNewAgfWhenTheRefcountRootIsProvenNowhere() throws Exception {
        FakeContext ctx = ag0WithoutAnAgf();
        ctx.device.candidates(0, BtreeType.REFCOUNT, new XfsDevice.BtreeRoot(30, 2));

        assertEquals(null, new AgfStrategy().plan(ctx, ctx.check(new AgfStrategy())));
        assertEquals(List.of(), ctx.device.newHeaders);
    }
}
