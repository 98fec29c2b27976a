package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;

/**
 * Issue 18's proof over the namespace catalogue ({@link NamespaceRecipes}): each recipe damages a copy of a corpus image,
 * then {@code repair --apply} runs on it. Each case ends one of three ways, and anything else fails:
 * <ul>
 * <li><b>repaired</b>: {@code xfs_repair -n} exits 0 after it; every file of the clean image is still there with the same
 * type, mode, size, target and content, at its path or moved under {@code /lost+found}, or a plan's change lines name
 * its path (a file whose inode was cleared or whose data lost blocks: the report lists it); no other path appears; the
 * undo journal gives back the damaged image bit for bit;</li>
 * <li><b>refused</b>: the repair plans nothing for some finding or a plan fails its re-check, and the image's bytes are
 * as the damage left them;</li>
 * <li><b>consistent</b>: the recipe is no damage for {@code xfs_repair -n} nor for us (blocks past EOF, a sparse tail...),
 * and the repair writes nothing.</li>
 * </ul>
 * The totals are printed at the end (README's repair matrix). By default every eighth recipe runs, on the geometries in
 * turn; {@code -Dxfstage.matrix=recipes} runs every recipe once (the geometries in turn), {@code -Dxfstage.matrix=full}
 * every recipe on every geometry; {@code -Dxfstage.recipes=REGEX} narrows it.
 */
class NamespaceRepairMatrixTest extends OracleEngine {
    private static final Map<String, Integer> TOTALS = new TreeMap<>();
    private static final Map<String, List<String>> MANIFESTS = new ConcurrentHashMap<>();



    @AfterAll
    static void printTotals() {
        System.out.println("NAMESPACE REPAIR MATRIX " + TOTALS);
    }

    static Stream<Arguments> cases() throws Exception {
        String only = System.getProperty("xfstage.recipes", ".*");
        int every = "recipes".equals(System.getProperty("xfstage.matrix")) || !only.equals(".*") ? 1 : 8;
        List<NamespaceRecipes.Recipe> all = NamespaceRecipes.all().stream().filter(r -> r.name().matches(only)).toList();
        return NamespaceRecipes.inTurn(all, every, "full".equals(System.getProperty("xfstage.matrix"))).stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void repairedRefusedWithNothingWrittenOrConsistent(NamespaceRecipes.Recipe recipe, String geometry) throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of(geometry);
        String why = recipe.notApplicable().apply(g);
        if (why != null) {
            org.junit.jupiter.api.Assumptions.abort(recipe.name() + " does not apply on " + geometry + ": " + why);
        }
        String name = recipe.name() + "@" + geometry;
        Path img = dir.resolve(recipe.name() + "-" + geometry + ".img");
        org.xfstage.device.internal.SparseFiles.copy(CorpusImages.image(geometry), img);
        CorpusImages.xfsDb(img, g.resolve(recipe.commands()));
        String damaged = RepairOracleTest.sha256(img);
        boolean theyFindDamage = xfsRepairN(img).getKey() != 0;

        Path journal = dir.resolve(recipe.name() + "-" + geometry + ".undo");
        RepairReport r;
        try {
            r = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        } catch (RepairException e) { // a plan refused at its re-check: nothing written
            assertEquals(damaged, RepairOracleTest.sha256(img), name + ": refused (" + e.getMessage() + "), yet the image changed");
            outcome(name, "refused", e.getMessage());
            return;
        }
        if (r.before().clean()) {
            assertTrue(!theyFindDamage, name + ": we call it clean where xfs_repair -n finds damage");
            assertEquals(damaged, RepairOracleTest.sha256(img), name + ": nothing to repair, yet the image changed");
            outcome(name, "consistent", "");
            return;
        }
        if (!r.applied()) {
            assertEquals(damaged, RepairOracleTest.sha256(img), name + ": refused, yet the image changed");
            outcome(name, "refused", "no strategy repairs " + r.unrepaired());
            return;
        }
        assertTrue(r.after() != null && r.after().clean(), name + ": applied but not clean for us: " + (r.after() == null ? "" : r.after().findings()));
        var check = xfsRepairN(img);
        assertEquals(0, check.getKey(), name + ": xfs_repair -n after our repair:\n" + check.getValue());
        List<String> changes = r.plans().stream().flatMap(p -> p.changes().stream()).toList();
        int moved = filesKeptOrReported(name, withoutDirectorySizes(manifestOf(geometry)),
                withoutDirectorySizes(RepairOracleTest.manifest(img)), changes);
        assertEquals(r.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, RepairOracleTest.sha256(img), name + ": undo restores the damaged image bit for bit");
        outcome(name, "repaired", moved == 0 ? "" : moved + " file(s) moved to lost+found or renamed");
    }

