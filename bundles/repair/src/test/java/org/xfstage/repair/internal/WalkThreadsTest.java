package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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

/**
 * The walk with several threads (walkThreads) against the walk of one AG after another: on every corpus geometry, clean
 * and damaged by some of the oracle's recipes, the findings are the same, and so is every record the walk staged (a
 * strategy of this test reports a digest of each staged observation as a finding, so that a record staged in another
 * order, or missing, changes the findings).
 */
class WalkThreadsTest extends OracleEngine {
    private static final String DIGEST = "staged-digest";


    @BeforeAll
    static void addDigest() {
        engine.addStrategy(new StagedDigest(), Map.of(RepairStrategy.STRUCTURE, DIGEST));
    }


    static Stream<String> geometries() {
        return CorpusImages.geometries().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void cleanImageStagesTheSameWithTwoAndFourThreads(String geometry) throws Exception {
        sameWithEveryThreadCount(CorpusImages.image(geometry), geometry);
    }

    /** Damage the walk itself meets (btrees, AG headers, inodes, shared extents), and damage only checks see. */
    static Stream<Arguments> damaged() {
        Set<String> picked = Set.of("agf-freeblks", "bnobt-blockcount", "inobt-magic", "agfl-entry", "agf-magic", "agi-magic",
                "agf-flfirst", "refcount-cowflag", "extent-onto-neighbour", "agi-unlinked-in-use");
        return ScrubOracleTest.recipes().filter(a -> picked.contains((String) a.get()[0]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damaged")
    void damagedImageGivesTheSameFindings(String recipe, List<String> commands, Set<String> structures) throws Exception {
        Path img = dir.resolve(recipe + ".img");
        SparseFiles.copy(CorpusImages.image("default"), img);
        apply(img, commands);
        List<Finding> found = sameWithEveryThreadCount(img, recipe);
        assertTrue(found.stream().anyMatch(f -> !f.structure().equals(DIGEST)), recipe + " is found: " + found);
    }

    /** The namespace recipes (inode problems, extent maps, directories) on the geometry whose turn it is. */
    static Stream<Arguments> namespace() throws Exception {
        // one recipe in eight, on the geometries in turn: a sample of every kind of damage at the cost of a few scrubs
        return NamespaceRecipes.inTurn(NamespaceRecipes.all(), 8, false).stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("namespace")
    void namespaceDamageGivesTheSameFindings(NamespaceRecipes.Recipe recipe, String geometry) throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of(geometry);
        Path img = dir.resolve(recipe.name() + ".img");
        SparseFiles.copy(CorpusImages.image(geometry), img);
        apply(img, g.resolve(recipe.commands()));
        sameWithEveryThreadCount(img, recipe.name() + "@" + geometry);
    }

    /** A run cancelled while its AGs are walked ends with the one line of a cancelled scrub; no worker or array is left. */
    @Test
    void cancelledParallelWalkLeavesNoWorkerOrArray() throws Exception {
        AtomicReference<String> phase = new AtomicReference<>("");
        AtomicInteger askedInWalk = new AtomicInteger();
        Progress cancelInWalk = new Progress() {
            @Override
            public void total(String name, long units) {
                phase.set(name);
            }

            @Override
            public void increment(long units) {
            }

            @Override
            public boolean isCancelled() {
                if (!phase.get().equals("walk")) {
                    return false;
                }
                askedInWalk.incrementAndGet(); // the merging thread asks while it waits for an AG: its workers walk then
                return true;
            }
        };
        engine.setWalkThreads(2);
        try {
            RepairException e = assertThrows(RepairException.class,
                    () -> engine.scrub(CorpusImages.image("agcount16"), ScrubOptions.all(), cancelInWalk));
            assertTrue(e.getMessage().contains("cancelled") && !e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getCause().getMessage().contains("during the walk of AG"), e.getCause().getMessage());
            assertTrue(askedInWalk.get() > 0);
        } finally {
            engine.setWalkThreads(0);
        }
        assertEquals(List.of(), arrays.liveArrays(), "staging is freed after a cancelled run");
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive() && t.getName().contains(" walk ")),
                "no walk worker is left");
    }

    /** Scrubs {@code img} with 1, 2 and 4 threads: the same findings (digests of the staged records included). */
    private static List<Finding> sameWithEveryThreadCount(Path img, String what) throws Exception {
        try {
            engine.setWalkThreads(1);
            ScrubReport one = engine.scrub(img, ScrubOptions.all(), Progress.NONE);
            assertEquals(1L, one.figures().get("walk_threads"));
            assertTrue(one.findings().stream().anyMatch(f -> f.structure().equals(DIGEST)), what + ": the digest ran");
            for (int n : new int[] {2, 4}) {
                engine.setWalkThreads(n);
                ScrubReport many = engine.scrub(img, ScrubOptions.all(), Progress.NONE);
                assertEquals(one.findings(), many.findings(), what + " walked by " + n + " threads");
                assertEquals(one.figures().get("extents"), many.figures().get("extents"), what);
                assertEquals(one.figures().get("inodes"), many.figures().get("inodes"), what);
                assertEquals(Math.min(n, agCount(one)), many.figures().get("walk_threads"), what);
            }
            assertEquals(List.of(), arrays.liveArrays(), "staging is freed after the runs");
            return one.findings();
        } finally {
            engine.setWalkThreads(0);
        }
    }

    private static long agCount(ScrubReport r) {
        return r.figures().get("phase:walk:AGs");
    }

    private static void apply(Path img, List<String> commands) throws Exception {
        String out = CorpusImages.xfsDb(img, commands);
        for (String bad : List.of("not found", "parsing error", "invalid", "cannot", "Unknown")) {
            assertTrue(!out.contains(bad), "xfs_db did not apply " + commands + ": " + out);
        }
    }

    /** Reports, per observation the walk stages, a digest of its records in their staged order, and their count. */
    private static final class StagedDigest implements RepairStrategy {
        private static final List<Observation> STAGED = List.of(Observation.SPACE_MAP, Observation.INODE_MAP,
                Observation.INODE_PROBLEMS, Observation.LINK_COUNTS, Observation.FILE_MAPPINGS, Observation.RMAPBT_RECORDS);

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
                for (long i = a.loadNext(0, rec); i >= 0; i = a.loadNext(i + 1, rec)) {
                    d.update(ByteBuffer.allocate(Long.BYTES).putLong(i).array());
                    d.update(rec.duplicate());
                    n++;
                }
                findings.accept(new Finding(DIGEST, -1, o.name(), n + " records " + HexFormat.of().formatHex(d.digest()), null));
            }
        }
    }
}
