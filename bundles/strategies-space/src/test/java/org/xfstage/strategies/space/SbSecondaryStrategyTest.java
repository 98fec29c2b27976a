package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.xfstage.strategies.space.FakeContext.ag;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.SuperblockVerdict;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;

class SbSecondaryStrategyTest {
    private static final HeaderField BLOCKSIZE = new HeaderField(HeaderKind.SUPERBLOCK, "blocksize");
    private static final HeaderField UNIT = new HeaderField(HeaderKind.SUPERBLOCK, "unit");
    private static final HeaderField LABEL = new HeaderField(HeaderKind.SUPERBLOCK, "fname0");
    private static final Map<HeaderField, Long> PRIMARY = Map.of(BLOCKSIZE, 4096L, UNIT, 0L);
    private static final Map<HeaderField, Long> PRIMARY_WITH_LABEL = Map.of(BLOCKSIZE, 4096L, UNIT, 0L, LABEL, 0L);

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

    /** A copy that fails the device's checks is reported as the device says, and written anew. */
    @Test
    void copyThatFailsVerificationIsFoundAndRewritten() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0), ag(1, 100, 0, 0), ag(2, 100, 0, 0));
        ctx.device.superblock(0, PRIMARY).superblock(1, PRIMARY).verdict(new SuperblockVerdict(List.of(), List.of(), 2, 1, 1, 0,
                Map.of(2, "checksum mismatch")));

        List<Finding> found = ctx.check(sb);
        assertEquals(List.of(new Finding("sb-secondary", 2, "superblock copy", "fails verification: checksum mismatch",
                "written anew from the primary")), found);
        assertEquals(List.of("AG 2 superblock copy: written anew from the primary"), sb.plan(ctx, found).changes());
        assertEquals(List.of(2), ctx.device.secondaryRewrites);
    }

    /**
     * The primary lost the vote (its label is its own; the copies in AGs 1 and 2 agree): the copies are compared with
     * the agreed copy, not the primary, so none is reported and the damaged primary is never copied. Only a copy
     * that disagrees with the majority (AG 3's unit) is rewritten, from the majority's values.
     */
    @Test
    void anOutvotedPrimaryIsNeverCopied() throws Exception {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0), ag(1, 100, 0, 0), ag(2, 100, 0, 0), ag(3, 100, 0, 0));
        ctx.device.superblock(0, Map.of(BLOCKSIZE, 4096L, UNIT, 0L, LABEL, 7L)).superblock(1, PRIMARY_WITH_LABEL)
                .superblock(2, PRIMARY_WITH_LABEL).superblock(3, Map.of(BLOCKSIZE, 4096L, UNIT, 8L, LABEL, 0L))
                .verdict(new SuperblockVerdict(List.of(), List.of(new SuperblockVerdict.Disagreement(LABEL, 7, 0, 2)), 3, 3, 3, 1, Map.of()));

        List<Finding> found = ctx.check(sb);
        assertEquals(List.of(new Finding("sb-secondary", 3, "sb_unit", "differs from the agreed copies: 8", "0")), found);
        Plan plan = sb.plan(ctx, found);
        assertEquals(List.of(3), ctx.device.secondaryRewrites);
        assertEquals(List.of("AG 3 superblock copy: fields copied from the agreed copy in AG 1"), plan.changes());
    }

    @Test
    void aRewrittenPrimaryGoesFirst() {
        assertEquals(java.util.Set.of("sb-primary"), sb.after());
    }

    @Test
    void noPlanForAFindingAboutThePrimary() throws Exception {
        assertNull(sb.plan(copyOfAg2Differs(), List.of(new Finding("sb-secondary", 0, "sb_unit", "?", null))));
    }
}
