package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.strategies.namespace.RebuildBothWays;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The directory rebuild's plan reads the tree walk by directory (DirectoryRebuildPlan), loading names only where the
 * rebuild may need them: on a real image of many directories, a one-directory rebuild loads about that directory's
 * names and not the tree's, and its plan is the one the whole walk's replay makes (the code as it was), block for
 * block and line for line, refusals word for word (RebuildBothWays makes both). What the pass by directory does not
 * read (a name held twice in a directory with no problem record: only hashes show it; a name cut at a '/': a problem
 * record of its own) is still rebuilt, and xfs_repair -n finds the repaired image clean.
 */
class DirectoryRebuildByDirectoryTest {
    private static XFileFactoryImpl xfiles;
    private static XfArrayFactoryImpl arrays;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        arrays = new XfArrayFactoryImpl(xfiles);
    }

    @AfterAll
    static void stop() {
        arrays.deactivate();
        xfiles.deactivate();
    }

    /** The engine with every built-in strategy, the directory one seen through {@code probe} (ranked above it). */
    private static RepairEngineImpl engine(RebuildBothWays probe) {
        RepairEngineImpl e = RepairOracleTest.engineWithBuiltIns(xfiles, arrays);
        e.addStrategy(probe, Map.of(RepairStrategy.STRUCTURE, "directory", org.osgi.framework.Constants.SERVICE_RANKING, 10));
        return e;
    }

    /** {@code base} copied, damaged by {@code commands}, repaired (dry run, then applied), checked by xfs_repair -n. */
    private RebuildBothWays repair(Path base, String name, List<String> commands) throws Exception {
        Path img = dir.resolve(name + ".img");
        SparseFiles.copy(base, img);
        CorpusImages.xfsDb(img, commands);
        RebuildBothWays probe = new RebuildBothWays();
        RepairEngineImpl engine = engine(probe);
        RepairReport dry = engine.repair(img, new RepairOptions(false, null), Progress.NONE);
        assertTrue(dry.unrepaired().isEmpty(), name + ": every finding has a plan: " + dry);
        RepairReport done = engine.repair(img, new RepairOptions(true, dir.resolve(name + ".undo")), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), name + ": clean after the repair: " + done.after().findings());
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), name + ": xfs_repair -n after the repair:\n" + check.getValue());
        assertTrue(probe.compared > 0, name + ": the rebuild was planned");
        assertEquals(List.of(), probe.differences, name + ": read by directory, the plan is the whole walk's");
        return probe;
    }

    /**
     * 80 directories of 1,000 files, one name of /d7 changed (its hash index no longer matches it): /d7 alone is
     * rebuilt, and the plan loads its names and a few per directory ("." and "..", the subdirectories' names), where
     * the whole walk's replay loads every name of the tree.
     */
    @Test
    void aOneDirectoryRebuildLoadsThatDirectorysNamesNotTheTrees() throws Exception {
        RebuildBothWays probe = repair(CorpusImages.manyInodes("default"), "d7-name",
                List.of("path /d7", "dblock 0", "write -d du[3].name \"g1\""));
        long perRebuild = probe.loadedByDirectory / probe.compared;
        long tree = probe.entriesTold / probe.compared;
        System.out.printf("DIRECTORY REBUILD names loaded per plan: %d by directory, %d by the whole walk, of %d entries told%n",
                perRebuild, probe.loadedWhole / probe.compared, tree);
        assertTrue(tree > 80_000, "the walk tells every entry of the tree: " + tree);
        assertTrue(probe.loadedWhole / probe.compared >= 80_000, "the whole walk's replay loads every name: " + probe.loadedWhole);
        // /d7's 1,000 names read again, then by the device as it writes them (compared for names held twice only on
        // a key held twice); "." and ".." of each of the 81 directories, the root's names (read whole) twice too
        assertTrue(perRebuild <= 2 * 1_002 + 4 * 82, "names loaded by one rebuild read by directory: " + perRebuild + " of " + tree);
        assertTrue(probe.lastChanges.stream().anyMatch(c -> c.contains("rebuilt: bad hash")), probe.lastChanges.toString());
    }

    /**
     * A short-form directory (no hash index, so no problem record) holding a name twice: the pass by directory sees
     * the hash twice, reads the directory again and drops the second, as before.
     */
    @Test
    void aNameHeldTwiceWithoutAProblemRecordIsStillDropped() throws Exception {
        RebuildBothWays probe = repair(CorpusImages.image("default"), "sf-twice",
                List.of("path /sf", "write -d u3.sfdir3.list[1].name \"entry-00000-with-a-longer-name\""));
        assertTrue(probe.lastChanges.stream().anyMatch(c -> c.contains("\"entry-00000-with-a-longer-name\" held twice: the one naming inode")),
                probe.lastChanges.toString());
    }

    /** A name holding '/' in a single-block directory: cut there and renamed, as before. */
    @Test
    void aNameHoldingASlashIsStillCut() throws Exception {
        RebuildBothWays probe = repair(CorpusImages.image("default"), "block-slash",
                List.of("path /block", "dblock 0", "write -d bu[3].name \"entry/00001-with-a-longer-name\""));
        assertTrue(probe.lastChanges.stream().anyMatch(c -> c.contains("\"entry/00001-with-a-longer-name\" renamed \"entry\"")),
                probe.lastChanges.toString());
    }

    /**
     * The namespace matrix's directory recipes (every third by default, all with -Dxfstage.matrix=full), dry runs on
     * the default geometry: wherever the rebuild is planned, both ways make the same plan or the same refusal.
     */
    static Stream<Arguments> directoryRecipes() {
        boolean full = "full".equals(System.getProperty("xfstage.matrix"));
        List<NamespaceRecipes.Recipe> all = NamespaceRecipes.directories();
        List<Arguments> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (full || i % 3 == 0) {
                out.add(Arguments.of(all.get(i)));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("directoryRecipes")
    void bothWaysMakeTheSamePlan(NamespaceRecipes.Recipe recipe) throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of("default");
        String why = recipe.notApplicable().apply(g);
        org.junit.jupiter.api.Assumptions.assumeTrue(why == null, () -> recipe.name() + ": " + why);
        Path img = dir.resolve(recipe.name() + ".img");
        SparseFiles.copy(CorpusImages.image("default"), img);
        CorpusImages.xfsDb(img, g.resolve(recipe.commands()));
        RebuildBothWays probe = new RebuildBothWays();
        engine(probe).repair(img, new RepairOptions(false, null), Progress.NONE);
        assertEquals(List.of(), probe.differences, recipe.name() + ": read by directory, the plan is the whole walk's");
    }
}
