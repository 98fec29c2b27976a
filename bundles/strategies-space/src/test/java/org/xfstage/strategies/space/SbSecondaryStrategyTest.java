package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;

class SbSecondaryStrategyTest {
    private static final HeaderField BLOCKSIZE = new HeaderField(HeaderKind.SUPERBLOCK, "blocksize");
    private static final HeaderField UNIT = new HeaderField(HeaderKind.SUPERBLOCK, "unit");
    private static final Map<HeaderField, Long> PRIMARY = Map.of(BLOCKSIZE, 4096L, UNIT, 0L);

    private final SbSecondaryStrategy sb = new SbSecondaryStrategy();

    /** Three AGs; the copy in AG 2 has a stripe unit of 8. */
    private static FakeContext copyOfAg2Differs() {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0), ag(1, 100, 0, 0), ag(2, 100, 0, 0));
        ctx.device.superblock(0, PRIMARY).superblock(1, PRIMARY).superblock(2, Map.of(BLOCKSIZE, 4096L, UNIT, 8L));
        return ctx;
    }

    @Test
    void copiesEqualToThePrimaryAreClean() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0), ag(1, 100, 0, 0));
        ctx.device.superblock(0, PRIMARY).superblock(1, PRIMARY);

        assertEquals(List.of(), ctx.check(sb));
    }

    @Test
    void copyDifferingFromThePrimaryIsFoundInItsAgWithTheField() throws Exception {
        assertEquals(List.of(new Finding("sb-secondary", 2, "sb_unit", "differs from the primary: 8", "0")), copyOfAg2Differs().check(sb));
    }

    @Test
    void fieldMissingFromACopyIsFound() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0), ag(1, 100, 0, 0));
        ctx.device.superblock(0, PRIMARY).superblock(1, Map.of(BLOCKSIZE, 4096L));

        assertEquals(List.of(new Finding("sb-secondary", 1, "sb_unit", "differs from the primary: null", "0")), ctx.check(sb));
    }

    @Test
    void planRewritesOnlyTheCopiesWithFindingsFromThePrimary() throws Exception {
        FakeContext ctx = copyOfAg2Differs();

        Plan plan = sb.plan(ctx, ctx.check(sb));

        assertEquals(List.of(2), ctx.device.secondaryRewrites);
        assertEquals(List.of("superblock of AG 2"), plan.blocks().stream().map(b -> b.what()).toList());
        assertEquals(List.of("AG 2 superblock copy: fields copied from the primary"), plan.changes());
    }

    @Test
    void noPlanForAFindingAboutThePrimary() throws Exception {
        assertNull(sb.plan(copyOfAg2Differs(), List.of(new Finding("sb-secondary", 0, "sb_unit", "?", null))));
    }
}
