package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairEngine.StrategyInfo;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/** The whiteboard's choice per structure, and how it follows a registration whose properties change. */
class StrategyRegistryTest {

    private static final class Idle implements RepairStrategy {
        @Override
        public Set<Observation> needs() {
            return Set.of();
        }

        @Override
        public void check(ScrubContext context, Consumer<Finding> findings) {
        }
    }

    private static Map<String, Object> props(String structure, int ranking, long serviceId) {
        return Map.of(RepairStrategy.STRUCTURE, structure, Constants.SERVICE_RANKING, ranking, Constants.SERVICE_ID, serviceId);
    }

    @Test
    void theHighestRankingWinsThenTheLowestServiceId() {
        StrategyRegistry registry = new StrategyRegistry();
        Idle first = new Idle();
        Idle second = new Idle();
        Idle third = new Idle();
        registry.add(first, props("agf", 0, 7));
        registry.add(second, props("agf", 0, 3));
        registry.add(third, props("agi", 0, 9));
        assertSame(second, registry.active().get("agf").strategy());
        assertSame(third, registry.active().get("agi").strategy());
        registry.remove(second);
        assertSame(first, registry.active().get("agf").strategy());
    }

    @Test
    void aChangedRankingTakesEffectWithoutRebinding() {
        StrategyRegistry registry = new StrategyRegistry();
        Idle builtIn = new Idle();
        Idle other = new Idle();
        registry.add(builtIn, props("agf", 0, 1));
        registry.add(other, props("agf", -10, 2));
        assertSame(builtIn, registry.active().get("agf").strategy());
        assertEquals(List.of(new StrategyInfo("agf", "(no bundle)", 0, true), new StrategyInfo("agf", "(no bundle)", -10, false)),
                registry.strategies());

        registry.update(other, props("agf", 10, 2));
        assertSame(other, registry.active().get("agf").strategy());
        assertEquals(List.of(new StrategyInfo("agf", "(no bundle)", 10, true), new StrategyInfo("agf", "(no bundle)", 0, false)),
                registry.strategies());

        registry.update(other, props("agf", -1, 2));
        assertSame(builtIn, registry.active().get("agf").strategy());
    }

    @Test
    void anUpdateWithoutAStructureLeavesTheWhiteboardAndOneWithItJoins() {
        StrategyRegistry registry = new StrategyRegistry();
        Idle s = new Idle();
        registry.add(s, Map.of(Constants.SERVICE_ID, 4L));
        assertTrue(registry.strategies().isEmpty());
        registry.update(s, props("nlinks", 0, 4));
        assertSame(s, registry.active().get("nlinks").strategy());
        registry.update(s, Map.of(Constants.SERVICE_ID, 4L));
        assertFalse(registry.active().containsKey("nlinks"));
    }
}
