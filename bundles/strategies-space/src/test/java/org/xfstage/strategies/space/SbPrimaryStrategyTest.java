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

class SbPrimaryStrategyTest {
    private static final HeaderField LOGBLOCKS = new HeaderField(HeaderKind.SUPERBLOCK, "logblocks");
    private static final Map<HeaderField, Long> SB = Map.of(LOGBLOCKS, 16384L);

    private final SbPrimaryStrategy primary = new SbPrimaryStrategy();

    private static FakeContext fourAgs() {
        FakeContext ctx = new FakeContext(List.of(), ag(0, 100, 0, 0), ag(1, 100, 0, 0), ag(2, 100, 0, 0), ag(3, 100, 0, 0));
        ctx.device.superblock(0, SB).superblock(1, SB).superblock(2, SB).superblock(3, SB);
        return ctx;
    }

    @Test
    void aTrustedPrimaryIsClean() throws Exception {
        FakeContext ctx = fourAgs();
        assertEquals(List.of(), ctx.check(primary));
        assertNull(primary.plan(ctx, List.of(new Finding("sb-primary", 0, "?", "?", null))), "nothing agreed on against it");
    }

    /** What the device's vote found: each failed check and each field the copies hold against it. */
    @Test
    void whatTheVoteFoundIsReportedAndThePrimaryIsWrittenFromTheAgreedCopy() throws Exception {
        FakeContext ctx = fourAgs();
        ctx.device.verdict(new SuperblockVerdict(List.of("checksum mismatch"), List.of(new SuperblockVerdict.Disagreement(LOGBLOCKS, 1000,
                16384, 3)), 3, 3, 3, 1, Map.of()));

        List<Finding> found = ctx.check(primary);
        assertEquals(List.of(
                new Finding("sb-primary", 0, "primary superblock", "checksum mismatch", "as the copy in AG 1 (3 of 3 copies agree)"),
                new Finding("sb-primary", 0, "sb_logblocks", "differs from the copies: 1000", "16384 (3 of 3 copies)")), found);
        Plan plan = primary.plan(ctx, found);
        assertEquals(1, ctx.device.primaryRewrites);
        assertEquals(List.of("primary superblock"), plan.blocks().stream().map(b -> b.what()).toList());
        assertEquals(List.of("primary superblock rewritten from the copy in AG 1 (3 of 3 copies agree)"), plan.changes());
        assertEquals(List.of(), ctx.device.secondaryRewrites, "the copies are left alone");
    }
}
