package org.xfstage.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArrayFactory;

/** Services swapped under a running system: xfile updated while idle, xfarray stopped in the middle of a repair. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotSwapContainerTest extends ContainerSupport {

    @Test
    public void xfileUpdatedWhileIdleServesTheNextScrub() throws Exception {
        Path img = damagedImage("update", "update\n");
        String before = providerLine();
        Bundle xfile = bundle("xfstage-xfile");
        long installed = xfile.getLastModified();
        run("bundle:update " + xfile.getBundleId());
        // the provider line shows lastModified to the millisecond: once it moved, the line must change
        await(Duration.ofSeconds(10), () -> xfile.getLastModified() != installed, "the xfile bundle's lastModified to change");
        String after = await(Duration.ofSeconds(10), () -> {
            Result r = exec("xfs:staging");
            return r.status() == 0 ? providerLine(r.out()) : "";
        }, line -> !line.isEmpty() && !line.equals(before), "xfs:staging showing the updated provider");
        assertNotEquals("xfs:staging shows the updated provider: " + before, before, after);
        assertEquals("the next scrub works (and finds the damage)", 1, exec("xfs:scrub " + img).status());
    }

    @Test
    public void xfarrayStoppedDuringARepairAbortsItNamingTheServiceAndWritesNothing() throws Exception {
        Path img = damagedImage("stop", "stop\n");
        byte[] damaged = Files.readAllBytes(img);
        CountDownLatch inCheck = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RepairStrategy waiting = new RepairStrategy() {
            @Override
            public Set<Observation> needs() {
                return Set.of(Observation.SPACE_MAP);
            }

            @Override
            public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
                inCheck.countDown();
                release.await();
                ctx.observation(Observation.SPACE_MAP).loadNext(0, ByteBuffer.allocate(24)); // staging is gone by now
            }
        };
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RepairStrategy.STRUCTURE, "rmapbt");
        props.put(Constants.SERVICE_RANKING, 1000);
        ServiceRegistration<RepairStrategy> reg = context.registerService(RepairStrategy.class, waiting, props);
        ExecutorService runner = Executors.newSingleThreadExecutor();
        Bundle xfarray = bundle("xfstage-xfarray");
        try {
            Future<Result> repair = runner.submit(() -> exec("xfs:repair --apply --undo-file " + img + ".undo " + img));
            assertTrue("the repair reached the strategy", inCheck.await(30, TimeUnit.SECONDS));
            xfarray.stop();
            release.countDown();
            Result r = repair.get(60, TimeUnit.SECONDS);
            assertEquals(r.out(), 2, r.status());
            assertTrue(r.out(), r.out().contains("xfarray staging service went away") && r.out().strip().lines().count() == 1);
            assertArrayEquals("nothing written", damaged, Files.readAllBytes(img));
            assertTrue(!Files.exists(Path.of(img + ".undo")));
            assertTrue("no staging file left behind", run("xfs:staging").contains("0 xfile(s)"));
        } finally {
            reg.unregister();
            release.countDown();
            xfarray.start();
            runner.shutdownNow();
        }
        awaitService(XfArrayFactory.class);
        Result next = await(Duration.ofSeconds(5), () -> exec("xfs:repair --apply --undo-file " + img + ".undo " + img),
                r -> r.status() != 2, "the engine back with xfarray");
        assertEquals("started again, the next run succeeds: " + next.out(), 0, next.status());
    }

    private String providerLine() throws Exception {
        return providerLine(run("xfs:staging"));
    }

    private static String providerLine(String staging) {
        return staging.lines().filter(l -> l.startsWith("provider: ")).findFirst().orElse("");
    }

}
