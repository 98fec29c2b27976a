package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;

/**
 * The checks run in parallel (as many at once as walkThreads; ParallelChecks) against one after the other: on corpus
 * images, clean and damaged, the findings are the same and in the same order, including those of two strategies of
 * this test that read every staged observation at the same time as the built-in checks, one by scans and one record by
 * record, and report digests of what they read. Checks do run at once; one that fails, hangs, or changes an observation
 * others read still ends the run in one line naming it, with no thread of it left; one that meets damage it cannot
 * decode still makes a finding.
 */
class ParallelChecksTest extends OracleEngine {
    private static final List<Observation> STAGED = List.of(Observation.SPACE_MAP, Observation.INODE_MAP,
            Observation.INODE_PROBLEMS, Observation.LINK_COUNTS, Observation.FILE_MAPPINGS, Observation.RMAPBT_RECORDS);

    @BeforeAll
    static void addDigests() {
        engine.addStrategy(new Digest(false), Map.of(RepairStrategy.STRUCTURE, "digest-scan"));
        engine.addStrategy(new Digest(true), Map.of(RepairStrategy.STRUCTURE, "digest-index"));
    }

    static Stream<String> geometries() {
        return Stream.of("default", "rmapbt", "agcount16");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void cleanImageGivesTheSameFindingsInTheSameOrder(String geometry) throws Exception {
        sameWithOneAndManyThreads(CorpusImages.image(geometry), geometry);
    }

    /** Damage several checks see at once (counters, btrees, inodes, headers), so that the order of many is compared. */
    static Stream<Arguments> damaged() {
        Set<String> picked = Set.of("agf-freeblks", "bnobt-blockcount", "inobt-magic", "agi-magic", "sb-icount",
                "extent-onto-neighbour", "agi-unlinked-in-use");
        return ScrubOracleTest.recipes().filter(a -> picked.contains((String) a.get()[0]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damaged")
    void damagedImageGivesTheSameFindingsInTheSameOrder(String recipe, List<String> commands, Set<String> structures)
            throws Exception {
        Path img = dir.resolve(recipe + ".img");
        SparseFiles.copy(CorpusImages.image("default"), img);
        CorpusImages.xfsDb(img, commands);
        List<Finding> found = sameWithOneAndManyThreads(img, recipe);
        assertTrue(found.stream().anyMatch(f -> structures.contains(f.structure())), recipe + " is found: " + found);
    }

    private static List<Finding> sameWithOneAndManyThreads(Path img, String what) throws Exception {
        try {
            engine.setWalkThreads(1);
            ScrubReport one = engine.scrub(img, ScrubOptions.all(), Progress.NONE);
            List<String> scans = digests(one, "digest-scan");
            assertEquals(scans, digests(one, "digest-index"), what + ": a scan and loads by index read the same records");
            assertTrue(scans.size() >= 4, what + ": the digests ran: " + scans);
            for (int n : new int[] {2, 4}) {
                engine.setWalkThreads(n);
                ScrubReport many = engine.scrub(img, ScrubOptions.all(), Progress.NONE);
                assertEquals(one.findings(), many.findings(), what + ", checks on " + n + " threads");
            }
            assertEquals(List.of(), arrays.liveArrays(), "staging is freed after the runs");
            return one.findings();
        } finally {
            engine.setWalkThreads(0);
        }
    }

    private static List<String> digests(ScrubReport r, String structure) {
        return r.findings().stream().filter(f -> f.structure().equals(structure)).map(f -> f.location() + " " + f.problem()).toList();
    }

    @Test
    void checksRunAtOnceAndTheirFindingsStayInTheStrategiesOrder() throws Exception {
        CountDownLatch secondDone = new CountDownLatch(1);
        // the first in order waits for the second to end: it can only end when both run at once, and ends last
        RepairEngineImpl e = engineWith(30, Map.of(
                "a-first", checking((ctx, out) -> {
                    out.accept(finding("a-first", secondDone.await(20, TimeUnit.SECONDS) ? "met" : "alone"));
                }),
                "b-second", checking((ctx, out) -> {
                    out.accept(finding("b-second", "done"));
                    secondDone.countDown();
                })));

        ScrubReport r = e.scrub(CorpusImages.image("default"), ScrubOptions.all(), Progress.NONE);

        assertEquals(List.of("a-first met", "b-second done"), r.findings().stream().map(f -> f.structure() + " " + f.problem()).toList());
    }

    @Test
    void aFailingCheckEndsTheRunInOneLineAndStopsTheOthers() throws Exception {
        CountDownLatch hanging = new CountDownLatch(1);
        RepairEngineImpl e = engineWith(60, Map.of(
                "a-ok", checking((ctx, out) -> out.accept(finding("a-ok", "fine"))),
                "b-boom", checking((ctx, out) -> {
                    hanging.await(20, TimeUnit.SECONDS); // fails while the next one runs
                    throw new IllegalStateException("boom");
                }),
                "c-hang", checking((ctx, out) -> {
                    hanging.countDown();
                    Thread.sleep(120_000); // until the run stops it
                })));

        RepairException x = assertThrows(RepairException.class, () -> e.scrub(CorpusImages.image("default"), ScrubOptions.all(), Progress.NONE));

        assertTrue(x.getMessage().startsWith("strategy 'b-boom' from ") && x.getMessage().contains("IllegalStateException: boom"),
                x.getMessage());
        assertFalse(x.getMessage().contains("\n"), "one line");
        assertEquals(List.of(), threadsNamed(StrategyRunner.threadName("c-hang")), "the check still running is stopped");
        assertEquals(List.of(), threadsNamed("xfstage checks "), "no check thread is left");
    }

    @Test
    void aHangingCheckEndsTheRunInOneLineAndItsThreadEnds() throws Exception {
        RepairEngineImpl e = engineWith(1, Map.of(
                "a-hang", checking((ctx, out) -> Thread.sleep(120_000)),
                "b-ok", checking((ctx, out) -> out.accept(finding("b-ok", "fine")))));

        RepairException x = assertThrows(RepairException.class, () -> e.scrub(CorpusImages.image("default"), ScrubOptions.all(), Progress.NONE));

        assertTrue(x.getMessage().startsWith("strategy 'a-hang' from ") && x.getMessage().contains("did not finish its check within 1 s")
                && x.getMessage().contains("it was stopped"), x.getMessage());
        assertFalse(x.getMessage().contains("\n"), "one line");
        assertEquals(List.of(), threadsNamed(StrategyRunner.threadName("a-hang")));
        assertEquals(List.of(), threadsNamed("xfstage checks "));
    }

    @Test
    void undecodableDamageInAParallelCheckIsAFindingAndAChangeToAnObservationFailsTheRun() throws Exception {
        RepairEngineImpl e = engineWith(60, Map.of(
                "a-format", checking((ctx, out) -> {
                    throw new XfsFormatException("bad magic 0x0 in block 7", "a-format");
                }),
                "b-ok", checking((ctx, out) -> out.accept(finding("b-ok", "fine")))));
        ScrubReport r = e.scrub(CorpusImages.image("default"), ScrubOptions.all(), Progress.NONE);
        assertEquals(List.of(new Finding("a-format", -1, "while checking", "bad magic 0x0 in block 7", null), finding("b-ok", "fine")),
                r.findings());

        RepairEngineImpl w = engineWith(60, Map.of(
                "a-ok", checking((ctx, out) -> out.accept(finding("a-ok", "fine"))),
                "b-writer", checking((ctx, out) -> ctx.observation(Observation.INODE_MAP).unset(0))));
        RepairException x = assertThrows(RepairException.class, () -> w.scrub(CorpusImages.image("default"), ScrubOptions.all(), Progress.NONE));
        assertTrue(x.getMessage().startsWith("strategy 'b-writer' from ") && x.getMessage().contains("UnsupportedOperationException"),
                x.getMessage());
    }

    private static Finding finding(String structure, String problem) {
        return new Finding(structure, -1, "test", problem, null);
    }

    private static List<Thread> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).toList();
    }

    /** An engine with these strategies only, two threads for the checks, and a limit of {@code seconds} per check. */
    private static RepairEngineImpl engineWith(long seconds, Map<String, RepairStrategy> strategies) {
        RepairEngineImpl e = new RepairEngineImpl(new XfsDeviceServiceImpl(), arrays, new XfBlobFactoryImpl(xfiles), xfiles);
        e.configure(new RepairEngineImpl.Config() {
            @Override
            public long strategyTimeoutSeconds() {
                return seconds;
            }

            @Override
            public int walkThreads() {
                return 2;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return RepairEngineImpl.Config.class;
            }
        });
        strategies.forEach((k, v) -> e.addStrategy(v, Map.of(RepairStrategy.STRUCTURE, k)));
        return e;
    }

    @FunctionalInterface
    private interface Body {
        void run(ScrubContext ctx, Consumer<Finding> out) throws Exception;
    }

    private static RepairStrategy checking(Body body) {
        return new RepairStrategy() {
            @Override
            public Set<Observation> needs() {
                return Set.of(Observation.INODE_MAP);
            }

            @Override
            public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
                body.run(ctx, findings);
            }
        };
    }

    /**
     * Reports per staged observation the count and a digest of its records with their indexes: read by scans
     * (loadNext), or record by record by index (isNull, load), which take the array's lock per record.
     */
    private static final class Digest implements RepairStrategy {
        private final boolean byIndex;

        Digest(boolean byIndex) {
            this.byIndex = byIndex;
        }

        @Override
        public Set<Observation> needs() {
            return Set.copyOf(STAGED);
        }

        @Override
        public void check(ScrubContext context, Consumer<Finding> findings) throws Exception {
            for (Observation o : STAGED) {
                XfArray a = context.observation(o);
                if (a == null) {
                    continue; // not staged on this filesystem (file mappings and rmapbt records without an rmapbt)
                }
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                ByteBuffer rec = ByteBuffer.allocate(a.recordSize());
                long n = 0;
                if (byIndex) {
                    for (long i = 0; i < a.length(); i++) {
                        if (!a.isNull(i)) {
                            a.load(i, rec);
                            n += add(d, i, rec);
                        }
                    }
                } else {
                    for (long i = a.loadNext(0, rec); i >= 0; i = a.loadNext(i + 1, rec)) {
                        n += add(d, i, rec);
                    }
                }
                findings.accept(new Finding(byIndex ? "digest-index" : "digest-scan", -1, o.name(),
                        n + " records " + HexFormat.of().formatHex(d.digest()), null));
            }
        }

        private static int add(MessageDigest d, long i, ByteBuffer rec) {
            d.update(ByteBuffer.allocate(Long.BYTES).putLong(i).array());
            d.update(rec.duplicate());
            return 1;
        }
    }
}
