package org.xfstage.strategies.inodes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.XfArray;

class SbCountersStrategyTest {
    private static final long AG_LENGTH = 1000;

    private final SbCountersStrategy counters = new SbCountersStrategy();

    /**
     * One AG of {@link #AG_LENGTH} blocks with a chunk of 64 inodes (3 in use) and, in use: headers 0-3, bnobt 4,
     * cntbt 5, inobt 6, AGFL 7-10, the inode chunk 16-23, a file 100-109 (and, with rmapbt, rmapbt 11-12). Counted:
     * icount 64, ifree 61, fdblocks 1000 - (4 + 1 + 8 + 10) - roots (2, or 3 with rmapbt).
     */
    private static FakeContext context(List<Feature> features, long icount, long ifree, long fdblocks) throws Exception {
        FakeDevice device = new FakeDevice(FakeContext.info(features, icount, ifree, fdblocks, FakeContext.ag(0, AG_LENGTH, 64, 61)));
        FakeContext ctx = new FakeContext(device);
        Staged.inodes(ctx.staged(Observation.INODE_MAP), device.inodeNumber(0, 128), "uuu" + Staged.times(61, 'f'));
        XfArray space = ctx.staged(Observation.SPACE_MAP);
        SpaceMapRecord r = new SpaceMapRecord();
        r.set(0, 0, 4, SpaceUse.HEADERS, 0).appendTo(space);
        r.set(0, 4, 1, SpaceUse.BNOBT, 0).appendTo(space);
        r.set(0, 5, 1, SpaceUse.CNTBT, 0).appendTo(space);
        r.set(0, 6, 1, SpaceUse.INOBT, 0).appendTo(space);
        r.set(0, 7, 4, SpaceUse.AGFL, 0).appendTo(space);
        if (features.contains(Feature.RMAPBT)) {
            r.set(0, 11, 2, SpaceUse.RMAPBT, 0).appendTo(space);
        }
        r.set(0, 16, 8, SpaceUse.INODES, 0).appendTo(space);
        r.set(0, 100, 10, SpaceUse.FILE_DATA, 131).appendTo(space);
        return ctx;
    }

    @Test
    void countersThatMatchTheMapsAreClean() throws Exception {
        assertEquals(List.of(), context(List.of(), 64, 61, 975).check(counters));
    }

    @Test
    void countersThatDifferFromTheInodeAndSpaceMapsAreFoundAndPlanned() throws Exception {
        FakeContext ctx = context(List.of(), 64, 50, 900);

        List<Finding> found = ctx.check(counters);
        Plan plan = counters.plan(ctx, found);

        assertEquals(List.of(
                new Finding("sb-counters", -1, "sb_ifree", "says 50", "61"),
                new Finding("sb-counters", -1, "sb_fdblocks", "says 900", "975")), found);
        assertNotNull(plan);
        assertEquals(List.of(new FakeDevice.HeaderUpdate(HeaderKind.SUPERBLOCK, 0,
                Map.of(HeaderField.SB_ICOUNT, 64L, HeaderField.SB_IFREE, 61L, HeaderField.SB_FDBLOCKS, 975L))), ctx.device.headerUpdates);
        assertEquals(List.of("sb_ifree: 50 -> 61, sb_fdblocks: 900 -> 975"), plan.changes());
    }

    @Test
    void anIcountThatDiffersIsFound() throws Exception {
        assertEquals(List.of(new Finding("sb-counters", -1, "sb_icount", "says 128", "64")),
                context(List.of(), 128, 61, 975).check(counters));
    }

    @Test
    void rmapbtBlocksCountAsFreeLessTheRmapbtRoot() throws Exception {
        assertEquals(List.of(), context(List.of(Feature.RMAPBT), 64, 61, 974).check(counters));
    }
}
