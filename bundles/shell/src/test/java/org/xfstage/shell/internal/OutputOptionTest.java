package org.xfstage.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.karaf.shell.api.action.Command;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.shell.json.Json;

/**
 * {@code --output FILE}: the whole output or nothing in FILE, one line on the console, the exit status unchanged;
 * a FILE that cannot be written, or that is the image or the undo journal, is one line and status 2 before any work.
 */
class OutputOptionTest {
    @TempDir
    Path dir;

    private PrintStream console;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @BeforeEach
    void captureConsole() {
        console = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreConsole() {
        System.setOut(console);
    }

    private List<String> consoleLines() {
        return printed.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
        }
    }

    /** What the command does between the checks and the end: prints on {@code out}, returns or throws. */
    interface Body {
        int run(PrintStream out) throws Exception;
    }

    @Command(scope = "xfs", name = "fake", description = "a report command for the tests")
    static final class FakeReport extends ReportAction {
        final String image;
        final Body body;
        boolean ran;

        FakeReport(Path image, Path output, Body body) {
            this.image = image.toString();
            this.output = output == null ? null : output.toString();
            this.body = body;
        }

        @Override
        String image() {
            return image;
        }

        @Override
        int run() throws Exception {
            ran = true;
            return body.run(out());
        }
    }

    private Path image() throws IOException {
        return Files.writeString(dir.resolve("fs.img"), "an image");
    }

    @Test
    void theWholeOutputReplacesFileOnlyWhenTheCommandCompletes() throws Exception {
        Path file = Files.writeString(dir.resolve("manifest.json"), "old\n");
        FakeReport cmd = new FakeReport(image(), file, out -> {
            for (int i = 0; i < 50_000; i++) {
                out.println("{\"path\":\"/f" + i + "\"}");
                if (i == 40_000) {
                    // far past any buffer: still the old FILE, the output is in a temporary file beside it
                    assertEquals("old\n", Files.readString(file));
                    assertEquals(1, leftovers().size());
                }
            }
            return XfsAction.OK;
        });
        assertEquals(0, cmd.execute());
        List<String> lines = Files.readAllLines(file);
        assertEquals(50_000, lines.size());
        assertEquals("{\"path\":\"/f49999\"}", lines.get(49_999));
        assertEquals(List.of("xfs:fake: output written to " + file + " (50000 line(s))"), consoleLines());
        assertEquals(List.of(), leftovers());
    }

    @Test
    void damageKeepsItsStatusAndItsLineGoesIntoFile() throws Exception {
        Path file = dir.resolve("scrub.txt");
        FakeReport cmd = new FakeReport(image(), file, out -> {
            out.println("finding 1");
            out.println("finding 2");
            throw CommandFailure.damage("fs.img: damage found (2 finding(s))");
        });
        assertEquals(1, cmd.execute());
        assertEquals(List.of("finding 1", "finding 2", "fs.img: damage found (2 finding(s))"), Files.readAllLines(file));
        assertEquals(List.of("xfs:fake: output written to " + file + " (3 line(s))"), consoleLines());
    }

    @Test
    void aRunThatCannotCompleteLeavesFileAsItWasAndPrintsItsReason() throws Exception {
        Path file = Files.writeString(dir.resolve("out.txt"), "old\n");
        List<Body> failures = List.of(
                out -> {
                    out.println("half");
                    throw new CommandFailure("could not scrub: inode 131 bad CRC");
                },
                out -> {
                    out.println("half");
                    throw new IllegalStateException("boom");
                },
                out -> {
                    out.println("half");
                    throw new InterruptedException();
                });
        List<String> reasons = List.of("could not scrub: inode 131 bad CRC",
                "xfs:fake: failed: java.lang.IllegalStateException: boom (the stack trace is in the log)", "xfs:fake: cancelled");
        for (int i = 0; i < failures.size(); i++) {
            printed.reset();
            assertEquals(2, new FakeReport(image(), file, failures.get(i)).execute());
            assertEquals("old\n", Files.readString(file));
            assertEquals(List.of(reasons.get(i)), consoleLines());
            assertEquals(List.of(), leftovers());
        }
    }

