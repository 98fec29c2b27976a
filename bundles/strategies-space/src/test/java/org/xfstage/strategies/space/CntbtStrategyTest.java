package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.repair.Finding;

class CntbtStrategyTest {
    private final CntbtStrategy cntbt = new CntbtStrategy();
    private static final List<FreeExtent> BY_BLOCK = List.of(new FreeExtent(8, 8), new FreeExtent(24, 16), new FreeExtent(60, 2));

    @Test
    void aCntbtInSizeOrderWithTheBnobtsExtentsIsClean() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 26, 16));
        ctx.device.tree(0, Btree.BNO, BY_BLOCK)
                .tree(0, Btree.CNT, List.of(new FreeExtent(60, 2), new FreeExtent(8, 8), new FreeExtent(24, 16)));

        assertEquals(List.of(), ctx.check(cntbt));
        assertEquals(List.of(), ctx.openArrays());
    }

    @Test
    void extentsOnOneSideOnlyAreFoundOnTheirSide() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 26, 16));
        ctx.device.tree(0, Btree.BNO, BY_BLOCK)
                .tree(0, Btree.CNT, List.of(new FreeExtent(60, 2), new FreeExtent(24, 15)));

        assertEquals(List.of(new Finding("cntbt", 0, "blocks 8-15", "free extent of the bnobt is missing from the cntbt", null),
                new Finding("cntbt", 0, "blocks 24-38", "cntbt extent is not in the bnobt", null),
                new Finding("cntbt", 0, "blocks 24-39", "free extent of the bnobt is missing from the cntbt", null)),
                ctx.check(cntbt));
    }
}
