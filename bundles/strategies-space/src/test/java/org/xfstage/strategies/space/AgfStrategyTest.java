package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.xfstage.strategies.space.FakeContext.ag;
import static org.xfstage.strategies.space.FakeContext.agf;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;

class AgfStrategyTest {
    private final AgfStrategy agf = new AgfStrategy();

    /** Two AGs whose bnobts hold 35 free blocks, the longest extent 30; AG 1's AGF says 40 and 7. */
    private static FakeContext damagedLongestInAg1() {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 35, 30), ag(1, 100, 40, 7));
        List<FreeExtent> free = List.of(new FreeExtent(10, 30), new FreeExtent(50, 5)); // the longest not the last
        ctx.device.tree(0, Btree.BNO, free).tree(1, Btree.BNO, free);
        return ctx;
    }

    @Test
    void freeblksAndLongestThatDisagreeWithTheBnobtAreFoundInTheAgfOfTheirAg() throws Exception {
        List<Finding> found = damagedLongestInAg1().check(agf);

        assertEquals(List.of(new Finding("agf", 1, "agf_freeblks", "says 40", "35"), new Finding("agf", 1, "agf_longest", "says 7", "30")),
                found);
    }

    @Test
    void planSetsTheAgfCountersOfTheDamagedAgToWhatTheBtreesHold() throws Exception {
        FakeContext ctx = damagedLongestInAg1();

        Plan plan = agf.plan(ctx, ctx.check(agf));

        assertEquals(List.of(new FakeDevice.HeaderUpdate(HeaderKind.AGF, 1,
                Map.of(HeaderField.AGF_FREEBLKS, 35L, HeaderField.AGF_LONGEST, 30L, HeaderField.AGF_BTREEBLKS, 0L))),
                ctx.device.headerUpdates);
        assertEquals("agf", plan.structure());
        assertEquals(List.of("AGF of AG 1"), plan.blocks().stream().map(b -> b.what()).toList());
        assertEquals(List.of("AG 1 agf_freeblks: 40 -> 35", "AG 1 agf_longest: 7 -> 30"), plan.changes());
    }

    @Test
    void btreeblksCountsTheBlocksOfTheFreeSpaceAndRmapTreesPastTheirRootsAndTheTreeBlockCountsAreChecked() throws Exception {
        // bnobt 2 blocks, cntbt 3, rmapbt 4, refcountbt 2: btreeblks 1 + 2 + 3 = 6
        FakeContext ctx = new FakeContext(List.of(Feature.RMAPBT, Feature.REFLINK), agf(0, 100, 0, 0, 6, 5, 1));
        ctx.device.blocks(0, BtreeType.BNO, 1, 2).blocks(0, BtreeType.CNT, 3, 4, 5).blocks(0, BtreeType.RMAP, 6, 7, 8, 9)
                .blocks(0, BtreeType.REFCOUNT, 10, 11);

        List<Finding> found = ctx.check(agf);

        assertEquals(List.of(new Finding("agf", 0, "agf_rmap_blocks", "says 5", "4"),
                new Finding("agf", 0, "agf_refcount_blocks", "says 1", "2")), found);
    }

    @Test
    void rmapAndRefcountCountersAreNotCheckedOnAFilesystemWithoutThoseTrees() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), agf(0, 100, 0, 0, 0, 77, 88));

        assertEquals(List.of(), ctx.check(agf));
    }

    @Test
    void noPlanForAnAgfThatNamesNoAg() throws Exception {
        FakeContext ctx = damagedLongestInAg1();

        assertNull(agf.plan(ctx, List.of(new Finding("agf", -1, "AGF", "cannot be read", null))));
    }

    @Test
    void anAgfThatCannotBeDecodedIsFoundInItsAgAndItsFiguresAreNotCompared() throws Exception {
        FakeContext ctx = damagedLongestInAg1();
        ctx.device.undecodableAgf(1);

        assertEquals(List.of(new Finding("agf", 1, "AGF", "AGF of AG 1: bad magic", "a header rebuilt from the AG's trees")),
                ctx.check(agf));
    }

    /** AG 0 whose walk proved the bnobt's root at block 6 (staged); a search also finds an old bnobt root, block 20. */
    private static FakeContext bnobtRootProvenAt6() {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 35, 30)).used(0, 6, 1, SpaceUse.BNOBT);
        ctx.device.tree(0, Btree.BNO, List.of(new FreeExtent(10, 30), new FreeExtent(50, 5))).blocks(0, BtreeType.BNO, 6)
                .candidates(0, BtreeType.BNO, new XfsDevice.BtreeRoot(20, 2), new XfsDevice.BtreeRoot(6, 1));
        return ctx;
    }

    @Test
    void aRootPointerToAnotherBlockIsFoundAndPointedAtTheRootTheWalkProved() throws Exception {
        FakeContext ctx = bnobtRootProvenAt6();
        ctx.device.agfSays(0, HeaderField.root(BtreeType.BNO), 5);

        List<Finding> found = ctx.check(agf);
        Plan plan = agf.plan(ctx, found);

        assertEquals(List.of(new Finding("agf", 0, "agf_bno_root", "says block 5, which is not the bnobt's root", "6")), found);
        assertEquals(6L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.root(BtreeType.BNO)));
        assertEquals(1L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.level(BtreeType.BNO)));
        assertEquals(List.of("AG 0 agf_bno_root: 5 -> 6"), plan.changes());
    }

    @Test
    void aWrongHeightIsFoundToo() throws Exception {
        FakeContext ctx = bnobtRootProvenAt6();
        ctx.device.agfSays(0, HeaderField.level(BtreeType.BNO), 3);

        assertEquals(List.of(new Finding("agf", 0, "agf_bno_level", "says 3 levels", "1")), ctx.check(agf));
    }

    @Test
    void noPlanWhenNoBlockIsProvenTheRoot() throws Exception {
        FakeContext ctx = bnobtRootProvenAt6();
        ctx.device.agfSays(0, HeaderField.root(BtreeType.BNO), 5).candidates(0, BtreeType.BNO, new XfsDevice.BtreeRoot(20, 2));

        assertNull(agf.plan(ctx, ctx.check(agf)));
    }
}
