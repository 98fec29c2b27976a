package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.FileType;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.repair.TreeWalkCheck;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;

/**
 * The tree-walk checks told the walk on a thread of their own (TreePipe, with walkThreads above one) against on the
 * walking thread: every event, in the same order (a digest of all of them, with their numbers, names and problems),
 * on the corpus images (a directory of each of the four forms, and thousands of events: several batches); with two
 * threads the events arrive on the pipe's thread, and it has ended when the scrub returns.
 */
class TreePipeTest extends OracleEngine {
    /** Threads the recording check was told events on, by scrub. */
    private static final Map<String, Set<String>> THREADS = new ConcurrentHashMap<>();

    @BeforeAll
    static void addRecorder() {
        engine.addStrategy(new RepairStrategy() {
            @Override
            public Set<Observation> needs() {
                return Set.of();
            }

            @Override
            public TreeWalkCheck treeWalkCheck(ScrubContext ctx) throws Exception {
                return new Recorder();
            }

            @Override
            public void check(ScrubContext ctx, Consumer<Finding> findings) {
            }
        }, Map.of(RepairStrategy.STRUCTURE, "recorded-walk"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "agcount16", "n8192"})
    void theChecksAreToldTheSameEventsInTheSameOrderOnTheirOwnThread(String geometry) throws Exception {
        Path img = CorpusImages.image(geometry);
        try {
            engine.setWalkThreads(1);
            ScrubReport one = engine.scrub(img, ScrubOptions.all(), Progress.NONE);
            engine.setWalkThreads(2);
            ScrubReport two = engine.scrub(img, ScrubOptions.all(), Progress.NONE);

            Finding a = recorded(one);
            Finding b = recorded(two);
            assertEquals(a.problem(), b.problem(), geometry + ": the same events in the same order");
            assertTrue(Long.parseLong(a.problem().split(" ")[0]) > TreePipe.BATCH, "several batches: " + a.problem());
            assertEquals(one.findings().stream().filter(f -> f != a).toList(), two.findings().stream().filter(f -> f != b).toList(),
                    geometry);
            assertEquals(Set.of("the walking thread"), Set.of(a.expected()));
            assertEquals(Set.of("a thread of their own"), Set.of(b.expected()));
            assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive()
                    && t.getName().startsWith("xfstage tree checks")), "the pipe's thread has ended");
        } finally {
            engine.setWalkThreads(0);
        }
    }

    private static Finding recorded(ScrubReport r) {
        List<Finding> f = r.findings().stream().filter(x -> x.structure().equals("recorded-walk")).toList();
        assertEquals(1, f.size(), r.findings().toString());
        return f.get(0);
    }

    /** Every event into a digest; where they were told, as the expected value of its one finding. */
    private static final class Recorder implements TreeWalkCheck {
        private final Thread made = Thread.currentThread(); // the walking thread asks for the check
        private final MessageDigest d;
        private long events;
        private boolean elsewhere;
        private boolean here;

        Recorder() throws Exception {
            d = MessageDigest.getInstance("SHA-256");
        }

        private void add(String event) {
            events++;
            if (Thread.currentThread() == made) {
                here = true;
            } else {
                elsewhere = true;
            }
            d.update(event.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void directory(long ino, String path, long nlink) {
            add("D " + ino + " " + path + " " + nlink);
        }

        @Override
        public void directory(long ino, String path) {
        }

        @Override
        public void entry(DirectoryEntry e) {
            add("E " + e.directory() + " " + HexFormat.of().formatHex(e.name()) + " " + e.hash() + " " + e.child() + " " + e.type()
                    + " " + e.offset());
        }

        @Override
        public void child(long ino, FileType type, long nlink) {
            add("C " + ino + " " + type + " " + nlink);
        }

        @Override
        public void child(long ino, FileType type) {
        }

        @Override
        public void problem(DirectoryProblem p) {
            add("P " + p);
        }

        @Override
        public void finish(ScrubContext context, Consumer<Finding> findings) {
            String where = here && !elsewhere ? "the walking thread" : elsewhere && !here ? "a thread of their own" : "both";
            findings.accept(new Finding("recorded-walk", -1, "tree", events + " events " + HexFormat.of().formatHex(d.digest()),
                    where));
        }

        @Override
        public void close() {
        }
    }
}
