package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.MetadataOwner;
import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.Plan;

class RmapbtStrategyTest {
    private final RmapbtStrategy rmapbt = new RmapbtStrategy();

    private static ReverseMapping metadata(long start, long length, MetadataOwner owner) {
        return new ReverseMapping(start, length, owner.code(), 0, false, false, false);
    }

    private static ReverseMapping data(long start, long length, long ino, long offset) {
        return new ReverseMapping(start, length, ino, offset, false, false, false);
    }

    private static ReverseMapping bmbt(long start, long ino) {
        return new ReverseMapping(start, 1, ino, 0, false, true, false);
    }

    /** What the rmapbt of {@link #ag0()} must hold, merged as the kernel merges. */
    private static final List<ReverseMapping> MERGED = List.of(metadata(0, 4, MetadataOwner.FS), metadata(4, 4, MetadataOwner.AG),
            metadata(8, 1, MetadataOwner.INOBT), metadata(16, 8, MetadataOwner.INODES), data(30, 10, 131, 0), bmbt(40, 131));

    /**
     * AG 0: headers 0-3, the AGFL 4, bnobt 5, cntbt 6, rmapbt 7 (all four AG-owned), inobt 8, inode chunks 16-23, and
     * inode 131 (in use) with its data at 30-39 in two extents and a bmbt block at 40; inode 132 is free.
     */
    private static FakeContext ag0() {
        FakeContext ctx = new FakeContext(List.of(Feature.RMAPBT), ag(0, 100, 0, 0)).used(0, 0, 4, SpaceUse.HEADERS)
                .used(0, 4, 1, SpaceUse.AGFL).used(0, 5, 1, SpaceUse.BNOBT).used(0, 6, 1, SpaceUse.CNTBT)
                .used(0, 7, 1, SpaceUse.RMAPBT).used(0, 8, 1, SpaceUse.INOBT).used(0, 16, 8, SpaceUse.INODES)
                .used(0, 30, 10, SpaceUse.FILE_DATA, 131).used(0, 40, 1, SpaceUse.FILE_BMBT, 131)
                .inode(131, InodeMapRecord.State.IN_USE).inode(132, InodeMapRecord.State.FREE);
        ctx.device.mapping(131, 0, data(30, 6, 131, 0)).mapping(131, 0, data(36, 4, 131, 6)).mapping(131, 0, bmbt(40, 131))
                .blocks(0, BtreeType.RMAP, 7);
        return ctx;
    }

    private static List<ReverseMapping> replaced(int index, ReverseMapping... with) {
        List<ReverseMapping> l = new ArrayList<>(MERGED);
        l.remove(index);
        l.addAll(index, List.of(with));
        return l;
    }

    /** The walk's staged mappings (Observation.FILE_MAPPINGS) give the verdicts a second read of every inode gives. */
    @Test
    void theWalksStagedMappingsStandForASecondReadOfTheInodes() throws Exception {
        for (List<ReverseMapping> tree : List.of(MERGED, replaced(4, data(30, 10, 131, 1)), replaced(5))) {
            FakeContext read = ag0();
            read.device.tree(0, Btree.RMAP, tree);
            FakeContext staged = ag0().walkedMappings(); // its device has no mappings left to read
            staged.device.tree(0, Btree.RMAP, tree);

            assertEquals(read.check(rmapbt), staged.check(rmapbt));
        }
        FakeContext wrong = ag0().walkedMappings();
        wrong.device.tree(0, Btree.RMAP, replaced(5));
        assertEquals(1, wrong.check(rmapbt).size(), "the bmbt block missing from the rmapbt is found from the staged mappings");
    }

    @Test
    void rmapbtSplitDifferentlyFromWhatIsExpectedComparesEqual() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.tree(0, Btree.RMAP, replaced(1, metadata(4, 1, MetadataOwner.AG), metadata(5, 3, MetadataOwner.AG)));

