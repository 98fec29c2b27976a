package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * Our own field fuzzer, in the manner of xfstests' fuzz groups (common/fuzzy): every field xfs_db prints of every
 * structure the corpus has ({@link FuzzTargets}: superblocks, AG headers, a leaf and a node of every btree, inodes, a
 * bmbt block, directory blocks of every form, a remote symlink block, attribute leaf and node blocks) is damaged with xfs_db -x {@code fuzz} verbs (and a
 * seeded random value we write ourselves), mostly with the CRC recomputed, some with it left wrong; then xfs_repair
 * -n and our scrub judge the copy, and for a sample of what we find, repair --apply runs on a copy of it, xfs_repair
 * -n judges the result and the undo journal must give the damaged image back bit for bit.
 *
 * <p>What must hold, and fails the test when it does not (unless the case is listed in the known file under that
 * class, see below): the scrub ends within {@link #TIME_LIMIT_SECONDS} (else HANG); it ends with a report or a
 * one-line RepairException (else STACK-TRACE); a repair that writes is undone exactly (UNDO-INEXACT), never leaves
 * more problems for xfs_repair -n than before (REPAIR-WORSE), and when it says the image is clean xfs_repair -n agrees
 * (SAID-CLEAN-STILL-DAMAGED); a repair that wrote no journal wrote nothing (WROTE-WITHOUT-JOURNAL); staging is freed
 * after every run (STAGING-LEFT, REPAIR-STAGING-LEFT). Verdicts that differ from xfs_repair -n's (today's scrub checks no directories, inode
 * cores, extent maps or xattrs) are listed in {@code src/test/resources/fuzz-known.txt} with their class; the run's
 * disagreements must equal the file's entries for the cases it ran, so a case that starts to agree has to be taken
 * out, and the list only shrinks honestly.
 *
 * <p>A normal run takes a fixed sample ({@link #SAMPLE_SIZE} cases, chosen by hashing each case id with the seed);
 * {@code -Dxfstage.fuzz=full} runs every case (and repairs every case where we find damage);
 * {@code -Dxfstage.fuzz.seed=N} takes another sample; {@code -Dxfstage.fuzz.only=PREFIX,...} keeps one family of
 * structures; {@code -Dxfstage.fuzz.record=true} rewrites the known file's
 * entries for the cases run from what they did (the others' entries are kept). The table goes to System.out (FUZZ
 * lines) and target/fuzz-report.md.
 */
class FuzzOracleTest {
    /** Geometries fuzzed: the default, the one with an rmapbt (a two-level tree), 1 KiB blocks (4-block directory blocks). */
    static final List<String> GEOMETRIES = List.of("default", "rmapbt", "b1024");
    /**
     * The normal run's sample. Measured on the shared 2-vCPU VM: 240 cases took 37 s at load 3 (about 0.15 s a case:
     * copy, xfs_db, xfs_repair -n beside our scrub, and about a second for each repair), 400 took 223 s at load 15 and
     * 300 took 266 s at load 19 (0.9 s a case, the test's own CPU time under a minute); 200 stay under three minutes
     * even then.
     */
    static final int SAMPLE_SIZE = 200;
    static final long DEFAULT_SEED = 20261130L;
    /** In a normal run, one case in this many where we find damage is repaired (chosen by its id, whatever the seed). */
    static final int REPAIR_ONE_IN = 4;
    /** A scrub or repair of a 512 MiB corpus image takes well under a second; over this it is taken to hang. */
    static final long TIME_LIMIT_SECONDS = 60;
    static final Path KNOWN = Path.of("src", "test", "resources", "fuzz-known.txt");
    static final Path REPORT = Path.of("target", "fuzz-report.md");

    /** What a case can be besides agreement: verdict classes, then the invariants. */
    static final String WE_CLEAN = "we-clean-they-damaged";
    static final String WE_DAMAGED = "we-damaged-they-clean";
    static final String WE_REFUSED = "we-refused";
    static final String THEY_REFUSED = "they-refused";
    static final String HANG = "HANG";
    static final String STACK_TRACE = "STACK-TRACE";
    static final String STAGING_LEFT = "STAGING-LEFT";
    static final String REPAIR_HANG = "REPAIR-HANG";
    static final String REPAIR_STACK_TRACE = "REPAIR-STACK-TRACE";
    static final String REPAIR_WORSE = "REPAIR-WORSE";
    static final String SAID_CLEAN = "SAID-CLEAN-STILL-DAMAGED";
    static final String UNDO_INEXACT = "UNDO-INEXACT";
    static final String WROTE_WITHOUT_JOURNAL = "WROTE-WITHOUT-JOURNAL";
    static final String REPAIR_STAGING_LEFT = "REPAIR-STAGING-LEFT";
    /** Classes only a repair can show: a case's entry with them is checked only when the run repaired the case. */
    static final Set<String> REPAIR_CLASSES = Set.of(REPAIR_HANG, REPAIR_STACK_TRACE, REPAIR_WORSE, SAID_CLEAN, UNDO_INEXACT,
            WROTE_WITHOUT_JOURNAL, REPAIR_STAGING_LEFT);

    static XFileFactoryImpl xfiles;
    static XfArrayFactoryImpl arrays;
    static RepairEngineImpl engine;
    static ExecutorService runner;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        arrays = new XfArrayFactoryImpl(xfiles);
        engine = RepairOracleTest.engineWithBuiltIns(xfiles, arrays);
        runner = newRunner();
    }

    @AfterAll
    static void stop() {
        runner.shutdownNow();
        arrays.deactivate();
        xfiles.deactivate();
    }

    /** Daemon threads: a scrub that hangs is abandoned on its thread, and must not keep the JVM alive. */
    private static ExecutorService newRunner() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-run");
            t.setDaemon(true);
            return t;
        });
    }

    static boolean full() {
        return "full".equals(System.getProperty("xfstage.fuzz"));
    }

    /**
     * What xfs_repair -n said: its exit status and how many lines of its output report a problem. It exits 1 both for
     * damage found and when it gives up on features it does not know ("Found unsupported filesystem features.  Exiting
     * now."): the second is a refusal, as ours of such an image is.
     */
    record Theirs(int exit, int problems, String output) {
        boolean clean() {
            return exit == 0;
        }

        boolean damaged() {
            return exit == 1 && !gaveUp();
        }

        boolean refused() {
            return exit != 0 && exit != 1 || gaveUp();
        }

        private boolean gaveUp() {
            return exit == 1 && output != null && output.contains("unsupported filesystem features");
        }
    }

    /** What a repair on a copy of the damaged image did, and what xfs_repair -n then said. */
    record Repair(String result, boolean applied, boolean saidClean, Theirs after, boolean worse, Boolean undoExact, Set<String> classes) {
    }

    /** One case run: skipped (why), or both verdicts, the classes it shows, and its repair when there was one. */
    record Outcome(FuzzCase c, String skipped, String written, Theirs theirs, String ours, String oursDetail, Set<String> classes,
            Repair repair) {
        boolean ran() {
            return skipped == null;
        }
    }

    @Test
    void fuzzedFieldsNeverHangOrCrashRepairsNeverMakeItWorseAndDisagreementsAreTheKnownOnes() throws Exception {
        List<FuzzCase> all = generate();
        List<FuzzCase> run = select(all);
        System.out.printf("FUZZ %d cases generated on %s; running %d (%s)%n", all.size(), GEOMETRIES, run.size(),
                full() ? "full" : "sample of seed " + seed());
        long started = System.nanoTime();
        List<Outcome> outcomes = new ArrayList<>();
        for (FuzzCase c : run) {
            Outcome o = runCase(c);
            outcomes.add(o);
            System.out.println(line(o));
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        String table = table(all, outcomes);
        System.out.println(table);
        writeReport(all.size(), outcomes, table, seconds);

        long ran = outcomes.stream().filter(Outcome::ran).count();
        long theyDamaged = outcomes.stream().filter(o -> o.ran() && o.theirs().damaged()).count();
        // the fuzzer must reach the structures: most cases apply, and xfs_repair -n sees damage in a fair share of them
        assertTrue(ran >= run.size() / 2, "only " + ran + " of " + run.size() + " cases could be applied: is xfs_db refusing them all?");
        assertTrue(theyDamaged >= ran / 5, "xfs_repair -n saw damage in only " + theyDamaged + " of " + ran + " cases: the damage is not landing");
        compareWithKnown(outcomes);
    }

    // ---- cases

    /** Every case of every geometry, in a fixed order: geometry, target, field, verb. */
    static List<FuzzCase> generate() throws Exception {
        List<FuzzCase> out = new ArrayList<>();
        for (String g : GEOMETRIES) {
            assertTrue(CorpusImages.geometries().contains(g), g + " is a corpus geometry");
            Path image = CorpusImages.image(g);
            for (FuzzCase.Target t : FuzzTargets.of(image)) {
                String print = FuzzTargets.print(image, t);
                List<String> fields = XfsDbFields.parse(print);
                assertTrue(fields.size() >= 3, g + " " + t + ": xfs_db printed no fields to fuzz: " + print);
                out.addAll(FuzzCase.of(g, t, fields, XfsDbFields.values(print)));
            }
        }
        return out;
    }

    static long seed() {
        return Long.getLong("xfstage.fuzz.seed", DEFAULT_SEED);
    }

    /**
     * Full: everything. Otherwise the {@link #SAMPLE_SIZE} cases whose ids hash lowest with the seed: a case is in the
     * sample or not by its own id, so a change to the list elsewhere moves few cases in or out. In generation order.
     */
    static List<FuzzCase> select(List<FuzzCase> all) {
        all = only(all);
        if (full()) {
            return all;
        }
        int size = Integer.getInteger("xfstage.fuzz.size", SAMPLE_SIZE);
        String salt = "sample " + seed();
        Map<String, Long> rank = new java.util.HashMap<>();
        all.forEach(c -> rank.put(c.id(), FuzzCase.hash(salt, c.id())));
        Set<String> chosen = new TreeSet<>(all.stream().map(FuzzCase::id).sorted(Comparator.comparingLong(rank::get)).limit(size).toList());
        return all.stream().filter(c -> chosen.contains(c.id())).toList();
    }

    /**
     * {@code -Dxfstage.fuzz.only=dir-,inode-dir} keeps the cases whose structure (the id's second part) starts with one
     * of the comma-separated prefixes: the full set of one family of structures, while working on its checks.
     */
    static List<FuzzCase> only(List<FuzzCase> all) {
        String only = System.getProperty("xfstage.fuzz.only", "").trim();
        if (only.isEmpty()) {
            return all;
        }
        List<String> prefixes = List.of(only.split(","));
        return all.stream().filter(c -> prefixes.stream().anyMatch(p -> c.id().split("/")[1].startsWith(p.trim()))).toList();
    }

    /** Whether a case where we find damage is repaired: all of them in full mode, else one in {@link #REPAIR_ONE_IN} by id. */
    static boolean repairs(FuzzCase c) {
        return full() || FuzzCase.hash("repair", c.id()) % REPAIR_ONE_IN == 0;
    }

    // ---- one case

    private Outcome runCase(FuzzCase c) throws Exception {
        Path img = dir.resolve("case.img");
        Path copy = dir.resolve("repair.img");
        Path journal = dir.resolve("repair.undo");
        try {
            sparseCopy(CorpusImages.image(c.geometry()), img);
            String[] applied = applied(c, XfsDbFields.run(img, true, c.commands()));
            if (applied[0] != null) {
                return new Outcome(c, applied[0], null, null, null, null, Set.of(), null);
            }
            String written = applied[1];

            // xfs_repair -n and the scrub read the image side by side: both only read
            java.util.concurrent.CompletableFuture<Theirs> oracle = java.util.concurrent.CompletableFuture.supplyAsync(() -> xfsRepair(img));
            Object result = within(() -> engine.scrub(img, ScrubOptions.all(), Progress.NONE));
            Theirs theirs = oracle.get();
            Set<String> classes = new TreeSet<>();
            String ours;
            String detail;
            if (result instanceof ScrubReport r) {
                ours = r.clean() ? "clean" : "damaged";
                detail = r.clean() ? "" : r.findings().size() + " finding(s), first: " + r.findings().get(0);
                if (r.clean() && theirs.damaged()) {
                    classes.add(WE_CLEAN);
                } else if (!r.clean() && theirs.clean()) {
                    classes.add(WE_DAMAGED);
                } else if (theirs.refused()) {
                    classes.add(THEY_REFUSED);
                }
            } else {
                ours = failure(result, classes, HANG, STACK_TRACE);
                detail = String.valueOf(result instanceof Throwable t ? t.getMessage() : result);
                if (ours.equals("refused") && !theirs.refused()) {
                    classes.add(WE_REFUSED);
                }
            }
            if (!ours.equals("hang") && !arrays.liveArrays().isEmpty()) {
                classes.add(STAGING_LEFT);
            }
            Repair repair = null;
            if (ours.equals("damaged") && repairs(c)) {
                repair = repair(img, copy, journal, theirs);
                classes.addAll(repair.classes());
            }
            return new Outcome(c, null, written, theirs, ours, detail, classes, repair);
        } finally {
            Files.deleteIfExists(img);
            Files.deleteIfExists(copy);
            Files.deleteIfExists(journal);
        }
    }

    /**
     * Whether xfs_db applied the case: {null, value written} when it printed the field after the damage with another
     * value than before; {why not, null} otherwise: it refused (no print after: its first complaint says why), or the
     * value did not change (a verb that leaves the value as it was is no case, as in xfstests). A random case's value
     * is the last of its writes xfs_db carried out, the widest that fits.
     */
    static String[] applied(FuzzCase c, XfsDbFields.Run db) {
        List<String> printed = printed(db.output(), c.field());
        if (printed.size() < 2) {
            String complaint = db.output().lines().filter(l -> !l.isBlank() && !l.startsWith("Allowing ") && !l.startsWith(c.field() + " = "))
                    .findFirst().orElse("no output");
            return new String[] {"xfs_db (exit " + db.status() + "): " + complaint.trim(), null};
        }
        String before = printed.get(0);
        String now = printed.get(printed.size() - 1);
        if (now.equals(before)) {
            return new String[] {"unchanged (" + before + ")", null};
        }
        String written = null;
        if (c.verb().equals("random")) {
            List<String> rejected = db.output().lines().filter(l -> l.startsWith("unable to convert value '"))
                    .map(l -> l.substring("unable to convert value '".length(), l.lastIndexOf('\''))).toList();
            for (String v : c.randomValues()) {
                written = rejected.contains(v) ? written : v;
            }
        }
        return new String[] {null, written};
    }

    /** The values of {@code field = ...} lines in an xfs_db output, in order. */
    static List<String> printed(String output, String field) {
        List<String> out = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.startsWith(field + " = ")) {
                out.add(line.substring(field.length() + 3).trim());
            }
        }
        return out;
    }

    /**
     * Repair --apply on a copy of the damaged image, then xfs_repair -n on it, then the undo journal, which must give
     * back the damaged image bit for bit (compared byte for byte with the damaged image the copy was made from, which
     * says more than equal SHA-256s and reads only where the sparse files have data); a repair that wrote no journal
     * must have left the copy as it was.
     */
    private Repair repair(Path img, Path copy, Path journal, Theirs before) throws Exception {
        sparseCopy(img, copy);
        Set<String> classes = new TreeSet<>();
        Object result = within(() -> engine.repair(copy, new RepairOptions(true, journal), Progress.NONE));
        boolean applied = false;
        boolean saidClean = false;
        Theirs after = null;
        boolean worse = false;
        String what;
        if (result instanceof RepairReport r) {
            applied = r.applied();
            saidClean = applied && r.after().clean();
            what = applied ? (saidClean ? "applied, said clean" : "applied, said still damaged")
                    : "not applied: no strategy repairs " + r.unrepaired();
        } else {
            what = failure(result, classes, REPAIR_HANG, REPAIR_STACK_TRACE) + ": "
                    + (result instanceof Throwable t ? t.getMessage() : result);
        }
        if (applied) {
            after = xfsRepair(copy);
            worse = after.refused() && !before.refused() || after.problems() > before.problems();
            if (worse) {
                classes.add(REPAIR_WORSE);
            }
            if (saidClean && !after.clean()) {
                classes.add(SAID_CLEAN);
            }
        }
        Boolean undoExact = null;
        if (classes.contains(REPAIR_HANG)) {
            return new Repair(what, applied, saidClean, after, worse, null, classes); // still running on its thread
        }
        if (!arrays.liveArrays().isEmpty()) {
            classes.add(REPAIR_STAGING_LEFT);
        }
        if (Files.exists(journal)) {
            try {
                engine.undo(journal, copy);
                undoExact = SparseFiles.sameBytes(img, copy);
            } catch (RepairException e) {
                what += "; undo refused: " + e.getMessage();
                undoExact = false;
            }
            if (!undoExact) {
                classes.add(UNDO_INEXACT);
            }
        } else if (!SparseFiles.sameBytes(img, copy)) {
            classes.add(WROTE_WITHOUT_JOURNAL);
        }
        return new Repair(what, applied, saidClean, after, worse, undoExact, classes);
    }

    /** A call's result within the time limit: its value, the exception it threw, or the string "hang". */
    private static Object within(java.util.concurrent.Callable<?> call) throws InterruptedException {
        Future<?> f = runner.submit(call);
        try {
            return f.get(TIME_LIMIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            f.cancel(true);
            runner.shutdownNow();
            runner = newRunner(); // the hung call keeps its (daemon) thread; the next case gets a fresh one
            return "hang";
        }
    }

    /**
     * Names a result that is not a report: "refused" for a RepairException with a one-line message (the contract),
     * "hang", or "stack trace" for anything else (another exception, or a message of several lines).
     */
    private static String failure(Object result, Set<String> classes, String hang, String stackTrace) {
        if ("hang".equals(result)) {
            classes.add(hang);
            return "hang";
        }
        if (result instanceof RepairException e && e.getMessage() != null && !e.getMessage().isBlank()
                && e.getMessage().lines().count() == 1) {
            return "refused";
        }
        classes.add(stackTrace);
        return "stack trace";
    }

    /** xfs_repair -n's verdict and the number of problem lines it printed (progress and host-geometry notes left out). */
    static Theirs xfsRepair(Path img) {
        try {
            XfsDbFields.Run r = XfsDbFields.exec(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()), 2 * TIME_LIMIT_SECONDS);
            return new Theirs(r.status(), problems(r.output()), r.output());
        } catch (Exception e) {
            throw new IllegalStateException("could not run xfs_repair -n " + img, e);
        }
    }

    static int problems(String output) {
        int n = 0;
        for (String line : output.split("\n")) {
            if (line.isBlank() || line.startsWith("Phase ") || line.startsWith("        - ")
                    || line.startsWith("No modify flag set") || line.equals("Cannot get host filesystem geometry.")
                    || line.equals("Repair may fail if there is a sector size mismatch between")
                    || line.equals("the image and the host filesystem.")) {
                continue;
            }
            n++;
        }
        return n;
    }

    /** A copy that keeps the image's holes (cp --sparse): a full copy of a 512 MiB image takes seconds, this one milliseconds. */
    static void sparseCopy(Path from, Path to) throws Exception {
        Files.deleteIfExists(to);
        XfsDbFields.Run r = XfsDbFields.exec(List.of("cp", "--sparse=always", from.toString(), to.toString()), TIME_LIMIT_SECONDS);
        assertEquals(0, r.status(), "cp " + from + " " + to + ": " + r.output());
    }

    // ---- the report

    private static String line(Outcome o) {
        if (!o.ran()) {
            return String.format("FUZZ %-70s skipped: %s", o.c().id(), o.skipped());
        }
        String theirs = o.theirs().clean() ? "clean" : o.theirs().damaged() ? "damaged" : "exit " + o.theirs().exit();
        StringBuilder b = new StringBuilder(String.format("FUZZ %-70s xfs_repair -n: %-7s xfstage: %-7s", o.c().id(), theirs, o.ours()));
        if (o.written() != null) {
            b.append(" value ").append(o.written());
        }
        if (!o.classes().isEmpty()) {
            b.append(" ").append(o.classes());
        }
        if (o.repair() != null) {
            b.append(" | repair: ").append(o.repair().result());
            if (o.repair().after() != null) {
                b.append(", xfs_repair -n after: exit ").append(o.repair().after().exit()).append(" (")
                        .append(o.theirs().problems()).append(" -> ").append(o.repair().after().problems()).append(" problem lines)");
            }
            if (o.repair().undoExact() != null) {
                b.append(o.repair().undoExact() ? ", undo exact" : ", UNDO NOT EXACT");
            }
        }
        return b.toString();
    }

    /** The counts of one row of the table. */
    private static final class Row {
        int generated, run, skipped, agree, weClean, weDamaged, oursRefused, theirsRefused, bothRefused, hangs, stackTraces,
                repairs, cleanAfter, saidClean, worse, journals, undoExact;

        void add(Outcome o) {
            if (!o.ran()) {
                skipped++;
                return;
            }
            run++;
            boolean ours = o.ours().equals("refused");
            agree += o.ours().equals("clean") && o.theirs().clean() || o.ours().equals("damaged") && o.theirs().damaged()
                    || ours && o.theirs().refused() ? 1 : 0;
            weClean += o.classes().contains(WE_CLEAN) ? 1 : 0;
            weDamaged += o.classes().contains(WE_DAMAGED) ? 1 : 0;
            oursRefused += ours ? 1 : 0;
            theirsRefused += o.theirs().refused() ? 1 : 0;
            bothRefused += ours && o.theirs().refused() ? 1 : 0;
            hangs += o.classes().contains(HANG) || o.classes().contains(REPAIR_HANG) ? 1 : 0;
            stackTraces += o.classes().contains(STACK_TRACE) || o.classes().contains(REPAIR_STACK_TRACE) ? 1 : 0;
            Repair r = o.repair();
            if (r != null && r.applied()) {
                repairs++;
                cleanAfter += r.after().clean() ? 1 : 0;
                saidClean += r.classes().contains(SAID_CLEAN) ? 1 : 0;
                worse += r.worse() ? 1 : 0;
            }
            if (r != null && r.undoExact() != null) {
                journals++;
                undoExact += r.undoExact() ? 1 : 0;
            }
        }

        String cells() {
            return java.util.stream.IntStream.of(generated, run, skipped, agree, weClean, weDamaged, oursRefused, theirsRefused,
                    bothRefused, hangs, stackTraces, repairs, cleanAfter, saidClean, worse).mapToObj(Integer::toString)
                    .collect(java.util.stream.Collectors.joining(" | ")) + " | " + undoExact + "/" + journals;
        }
    }

    /** One row per structure (target kind), all geometries together, in the order they were generated, and a total. */
    static String table(List<FuzzCase> all, List<Outcome> outcomes) {
        Map<String, Row> rows = new LinkedHashMap<>();
        Row total = new Row();
        for (FuzzCase c : all) {
            rows.computeIfAbsent(c.target().kind(), k -> new Row()).generated++;
            total.generated++;
        }
        for (Outcome o : outcomes) {
            rows.get(o.c().target().kind()).add(o);
            total.add(o);
        }
        StringBuilder b = new StringBuilder("| structure | cases generated | run | skipped | agree | we clean, they damaged "
                + "| we damaged, they clean | refused: ours | refused: theirs | both refused | hangs | stack traces "
                + "| repairs applied | clean after | said clean, xfs_repair -n damaged | made worse | undo exact |\n"
                + "|---".repeat(17) + "|\n");
        rows.forEach((k, r) -> b.append("| ").append(k).append(" | ").append(r.cells()).append(" |\n"));
        b.append("| **total** | ").append(total.cells()).append(" |\n");
        return b.toString();
    }

    private static void writeReport(int generated, List<Outcome> outcomes, String table, long seconds) throws Exception {
        StringBuilder b = new StringBuilder("# Fuzz report\n\n");
        b.append(String.format("%s, %s: %d cases generated on %s, %d run (%s), %d s; %s.%n%n", LocalDate.now(), machine(), generated,
                GEOMETRIES, outcomes.size(), full() ? "full" : "sample, seed " + seed(), seconds, xfsprogs()));
        b.append(table).append('\n');
        b.append("## Cases that are not agreement or break an invariant\n\n");
        b.append("Reproduce one on a copy of the geometry's corpus image (bundles/device/target/corpus) with "
                + "`xfs_db -x -c CMD... IMAGE`, then `xfs_repair -n IMAGE` and `xfs:scrub IMAGE`.\n\n");
        for (Outcome o : outcomes) {
            if (o.ran() && !o.classes().isEmpty()) {
                b.append("- `").append(o.c().id()).append("` ").append(o.classes()).append(": xfs_repair -n exit ").append(o.theirs().exit())
                        .append(", xfstage ").append(o.ours()).append(o.oursDetail().isEmpty() ? "" : " (" + o.oursDetail() + ")");
                if (o.repair() != null) {
                    b.append("; repair ").append(o.repair().result());
                }
                b.append("; xfs_db: `").append(String.join("` `", o.c().reproduction(o.written()))).append("`\n");
            }
        }
        b.append("\n## Skipped\n\n");
        for (Outcome o : outcomes) {
            if (!o.ran()) {
                b.append("- `").append(o.c().id()).append("`: ").append(o.skipped()).append('\n');
            }
        }
        Files.createDirectories(REPORT.getParent());
        Files.writeString(REPORT, b.toString());
    }

    private static String machine() {
        String cpu = "";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("");
        } catch (java.io.IOException e) {
            // not Linux: the core count says enough
        }
        return Runtime.getRuntime().availableProcessors() + " vCPU " + cpu + ", Java " + System.getProperty("java.version");
    }

    private static String xfsprogs() throws Exception {
        return XfsDbFields.exec(List.of(CorpusImages.tool("xfs_db"), "-V"), TIME_LIMIT_SECONDS).output().trim();
    }

    // ---- the known disagreements

    /** Case id to classes, as the file lists them ({@code id class[,class...]}; # starts a comment). */
    static Map<String, Set<String>> readKnown() throws Exception {
        Map<String, Set<String>> out = new TreeMap<>();
        if (!Files.exists(KNOWN)) {
            return out;
        }
        for (String line : Files.readAllLines(KNOWN, StandardCharsets.UTF_8)) {
            String l = line.contains("#") ? line.substring(0, line.indexOf('#')).trim() : line.trim();
            if (!l.isEmpty()) {
                String[] parts = l.split("\\s+");
                assertEquals(2, parts.length, KNOWN + ": not 'case-id class[,class]': " + line);
                out.put(parts[0], new TreeSet<>(List.of(parts[1].split(","))));
            }
        }
        return out;
    }

    /**
     * The run's classes against the file's, for the cases run (a repair class only where the case was repaired):
     * anything new or anything gone fails, naming the cases. With {@code -Dxfstage.fuzz.record=true} the file is
     * rewritten instead: the cases run get what they showed, the others keep their lines.
     */
    private static void compareWithKnown(List<Outcome> outcomes) throws Exception {
        Map<String, Set<String>> known = readKnown();
        List<String> problems = new ArrayList<>();
        Map<String, Set<String>> recorded = new TreeMap<>(known);
        for (Outcome o : outcomes) {
            String id = o.c().id();
            Set<String> expected = new TreeSet<>(known.getOrDefault(id, Set.of()));
            if (o.repair() == null) {
                Set<String> repairOnly = new TreeSet<>(expected);
                repairOnly.retainAll(REPAIR_CLASSES);
                expected.removeAll(REPAIR_CLASSES);
                if (!repairOnly.isEmpty() || !o.classes().isEmpty()) {
                    Set<String> keep = new TreeSet<>(o.classes());
                    keep.addAll(repairOnly); // not repaired this time: what the file says of its repair stands
                    recorded.put(id, keep);
                } else {
                    recorded.remove(id);
                }
            } else if (o.classes().isEmpty()) {
                recorded.remove(id);
            } else {
                recorded.put(id, o.classes());
            }
            if (!expected.equals(o.classes())) {
                problems.add(id + ": the file says " + expected + ", the run shows " + o.classes() + " -- " + line(o));
            }
        }
        if (Boolean.getBoolean("xfstage.fuzz.record")) {
            StringBuilder b = new StringBuilder("""
                    # Known fuzz cases that are not agreement with xfs_repair -n, or that break an invariant (FuzzOracleTest).
                    # One line per case: its id (geometry/structure/field/verb[+badcrc]) and its classes. FuzzOracleTest fails
                    # when a case it runs shows other classes than these, so fix a case and take its line out (or re-record:
                    # ./mvnw -B -pl bundles/repair -am test -Dtest=FuzzOracleTest -Dsurefire.failIfNoSpecifiedTests=false
                    #   -Dxfstage.fuzz.record=true [-Dxfstage.fuzz=full]); the reproduction of each is in target/fuzz-report.md.
                    """);
            recorded.forEach((id, classes) -> b.append(id).append(' ').append(String.join(",", classes)).append('\n'));
            Files.writeString(KNOWN, b.toString(), StandardCharsets.UTF_8);
            System.out.println("FUZZ recorded " + recorded.size() + " known case(s) in " + KNOWN.toAbsolutePath() + " (" + problems.size()
                    + " changed)");
            return;
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " fuzz case(s) differ from " + KNOWN + " (an invariant broken, a new disagreement, or a known one "
                    + "that now agrees: take its line out):\n" + String.join("\n", problems));
        }
    }
}
