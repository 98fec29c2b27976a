package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;

class BnobtStrategyTest {
    private final BnobtStrategy bnobt = new BnobtStrategy();

    /**
     * AG 0 of 100 blocks: headers 0-3, the AGFL 4, bnobt 5, cntbt 6, inobt 7, inode chunks 16-23, inode 131's data
     * 40-59; free: 8-15, 24-39, 60-99.
     */
    private static FakeContext ag0(List<Feature> features) {
        return new FakeContext(features, ag(0, 100, 64, 40))
                .used(0, 0, 4, SpaceUse.HEADERS).used(0, 4, 1, SpaceUse.AGFL).used(0, 5, 1, SpaceUse.BNOBT)
                .used(0, 6, 1, SpaceUse.CNTBT).used(0, 7, 1, SpaceUse.INOBT).used(0, 16, 8, SpaceUse.INODES)
                .used(0, 40, 20, SpaceUse.FILE_DATA, 131);
    }

    private static final List<FreeExtent> FREE = List.of(new FreeExtent(8, 8), new FreeExtent(24, 16), new FreeExtent(60, 40));

    @Test
    void aBnobtHoldingExactlyTheComplementOfTheSpaceMapIsClean() throws Exception {
        FakeContext ctx = ag0(List.of());
        ctx.device.tree(0, Btree.BNO, FREE);

        assertEquals(List.of(), ctx.check(bnobt));
        assertEquals(List.of(), ctx.openArrays());
    }

    @Test
    void freeExtentMissingFromTheEndOfTheBnobtIsFound() throws Exception {
        FakeContext ctx = ag0(List.of());
        ctx.device.tree(0, Btree.BNO, FREE.subList(0, 2));

        assertEquals(List.of(new Finding("bnobt", 0, "blocks 60-99", "free space missing from the bnobt", "free extent blocks 60-99")),
                ctx.check(bnobt));
    }

    @Test
    void freeExtentMissingBeforeAnotherIsFoundAsTheRecordThatDoesNotMatch() throws Exception {
        FakeContext ctx = ag0(List.of());
        ctx.device.tree(0, Btree.BNO, List.of(FREE.get(0), FREE.get(2)));

        assertEquals(List.of(new Finding("bnobt", 0, "blocks 24-39", "bnobt record blocks 60-99 does not match",
                "free extent blocks 24-39")), ctx.check(bnobt));
    }

    @Test
    void bnobtRecordReachingIntoBlocksInUseIsFoundAsNotMatching() throws Exception {
        FakeContext ctx = ag0(List.of());
        ctx.device.tree(0, Btree.BNO, List.of(FREE.get(0), FREE.get(1), new FreeExtent(50, 50)));

        assertEquals(List.of(new Finding("bnobt", 0, "blocks 60-99", "bnobt record blocks 50-99 does not match", "free extent blocks 60-99")),
                ctx.check(bnobt));
    }

    @Test
    void bnobtRecordPastTheAgIsFound() throws Exception {
        FakeContext ctx = ag0(List.of());
        ctx.device.tree(0, Btree.BNO, List.of(FREE.get(0), FREE.get(1), FREE.get(2), new FreeExtent(100, 5)));

        assertEquals(List.of(new Finding("bnobt", 0, "blocks 100-104", "bnobt lists blocks as free that are in use or past the AG", null)),
                ctx.check(bnobt));
    }

    @Test
    void blockUsedByTwoFilesIsFoundWithBothOwnersNamed() throws Exception {
        FakeContext ctx = ag0(List.of()).used(0, 55, 3, SpaceUse.FILE_DATA, 132);
        ctx.device.tree(0, Btree.BNO, FREE);

        assertEquals(List.of(new Finding("bnobt", 0, "blocks 55-57", "used twice: by inode 131 and by inode 132", "one owner")),
                ctx.check(bnobt));
    }

    @Test
    void blockUsedByAFileAndABtreeIsFoundWithTheBtreeNamed() throws Exception {
        FakeContext ctx = ag0(List.of()).used(0, 45, 1, SpaceUse.FINOBT).used(0, 50, 1, SpaceUse.FILE_BMBT, 133);
        ctx.device.tree(0, Btree.BNO, FREE);

        assertEquals(List.of(new Finding("bnobt", 0, "blocks 45-45", "used twice: by inode 131 and by finobt", "one owner"),
                new Finding("bnobt", 0, "blocks 50-50", "used twice: by inode 131 and by inode 133 (bmbt)", "one owner")),
                ctx.check(bnobt));
    }

    @Test
    void fileBlocksSharedOnAReflinkFilesystemAreNotReported() throws Exception {
        FakeContext ctx = ag0(List.of(Feature.REFLINK)).used(0, 55, 3, SpaceUse.FILE_DATA, 132);
        ctx.device.tree(0, Btree.BNO, FREE);

        assertEquals(List.of(), ctx.check(bnobt));
    }

    @Test
    void metadataInsideAFileIsStillReportedOnAReflinkFilesystem() throws Exception {
        FakeContext ctx = ag0(List.of(Feature.REFLINK)).used(0, 45, 2, SpaceUse.REFCOUNTBT);
        ctx.device.tree(0, Btree.BNO, FREE);

        assertEquals(List.of(new Finding("bnobt", 0, "blocks 45-46", "used twice: by inode 131 and by refcountbt", "one owner")),
                ctx.check(bnobt));
    }

    @Test
    void anAgflBlockUsedByAnotherStructureIsLeftToTheAgflStrategy() throws Exception {
        FakeContext ctx = ag0(List.of()).used(0, 4, 1, SpaceUse.INOBT);
        ctx.device.tree(0, Btree.BNO, FREE);

        assertEquals(List.of(), ctx.check(bnobt));
    }

    @Test
    void findingsPastTwentyInAnAgAreSummarised() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0));
        for (int b = 0; b < 100; b += 4) {
            ctx.used(0, b, 2, SpaceUse.INODES); // 25 free extents of 2 blocks, none in the bnobt but the last
        }
        ctx.device.tree(0, Btree.BNO, List.of(new FreeExtent(98, 2)));

        List<Finding> found = ctx.check(bnobt);

        assertEquals(BnobtStrategy.MAX_PER_AG + 1, found.size());
        assertEquals(new Finding("bnobt", 0, "AG 0", "4 more differences", null), found.get(found.size() - 1));
    }
}