        assertEquals(List.of(), ctx.check(rmapbt));
        assertEquals(List.of(), ctx.openArrays());
    }

    @Test
    void metadataMissingFromTheRmapbtIsFoundWithItsOwnerInWords() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.tree(0, Btree.RMAP, replaced(3));

        assertEquals(List.of(new Finding("rmapbt", 0, "blocks 16-23", "not in the rmapbt", "owned by inode chunks")), ctx.check(rmapbt));
    }

    @Test
    void aWrongFileOffsetIsFoundOnBothSides() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.tree(0, Btree.RMAP, replaced(4, data(30, 10, 131, 5)));

        assertEquals(List.of(new Finding("rmapbt", 0, "blocks 30-39", "not in the rmapbt", "owned by inode 131 at offset 0"),
                new Finding("rmapbt", 0, "blocks 30-39", "mapped by the rmapbt to inode 131 at offset 5, which does not map them so", null)),
                ctx.check(rmapbt));
    }

    @Test
    void dataExtentsWhoseOffsetsAreNotAdjacentDoNotMerge() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.tree(0, Btree.RMAP, replaced(4, data(30, 6, 131, 0), data(36, 4, 131, 7)));

        // in tree order: the shorter record of one key first
        assertEquals(List.of(new Finding("rmapbt", 0, "blocks 30-35", "mapped by the rmapbt to inode 131 at offset 0, which does not map them so", null),
                new Finding("rmapbt", 0, "blocks 30-39", "not in the rmapbt", "owned by inode 131 at offset 0"),
                new Finding("rmapbt", 0, "blocks 36-39", "mapped by the rmapbt to inode 131 at offset 7, which does not map them so", null)),
                ctx.check(rmapbt));
    }

    @Test
    void aBmbtBlockRecordedAsDataIsFound() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.tree(0, Btree.RMAP, replaced(5, data(40, 1, 131, 0)));

        assertEquals(List.of(new Finding("rmapbt", 0, "blocks 40-40", "mapped by the rmapbt to inode 131 at offset 0, which does not map them so",
                null), new Finding("rmapbt", 0, "blocks 40-40", "not in the rmapbt", "owned by inode 131 as bmbt block")), ctx.check(rmapbt));
    }

    /**
     * Blocks 32-33 shared by inode 133 (reflink): its record is given out while inode 131's, which starts before it,
     * still grows, so the merged side comes out of tree order, and the check stages, sorts and compares both sides
     * instead of comparing them as they come. Then the same verdicts as without sharing: clean when the rmapbt holds
     * every record, one finding naming the record it lacks.
     */
    @Test
    void sharedBlocksOutOfTreeOrderAreStagedSortedAndGiveTheSameVerdicts() throws Exception {
        ReverseMapping shared = data(32, 2, 133, 0);
        List<ReverseMapping> tree = new ArrayList<>(MERGED);
        tree.add(5, shared);
        tree.sort(java.util.Comparator.comparingLong(ReverseMapping::start).thenComparingLong(ReverseMapping::owner));
        for (boolean walked : List.of(false, true)) {
            FakeContext clean = sharing(walked);
            clean.device.tree(0, Btree.RMAP, tree);
            assertEquals(List.of(), clean.check(rmapbt), "walked mappings: " + walked);
            assertEquals(List.of(), clean.openArrays());

            FakeContext lacking = sharing(walked);
            lacking.device.tree(0, Btree.RMAP, MERGED);
            assertEquals(List.of(new Finding("rmapbt", 0, "blocks 32-33", "not in the rmapbt", "owned by inode 133 at offset 0")),
                    lacking.check(rmapbt), "walked mappings: " + walked);
            assertEquals(List.of(), lacking.openArrays());
        }
    }

    private static FakeContext sharing(boolean walked) throws Exception {
        FakeContext ctx = ag0().inode(133, InodeMapRecord.State.IN_USE);
        ctx.device.mapping(133, 0, data(32, 2, 133, 0));
        return walked ? ctx.walkedMappings() : ctx;
    }

    @Test
    void nothingIsCheckedWithoutAnRmapbt() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0)).used(0, 0, 4, SpaceUse.HEADERS);

        assertEquals(List.of(), ctx.check(rmapbt));
    }

    @Test
    void rebuildLoadsTheExpectedRecordsIntoTheTreesOwnBlocksAndSetsTheAgf() throws Exception {
        FakeContext ctx = ag0();
        ctx.device.tree(0, Btree.RMAP, replaced(3));

        Plan plan = rmapbt.plan(ctx, ctx.check(rmapbt));

        assertEquals(List.of(new FakeDevice.Load(0, BtreeType.RMAP, List.copyOf(MERGED), List.of(7L))), ctx.device.bulkLoads);
        assertEquals(List.of(new FakeDevice.HeaderUpdate(HeaderKind.AGF, 0, Map.of(HeaderField.root(BtreeType.RMAP), 7L,
                HeaderField.level(BtreeType.RMAP), 1L, HeaderField.blocks(BtreeType.RMAP), 1L))), ctx.device.headerUpdates);
        assertEquals(List.of("AG 0: rmapbt rebuilt from the space map and the mappings of 1 inodes: 6 records in 1 block(s) (its own)"),
                plan.changes());
        assertEquals(List.of(), ctx.openArrays());
    }
}
