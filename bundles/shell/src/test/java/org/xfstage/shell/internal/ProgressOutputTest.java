package org.xfstage.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.shell.json.Json;

/** What a person reads of a run: the progress line, the staging estimate before the walk, the phases in --json. */
class ProgressOutputTest {

    @Test
    void theLineNamesPhaseUnitRateAndTimeLeft() {
        assertEquals("walk: 4 of 16 AGs (25%), 2.0 AGs/s, about 0:06 left", TerminalProgress.line("walk", "AGs", 16, 4, 2_000_000_000L));
        assertEquals("link counts: 1,000 inodes, 500.0 inodes/s", TerminalProgress.line("link counts", "inodes", -1, 1000, 2_000_000_000L));
        assertEquals("sort: 100 of 200 (50%), 100.0/s, about 0:01 left", TerminalProgress.line("sort", "", 200, 100, 1_000_000_000L));
    }

    /** Without a terminal (bin/client, pipes) the note waits for the result: a run that fails prints its one line only. */
    @Test
    void withoutATerminalANoteIsTheResultsFirstLine() {
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(notes, true, StandardCharsets.UTF_8);
        TerminalProgress p = new TerminalProgress(null, new PrintStream(line, true, StandardCharsets.UTF_8), out, "img: ");
        p.total("walk", 4, "AGs");
        p.note("staging estimate: 1.0 MiB (3,520 inodes)");
        p.increment(4);
        p.finish();
        assertEquals("", notes.toString(StandardCharsets.UTF_8), "nothing before the run ends");
        p.printNotes(out);
        assertEquals("img: staging estimate: 1.0 MiB (3,520 inodes)" + System.lineSeparator(), notes.toString(StandardCharsets.UTF_8));
        assertEquals("", line.toString(StandardCharsets.UTF_8), "no progress line without a terminal");
    }

    @Test
    void jsonCarriesTheEstimateAndThePhasesInOrder() {
        Map<String, Long> figures = new LinkedHashMap<>();
        figures.put("stagingEstimate", 684_032L);
        figures.put("phase:walk:AGs", 4L);
        figures.put("phase:walk:ms", 1500L);
        figures.put("phase:link counts:inodes", 3363L);
        figures.put("phase:link counts:ms", 20L);
        figures.put("millis", 2000L);
        figures.put("stagingPeak", 749_568L);
        String json = Json.write(ScrubCommand.toJson(new ScrubReport("img", List.of(), Map.of(), figures)));
        assertEquals("{\"image\":\"img\",\"clean\":true,\"findings\":[],\"strategies\":{},\"stagingEstimate\":684032,"
                + "\"stagingPeak\":749568,\"phases\":[{\"name\":\"walk\",\"unit\":\"AGs\",\"units\":4,\"seconds\":1.5},"
                + "{\"name\":\"link counts\",\"unit\":\"inodes\",\"units\":3363,\"seconds\":0.02}],"
                + "\"figures\":{\"stagingEstimate\":684032,\"millis\":2000,\"stagingPeak\":749568}}", json);
    }
}
