package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;

class AgflStrategyTest {
    private final AgflStrategy agfl = new AgflStrategy();

    private static FakeContext agflAt4And5() {
        return new FakeContext(List.of(), ag(0, 100, 0, 0), ag(1, 100, 0, 0)).used(0, 0, 4, SpaceUse.HEADERS)
                .used(0, 4, 1, SpaceUse.AGFL).used(0, 5, 1, SpaceUse.AGFL).used(1, 0, 4, SpaceUse.HEADERS).used(1, 4, 1, SpaceUse.AGFL);
    }

    @Test
    void agflBlocksUsedByNothingElseAreClean() throws Exception {
        assertEquals(List.of(), agflAt4And5().check(agfl));
    }

    @Test
    void agflBlockAlsoUsedByABtreeNamesTheBtree() throws Exception {
        FakeContext ctx = agflAt4And5().used(1, 4, 1, SpaceUse.CNTBT);

        assertEquals(List.of(new Finding("agfl", 1, "block 4", "on the AGFL and also used by cntbt", "a block used by nothing else")),
                ctx.check(agfl));
    }

    @Test
    void agflBlockInsideAFileNamesTheInode() throws Exception {
        FakeContext ctx = agflAt4And5().used(0, 5, 10, SpaceUse.FILE_DATA, 131);

        assertEquals(List.of(new Finding("agfl", 0, "block 5", "on the AGFL and also used by inode 131", "a block used by nothing else")),
                ctx.check(agfl));
    }

    @Test
    void blockListedTwiceOnTheAgflIsFound() throws Exception {
        FakeContext ctx = agflAt4And5().used(0, 5, 1, SpaceUse.AGFL);

        assertEquals(List.of(new Finding("agfl", 0, "block 5", "on the AGFL and also used by the AGFL", "a block used by nothing else")),
                ctx.check(agfl));
    }

    @Test
    void agflBlockUsedByTheHeadersNamesThem() throws Exception {
        FakeContext ctx = agflAt4And5().used(0, 3, 2, SpaceUse.LOG);

        List<Finding> found = ctx.check(agfl);

        assertEquals(List.of(new Finding("agfl", 0, "block 4", "on the AGFL and also used by the log", "a block used by nothing else")),
                found);
    }
}
