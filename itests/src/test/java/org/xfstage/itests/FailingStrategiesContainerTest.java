package org.xfstage.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * Strategies that misbehave, registered at runtime by this test's bundle with a high ranking: one that throws, one
 * that hangs past the configured time, one whose plan does not verify. Each run ends with status 2 and a line
 * naming the strategy and its bundle, and the image is unchanged.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FailingStrategiesContainerTest extends ContainerSupport {

    /** A strategy built from lambdas: what its check and plan do. */
    private record Misbehaving(Check check, Planner planner) implements RepairStrategy {
        interface Check {
            void run(ScrubContext ctx, Consumer<Finding> findings) throws Exception;
        }

        interface Planner {
            Plan run(ScrubContext ctx) throws Exception;
        }

        @Override
        public Set<Observation> needs() {
            return Set.of();
        }

        @Override
        public void check(ScrubContext context, Consumer<Finding> findings) throws Exception {
            check.run(context, findings);
        }

        @Override
        public Plan plan(ScrubContext context, List<Finding> findings) throws Exception {
            return planner.run(context);
        }
    }

    @Test
    public void aStrategyThatThrowsHangsOrPlansGarbageIsNamedAndNothingIsWritten() throws Exception {
        Xfsprogs xfsprogs = Xfsprogs.find();
        Path dir = tempDirectory("failing");
        Path img = xfsprogs.oneFileImage(dir, "failing\n");
        byte[] before = Files.readAllBytes(img);
        String repair = "xfs:repair --apply --undo-file " + dir.resolve("undo") + " " + img;

        String thrown = misbehave("agf", new Misbehaving((ctx, f) -> {
            throw new IllegalStateException("boom");
        }, ctx -> null), "xfs:scrub " + img);
        assertTrue(thrown, thrown.contains("strategy 'agf' from PAXEXAM-PROBE") && thrown.contains("IllegalStateException: boom"));

        CountDownLatch never = new CountDownLatch(1);
        setConfig("org.xfstage.repair", "strategyTimeoutSeconds", "2");
        // the engine is modified asynchronously; SCR updates its service properties after its @Modified method ran
        await(Duration.ofSeconds(10), () -> {
            ServiceReference<RepairEngine> engine = context.getServiceReference(RepairEngine.class);
            return engine != null && "2".equals(String.valueOf(engine.getProperty("strategyTimeoutSeconds")));
        }, "the engine configured with strategyTimeoutSeconds=2");
        try {
            String hung = misbehave("agi", new Misbehaving((ctx, f) -> never.await(), ctx -> null), repair);
            assertTrue(hung, hung.contains("strategy 'agi' from PAXEXAM-PROBE") && hung.contains("did not finish its check within 2 s"));
        } finally {
            setConfig("org.xfstage.repair", "strategyTimeoutSeconds", "600");
        }

        String garbage = misbehave("bnobt", new Misbehaving((ctx, f) -> f.accept(new Finding("bnobt", 1, "test", "made up", null)),
                ctx -> {
                    long agf1 = (long) ctx.info().agBlocks() * ctx.info().blockSize() + ctx.info().sectorSize();
                    return new Plan("bnobt", List.of(new BlockImage(agf1, new byte[ctx.info().sectorSize()], "AGF of AG 1")), List.of("zeros"));
                }), repair);
        assertTrue(garbage, garbage.contains("the plan of strategy 'bnobt' from PAXEXAM-PROBE") && garbage.contains("does not verify"));

        assertArrayEquals("nothing was written by any of them", before, Files.readAllBytes(img));
        assertTrue(!Files.exists(dir.resolve("undo")));
        assertEquals("with the built-ins back, the image scrubs clean", 0, exec("xfs:scrub " + img).status());
    }

    /**
     * Ctrl-C: Karaf interrupts the command's thread. The run stops (the strategy in progress is interrupted too),
     * ends with status 2, writes nothing and frees its staging.
     */
    @Test
    public void anInterruptedRepairStopsCleanly() throws Exception {
        Path img = damagedImage("cancel", "cancel\n");
        Path dir = img.getParent();
        byte[] damaged = Files.readAllBytes(img);
        CountDownLatch running = new CountDownLatch(1);
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RepairStrategy.STRUCTURE, "inobt");
        props.put(Constants.SERVICE_RANKING, 1000);
        ServiceRegistration<RepairStrategy> reg = context.registerService(RepairStrategy.class, new Misbehaving((ctx, f) -> {
            running.countDown();
            while (!ctx.progress().isCancelled()) { // a long check that watches for cancellation, as strategies should
                Thread.onSpinWait();
            }
            throw new org.xfstage.api.staging.CancelledException("check of inobt cancelled");
        }, ctx -> null), props);
        Result[] result = {null};
        Thread command = new Thread(() -> {
            try {
                result[0] = exec("xfs:repair --apply --undo-file " + dir.resolve("undo") + " " + img);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "xfs:repair");
        try {
            command.start();
            assertTrue(running.await(30, java.util.concurrent.TimeUnit.SECONDS));
            // Ctrl-C: Karaf interrupts the thread its shell runs the command on (a gogo pipe thread)
            Thread commandThread = Thread.getAllStackTraces().entrySet().stream()
                    .filter(e -> java.util.Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().endsWith("RepairCommand")))
                    .map(java.util.Map.Entry::getKey).findFirst().orElseThrow();
            commandThread.interrupt();
            command.join(30_000);
        } finally {
            reg.unregister();
        }
        assertTrue("the command ended", !command.isAlive() && result[0] != null);
        assertEquals(result[0].out(), 2, result[0].status());
        assertTrue(result[0].out(), result[0].out().contains("cancelled") && result[0].out().strip().lines().count() == 1);
        assertArrayEquals("nothing written", damaged, Files.readAllBytes(img));
        assertTrue(!Files.exists(dir.resolve("undo")));
        String staging = await(Duration.ofSeconds(5), () -> run("xfs:staging"), s -> s.contains("0 xfile(s)"), "staging freed");
        assertTrue("staging freed: " + staging, staging.contains("0 xfile(s)") && staging.contains("0 xfarray(s)"));
    }

    /** Registers the strategy above the built-in for the structure, runs the command, unregisters; returns its last line. */
    private String misbehave(String structure, RepairStrategy strategy, String command) throws Exception {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RepairStrategy.STRUCTURE, structure);
        props.put(Constants.SERVICE_RANKING, 1000);
        ServiceRegistration<RepairStrategy> reg = context.registerService(RepairStrategy.class, strategy, props);
        try {
            return failure(command, 2);
        } finally {
            reg.unregister();
        }
    }
}
