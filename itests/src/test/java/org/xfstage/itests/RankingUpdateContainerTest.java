package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairEngine.StrategyInfo;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * A strategy's service.ranking changed while it stays registered (ServiceRegistration.setProperties) decides which
 * strategy the next run uses, without the service being registered again: registered below the built-in agf it is
 * shadowed and a scrub uses the built-in; raised above it, it is the active one and its check is the one a scrub runs;
 * lowered again, the built-in is back.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RankingUpdateContainerTest extends ContainerSupport {
    private static final String PROBLEM = "reported by the re-ranked test strategy";

    /** An agf strategy whose check always reports one finding: a scrub that runs it is not clean. */
    private static final class AlwaysDamaged implements RepairStrategy {
        @Override
        public Set<Observation> needs() {
            return Set.of();
        }

        @Override
        public void check(ScrubContext context, Consumer<Finding> findings) {
            findings.accept(new Finding("agf", 0, "test", PROBLEM, null));
        }
    }

    @Test
    public void aChangedRankingTakesEffectForTheNextRunWithoutReregistering() throws Exception {
        Path img = Xfsprogs.find().oneFileImage(Files.createTempDirectory("xfstage-ranking"), "ranking\n");
        RepairEngine engine = awaitService(RepairEngine.class);
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RepairStrategy.STRUCTURE, "agf");
        props.put(Constants.SERVICE_RANKING, -10);
        ServiceRegistration<RepairStrategy> reg = context.registerService(RepairStrategy.class, new AlwaysDamaged(), props);
        try {
            awaitAgf(engine, -10, false);
            String shadowed = run("xfs:strategies");
            assertTrue(shadowed, shadowed.matches("(?s).*agf\\s+\\|\\s+PAXEXAM-PROBE[^|]*\\|\\s+-10\\s+\\|\\s+shadowed.*"));
            assertTrue(shadowed, shadowed.matches("(?s).*agf\\s+\\|\\s+xfstage-strategies-space\\s+\\|\\s+0\\s+\\|\\s+active.*"));
            Result builtIn = exec("xfs:scrub " + img);
            assertEquals("the built-in agf checks: " + builtIn.out(), 0, builtIn.status());

            props.put(Constants.SERVICE_RANKING, 1000);
            reg.setProperties(props);
            awaitAgf(engine, 1000, true);
            String raised = run("xfs:strategies");
            assertTrue(raised, raised.matches("(?s).*agf\\s+\\|\\s+PAXEXAM-PROBE[^|]*\\|\\s+1000\\s+\\|\\s+active.*"));
            assertTrue(raised, raised.matches("(?s).*agf\\s+\\|\\s+xfstage-strategies-space\\s+\\|\\s+0\\s+\\|\\s+shadowed.*"));
            Result ours = exec("xfs:scrub " + img);
            assertEquals("the re-ranked strategy checks: " + ours.out(), 1, ours.status());
            assertTrue(ours.out(), ours.out().contains(PROBLEM));

            props.put(Constants.SERVICE_RANKING, -10);
            reg.setProperties(props);
            awaitAgf(engine, -10, false);
            Result back = exec("xfs:scrub " + img);
            assertEquals("lowered again, the built-in is back: " + back.out(), 0, back.status());
        } finally {
            reg.unregister();
        }
    }

    /** Waits up to 10 s until the engine lists this test's agf strategy with that ranking and state. */
    private static void awaitAgf(RepairEngine engine, int ranking, boolean active) throws InterruptedException {
        List<StrategyInfo> now = List.of();
        for (int i = 0; i < 100; i++) {
            now = engine.strategies();
            if (now.stream().anyMatch(s -> s.structure().equals("agf") && s.bundle().startsWith("PAXEXAM-PROBE")
                    && s.ranking() == ranking && s.active() == active)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the test's agf strategy is not listed with ranking " + ranking + (active ? ", active" : ", shadowed")
                + ": " + now);
    }
}