    @Test
    void aFileThatCannotBeWrittenIsOneLineAndStatus2BeforeAnyWork() throws Exception {
        Path notADir = Files.writeString(dir.resolve("plain"), "x");
        Path aDir = Files.createDirectory(dir.resolve("sub"));
        Map<Path, String> why = new LinkedHashMap<>();
        why.put(dir.resolve("missing/out.json"), "directory " + dir.resolve("missing") + " does not exist");
        why.put(notADir.resolve("out.json"), notADir + " is not a directory");
        why.put(aDir, "it is a directory");
        for (Map.Entry<Path, String> c : why.entrySet()) {
            printed.reset();
            FakeReport cmd = new FakeReport(image(), c.getKey(), out -> XfsAction.OK);
            assertEquals(2, cmd.execute(), c.getKey().toString());
            assertFalse(cmd.ran, "no work before the output is known to be writable");
            assertEquals(List.of("cannot write the output to " + c.getKey() + ": " + c.getValue()), consoleLines());
        }
        assertEquals(List.of(), leftovers());
    }

    @Test
    void refusesToReplaceTheImageByPathSymlinkOrHardLink() throws Exception {
        Path img = image();
        Path symlink = Files.createSymbolicLink(dir.resolve("link.img"), img);
        Path hardLink = Files.createLink(dir.resolve("hard.img"), img);
        for (Path file : List.of(img, dir.resolve("x/../fs.img"), symlink, hardLink)) {
            printed.reset();
            FakeReport cmd = new FakeReport(img, file, out -> XfsAction.OK);
            assertEquals(2, cmd.execute(), file.toString());
            assertFalse(cmd.ran);
            assertEquals(List.of("refusing to write the output onto " + img + " (the rename would replace it)"), consoleLines());
            assertEquals("an image", Files.readString(img));
        }
    }

    @Test
    void repairRefusesItsUndoJournalAsOutputWhenItWritesOne() throws Exception {
        Path journal = dir.resolve("undo");
        RepairCommand apply = new RepairCommand();
        apply.image = image().toString();
        apply.apply = true;
        apply.undoFile = journal.toString();
        apply.output = journal.toString();
        assertEquals(2, apply.execute());
        assertEquals(List.of("refusing to write the output onto " + journal + " (the rename would replace it)"), consoleLines());

        // a dry run writes no journal: the same FILE is fine, and the run goes on (to the missing engine here)
        printed.reset();
        apply.apply = false;
        assertEquals(2, apply.execute());
        assertEquals(List.of("the repair engine is not available (is bundle xfstage-repair started?)"), consoleLines());
        assertFalse(Files.exists(journal));
    }

    @Test
    void anOutputThatCannotBeRenamedInPlaceIsStatus2AndNoFile() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path file = sub.resolve("out.txt");
        FakeReport cmd = new FakeReport(image(), file, out -> {
            out.println("line");
            // the directory goes away under the command (the temporary file with it)
            try (Stream<Path> s = Files.list(sub)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(sub);
            return XfsAction.OK;
        });
        assertEquals(2, cmd.execute());
        List<String> lines = consoleLines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("xfs:fake: could not write the output to " + file + ": "), lines.get(0));
        assertFalse(Files.exists(file));
    }

    @Test
    void scrubJsonIsOneObjectAloneSoThatFileIsValidJson() throws Exception {
        Path img = image();
        Path file = dir.resolve("scrub.json");
        ScrubReport damaged = new ScrubReport(img.toString(), List.of(new Finding("agi", 1, "agi_freecount", "7", "9")),
                Map.of("agi", "xfstage-strategies-inodes"), Map.of("millis", 3L));
        ScrubCommand scrub = new ScrubCommand();
        scrub.engine = new ReportingEngine(damaged);
        scrub.image = img.toString();
        scrub.json = true;
        scrub.output = file.toString();
        assertEquals(1, scrub.execute());
        assertEquals(List.of(Json.write(ScrubCommand.toJson(damaged))), Files.readAllLines(file));
        assertEquals(List.of("xfs:scrub: output written to " + file + " (1 line(s))"), consoleLines());
    }

    /** An engine whose scrub finds what it is given. */
    private record ReportingEngine(ScrubReport report) implements RepairEngine {
        @Override
        public ScrubReport scrub(Path image, ScrubOptions options, Progress progress) {
            return report;
        }

        @Override
        public RepairReport repair(Path image, RepairOptions options, Progress progress) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int undo(Path journal, Path image) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<StrategyInfo> strategies() {
            return List.of();
        }
    }

    @Test
    void withoutOutputTheConsoleGetsTheOutputAsBefore() throws Exception {
        FakeReport cmd = new FakeReport(image(), null, out -> {
            out.println("line 1");
            out.println("line 2");
            return XfsAction.OK;
        });
        assertEquals(0, cmd.execute());
        assertEquals(List.of("line 1", "line 2"), consoleLines());
    }
}
