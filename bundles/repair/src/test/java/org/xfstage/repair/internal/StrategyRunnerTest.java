package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * A strategy past its time limit is really stopped: the run ends with a one-line RepairException naming it (the shell's
 * exit status 2). One that spins on its staging loses it (the arrays it made are closed under it) and its thread ends;
 * one that spins touching nothing and ignoring interrupts cannot be killed, and the message says so. A run interrupted
 * by its caller (Ctrl-C) stops the strategy the same way.
 */
class StrategyRunnerTest {
    static XFileFactoryImpl xfiles;
    static XfArrayFactoryImpl arrays;

    @BeforeAll
    static void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 30, 1L << 31);
        arrays = new XfArrayFactoryImpl(xfiles);
    }

    @AfterAll
    static void stop() {
        arrays.deactivate();
        xfiles.deactivate();
    }

    /** An engine with one strategy, and a limit of one second. */
    private static RepairEngineImpl engineWith(String structure, RepairStrategy strategy) {
        RepairEngineImpl e = new RepairEngineImpl(new XfsDeviceServiceImpl(), arrays);
        e.configure(new RepairEngineImpl.Config() {
            @Override
            public long strategyTimeoutSeconds() {
                return 1;
            }

            @Override
            public int walkThreads() {
                return 0;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return RepairEngineImpl.Config.class;
            }
        });
        e.addStrategy(strategy, Map.of(RepairStrategy.STRUCTURE, structure));
        return e;
    }

    /** A check that runs {@code body}; no observations. */
    private static RepairStrategy checking(Body body) {
        return new RepairStrategy() {
            @Override
            public Set<Observation> needs() {
                return Set.of();
            }

            @Override
            public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
                body.run(ctx);
            }
        };
    }

    @FunctionalInterface
    private interface Body {
        void run(ScrubContext ctx) throws Exception;
    }

    /** Stores into an array of its own, for ever, clearing every interrupt: only losing its staging stops it. */
    private static void spinOnStaging(ScrubContext ctx, CountDownLatch started) throws Exception {
        XfArray a = ctx.arrays().create("spinning strategy's array", Long.BYTES);
        ByteBuffer rec = ByteBuffer.allocate(Long.BYTES);
        started.countDown();
        for (long i = 1;; i++) {
            Thread.interrupted(); // ignores interrupts on purpose
            rec.clear();
            rec.putLong(i).flip();
            a.store(i % 1024, rec);
        }
    }

    private static List<Thread> threadsOf(String structure) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals(StrategyRunner.threadName(structure))).toList();
    }

    private static Path image() throws Exception {
        return CorpusImages.image("default");
    }

    @Test
    void aStrategyThatSpinsOnItsStagingLosesItAndItsThreadEnds() throws Exception {
        RepairEngineImpl e = engineWith("spin-staging", checking(ctx -> spinOnStaging(ctx, new CountDownLatch(1))));

        RepairException x = assertThrows(RepairException.class, () -> e.scrub(image(), ScrubOptions.all(), Progress.NONE));

        assertTrue(x.getMessage().startsWith("strategy 'spin-staging' from ") && x.getMessage().contains("did not finish its check within 1 s")
                && x.getMessage().contains("it was stopped") && x.getMessage().endsWith("nothing was written"), x.getMessage());
        assertFalse(x.getMessage().contains("\n"), "one line");
        assertEquals(List.of(), threadsOf("spin-staging"), "no thread of the strategy is left running");
        assertTrue(arrays.liveArrays().stream().noneMatch(a -> a.name().equals("spinning strategy's array")), "its staging is gone: "
                + arrays.liveArrays());
    }

    @Test
    void aStrategyThatSpinsTouchingNothingIsReportedStillRunningBecauseAThreadCannotBeKilled() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        RepairEngineImpl e = engineWith("spin-nothing", checking(ctx -> {
            while (!release.get()) {
                Thread.interrupted(); // ignores interrupts, holds no staging, calls nothing
                Thread.onSpinWait();
            }
        }));
        try {
            RepairException x = assertThrows(RepairException.class, () -> e.scrub(image(), ScrubOptions.all(), Progress.NONE));

            assertTrue(x.getMessage().contains("did not finish its check within 1 s") && x.getMessage().contains("is still running")
                    && x.getMessage().contains("cannot be killed") && x.getMessage().endsWith("nothing was written"), x.getMessage());
            assertFalse(x.getMessage().contains("\n"), "one line");
            assertEquals(1, threadsOf("spin-nothing").size(), "the message says what is true: the thread still runs");
        } finally {
            release.set(true); // the test's own thread: let it end
            for (Thread t : threadsOf("spin-nothing")) {
                t.join();
            }
        }
        assertEquals(List.of(), threadsOf("spin-nothing"));
    }

    @Test
    void aRunInterruptedByItsCallerStopsTheStrategyToo() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        RepairEngineImpl e = engineWith("spin-interrupted", checking(ctx -> spinOnStaging(ctx, started)));
        e.configure(new RepairEngineImpl.Config() {
            @Override
            public long strategyTimeoutSeconds() {
                return 600; // the caller stops it, not the limit
            }

            @Override
            public int walkThreads() {
                return 0;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return RepairEngineImpl.Config.class;
            }
        });
        AtomicReference<Exception> ended = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                e.scrub(image(), ScrubOptions.all(), Progress.NONE);
            } catch (Exception x) {
                ended.set(x);
            }
        }, "caller");
        caller.start();
        started.await();
        caller.interrupt(); // what Ctrl-C does to a command's thread
        caller.join();

        assertTrue(ended.get() instanceof RepairException && ended.get().getMessage().contains("cancelled"), String.valueOf(ended.get()));
        assertEquals(List.of(), threadsOf("spin-interrupted"));
    }
}
