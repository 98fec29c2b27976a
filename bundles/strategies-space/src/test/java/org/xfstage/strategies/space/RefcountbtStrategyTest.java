package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.RefcountExtent;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;

class RefcountbtStrategyTest {
    private final RefcountbtStrategy refcountbt = new RefcountbtStrategy();

    /** Inode 131 maps 50-59, inode 132 maps 55-64 and inode 133 57-58: 55-56 and 59 twice, 57-58 three times; CoW at 80-81. */
    private static FakeContext shared() {
        return new FakeContext(List.of(Feature.REFLINK), ag(0, 100, 0, 0)).used(0, 0, 4, SpaceUse.HEADERS)
                .used(0, 50, 10, SpaceUse.FILE_DATA, 131).used(0, 55, 10, SpaceUse.FILE_DATA, 132)
                .used(0, 57, 2, SpaceUse.FILE_DATA, 133).used(0, 80, 2, SpaceUse.COW);
    }

    private static final List<RefcountExtent> RIGHT = List.of(new RefcountExtent(55, 2, 2, false), new RefcountExtent(57, 2, 3, false),
            new RefcountExtent(59, 1, 2, false), new RefcountExtent(80, 2, 1, true));

    @Test
    void refcountbtMatchingTheSharingOfTheSpaceMapIsClean() throws Exception {
        FakeContext ctx = shared();
        ctx.device.tree(0, Btree.REFCOUNT, RIGHT);

        assertEquals(List.of(), ctx.check(refcountbt));
        assertEquals(List.of(), ctx.openArrays());
    }

    @Test
    void sharedBlocksWithoutARecordAreFound() throws Exception {
        FakeContext ctx = shared();
        ctx.device.tree(0, Btree.REFCOUNT, List.of(RIGHT.get(0), RIGHT.get(2), RIGHT.get(3)));

        assertEquals(List.of(new Finding("refcountbt", 0, "blocks 57-58", "shared 3 times but not in the refcountbt", "3 references")),
                ctx.check(refcountbt));
    }

    @Test
    void aWrongCountIsFound() throws Exception {
        FakeContext ctx = shared();
        ctx.device.tree(0, Btree.REFCOUNT, List.of(RIGHT.get(0), new RefcountExtent(57, 2, 4, false), RIGHT.get(2), RIGHT.get(3)));

        assertEquals(List.of(new Finding("refcountbt", 0, "blocks 57-58", "refcountbt says blocks 57-58 are mapped 4 times", "3 references")),
                ctx.check(refcountbt));
    }

    @Test
    void aRecordForBlocksNotSharedIsFound() throws Exception {
        FakeContext ctx = shared();
        ctx.device.tree(0, Btree.REFCOUNT, List.of(RIGHT.get(0), RIGHT.get(1), RIGHT.get(2), new RefcountExtent(70, 3, 2, false)));

        assertEquals(List.of(new Finding("refcountbt", 0, "blocks 70-72",
                "refcountbt says they are mapped 2 times; they are not shared like that", null)), ctx.check(refcountbt));
    }

    @Test
    void nothingIsCheckedWithoutReflink() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0)).used(0, 50, 10, SpaceUse.FILE_DATA, 131)
                .used(0, 55, 10, SpaceUse.FILE_DATA, 132);

        assertEquals(List.of(), ctx.check(refcountbt));
    }

    @Test
    void rebuildSplitsRunsAtTheDevicesLongestRecordAndKeepsCowStaging() throws Exception {
        FakeContext ctx = shared();
        ctx.device.maxRefcountLength = 1;
        ctx.device.tree(0, Btree.REFCOUNT, List.of(RIGHT.get(3))).blocks(0, BtreeType.REFCOUNT, 90);

        Plan plan = refcountbt.plan(ctx, ctx.check(refcountbt));

        assertEquals(List.of(new FakeDevice.Load(0, BtreeType.REFCOUNT, List.of(new RefcountExtent(55, 1, 2, false),
                new RefcountExtent(56, 1, 2, false), new RefcountExtent(57, 1, 3, false), new RefcountExtent(58, 1, 3, false),
                new RefcountExtent(59, 1, 2, false), new RefcountExtent(80, 2, 1, true)), List.of(90L))), ctx.device.bulkLoads);
        assertEquals(List.of(new FakeDevice.HeaderUpdate(HeaderKind.AGF, 0, Map.of(HeaderField.root(BtreeType.REFCOUNT), 90L,
                HeaderField.level(BtreeType.REFCOUNT), 1L, HeaderField.blocks(BtreeType.REFCOUNT), 1L))), ctx.device.headerUpdates);
        assertEquals("refcountbt", plan.structure());
        assertEquals(List.of(), ctx.openArrays());
    }

    /** 150 blocks shared by two files, one record per block: 150 records, two blocks of the fake device's trees. */
    private static FakeContext widelyShared() {
        FakeContext ctx = new FakeContext(List.of(Feature.REFLINK), ag(0, 1000, 0, 0)).used(0, 0, 4, SpaceUse.HEADERS)
                .used(0, 100, 150, SpaceUse.FILE_DATA, 131).used(0, 100, 150, SpaceUse.FILE_DATA, 132);
        ctx.device.maxRefcountLength = 1;
        ctx.device.tree(0, Btree.REFCOUNT, List.of()).blocks(0, BtreeType.REFCOUNT, 90);
        return ctx;
    }

    @Test
    void aTreeThatNeedsMoreBlocksTakesThemFromTheEnginesAllocation() throws Exception {
        FakeContext ctx = widelyShared();
        ctx.free = new java.util.ArrayDeque<>(List.of(700L, 701L));

        Plan plan = refcountbt.plan(ctx, ctx.check(refcountbt));

        assertEquals(List.of("0:1"), ctx.asked, "one block more than the tree's own");
        assertEquals(List.of(90L, 700L), ctx.device.bulkLoads.get(0).blocks());
        assertEquals(150, ctx.device.bulkLoads.get(0).records().size());
        assertEquals(2L, ctx.device.headerUpdates.get(0).fields().get(HeaderField.blocks(BtreeType.REFCOUNT)));
        assertEquals("refcountbt", plan.structure());
    }

    @Test
    void aTreeThatNeedsMoreBlocksThanTheAgGivesIsNotPlanned() throws Exception {
        FakeContext ctx = widelyShared();

        assertEquals(null, refcountbt.plan(ctx, ctx.check(refcountbt)));
        assertEquals(List.of("0:1"), ctx.asked);
    }

    @Test
    void aTreeThatNeedsFewerBlocksKeepsTheFirstOfItsOwn() throws Exception {
        FakeContext ctx = shared();
        ctx.device.tree(0, Btree.REFCOUNT, List.of(RIGHT.get(3))).blocks(0, BtreeType.REFCOUNT, 90, 91, 92);

        refcountbt.plan(ctx, ctx.check(refcountbt));

        assertEquals(List.of(), ctx.asked, "nothing allocated");
        assertEquals(List.of(90L), ctx.device.bulkLoads.get(0).blocks(), "91 and 92 are given back");
    }
}