    /**
     * Checks the manifest after a repair against the clean image's: each file kept at its path; or found again, the same
     * file, under lost+found or under a name a change line gives (a name the rebuild could only read in part); or named
     * in a change line (lost). Nothing else may appear. Returns how many files moved or were renamed.
     */
    private static int filesKeptOrReported(String name, List<String> before, List<String> after, List<String> changes) {
        Map<String, String> byPath = new HashMap<>();
        for (String line : after) {
            byPath.put(line.substring(0, line.indexOf(' ')), line);
        }
        java.util.Set<String> beforePaths = new java.util.HashSet<>();
        before.forEach(l -> beforePaths.add(l.substring(0, l.indexOf(' '))));
        // paths the repair made, by what they hold (all but the path): moved and renamed files are found among them
        Map<String, java.util.Deque<String>> made = new HashMap<>();
        byPath.forEach((path, line) -> {
            if (!beforePaths.contains(path) && !path.equals("/lost+found")) {
                made.computeIfAbsent(line.substring(line.indexOf(' ')), k -> new java.util.ArrayDeque<>()).add(path);
            }
        });
        int moved = 0;
        List<String> silent = new ArrayList<>();
        // files a change line names (lost, or changed in place) first, so that they take no moved file's place
        List<String> missing = before.stream().filter(l -> !l.equals(byPath.get(l.substring(0, l.indexOf(' ')))))
                .filter(l -> !named(changes, l.substring(0, l.indexOf(' ')))).toList();
        for (String line : missing) {
            String path = line.substring(0, line.indexOf(' '));
            java.util.Deque<String> same = made.get(line.substring(line.indexOf(' ')));
            String to = same == null ? null : same.poll();
            boolean sameDirectory = to != null && to.substring(0, to.lastIndexOf('/')).equals(path.substring(0, path.lastIndexOf('/')));
            if (to != null && (to.startsWith("/lost+found/") || named(changes, to.substring(to.lastIndexOf('/') + 1))
                    || sameDirectory && named(changes, "names kept as they read, one may be damaged"))) {
                moved++;
            } else {
                silent.add(line + (to == null ? "" : " (now " + to + ", which no change line names)"));
            }
        }
        List<String> madeUp = made.values().stream().flatMap(java.util.Collection::stream)
                .filter(p -> !p.startsWith("/lost+found/") && !named(changes, p)).toList();
        if (!silent.isEmpty() || !madeUp.isEmpty()) {
            fail(name + ": files lost or changed that no change line names " + silent + "; paths made up " + madeUp

                    + "; changes " + changes);
        }
        return moved;
    }

    /**
     * Manifest lines ({@code path type mode size target sha256}) with a directory's size left out: a rebuilt directory
     * holds the same names in another layout (a short-form one moved to lost+found has a new parent's number), and its
     * entries are checked as files of their own.
     */
    private static List<String> withoutDirectorySizes(List<String> manifest) {
        return manifest.stream().map(l -> {
            String[] f = l.split(" ");
            if (f.length == 6 && f[1].equals("DIRECTORY")) {
                f[3] = "-";
            }
            return String.join(" ", f);
        }).toList();
    }

    /** Whether a change line names {@code what}: a path, a name, or a path's name as an entry dropped. */
    private static boolean named(List<String> changes, String what) {
        String dropped = "\"" + what.substring(what.lastIndexOf('/') + 1) + "\" dropped";
        return changes.stream().anyMatch(c -> c.contains(what) || what.startsWith("/") && c.contains(dropped));
    }

    private static List<String> manifestOf(String geometry) {
        return MANIFESTS.computeIfAbsent(geometry, g -> {
            try {
                return RepairOracleTest.manifest(CorpusImages.image(g));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static Map.Entry<Integer, String> xfsRepairN(Path img) throws Exception {
        return CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
    }

    private static synchronized void outcome(String name, String outcome, String why) {
        TOTALS.merge(outcome, 1, Integer::sum);
        String line = why == null ? "" : why.lines().findFirst().orElse("");
        System.out.printf("NSREPAIR %-40s %-10s %s%n", name, outcome, line.length() > 200 ? line.substring(0, 200) + "..." : line);
    }
}
