package org.xfstage.shell.internal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.apache.karaf.shell.support.table.ShellTable;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.shell.json.Json;

/**
 * {@code xfs:scrub IMAGE}: checks an image and lists what is wrong. Exit status 0 clean, 1 damage found (the
 * findings, then one line), 2 could not run (one line).
 */
@Service
@Command(scope = "xfs", name = "scrub", description = "Checks an XFS image or unmounted device and lists the damage found (nothing is written)")
public class ScrubCommand extends ReportAction {

    @Reference(optional = true)
    RepairEngine engine;

    @Reference(optional = true)
    Session session;

    @Argument(index = 0, name = "image", description = "XFS image file or unmounted block device", required = true)
    @Completion(FileCompleter.class)
    String image;

    @Option(name = "--structure", description = "Check only this structure (repeatable; xfs:strategies lists them, tab completes them)", multiValued = true)
    @Completion(StructureCompleter.class)
    List<String> structures;

    @Option(name = "--json", description = "Print one JSON object instead of a table")
    boolean json;

    @Override
    int run() throws Exception {
        RepairEngine engine = Commands.engine(this.engine);
        PrintStream out = out();
        // the staging estimate is the first line of a text output, printed before the walk; JSON carries it as a field
        TerminalProgress progress = new TerminalProgress(session, System.err, json ? null : out, image + ": ");
        ScrubReport report;
        try {
            report = engine.scrub(Path.of(image), new ScrubOptions(structures == null ? Set.of() : Set.copyOf(structures)), progress);
        } catch (RepairException e) {
            progress.finish();
            throw new CommandFailure("could not scrub: " + e.getMessage());
        }
        progress.finish();
        if (!json) {
            progress.printNotes(out);
        }
        if (json) {
            // the object and nothing after it, as xfs:repair --json: what reads it (or --output's FILE) gets one JSON
            // value; the exit status says clean or damaged
            out.println(Json.write(toJson(report)));
            return report.clean() ? OK : DAMAGE;
        }
        if (!report.clean()) {
            ShellTable table = new ShellTable();
            table.column("Structure");
            table.column("AG").alignRight();
            table.column("Where");
            table.column("Problem");
            table.column("Expected");
            for (Finding f : report.findings()) {
                table.addRow().addContent(f.structure(), f.agno() < 0 ? "-" : f.agno(), f.location(), f.problem(),
                        f.expected() == null ? "" : f.expected());
            }
            table.print(out);
        }
        if (report.clean()) {
            out.printf("%s: clean (%d strategies, %d ms)%n", image, report.strategies().size(), report.figures().getOrDefault("millis", 0L));
            return OK;
        }
        out.flush();
        throw CommandFailure.damage(image + ": damage found (" + report.findings().size() + " finding(s))");
    }

    @Override
    String image() {
        return image;
    }

    static Map<String, Object> toJson(ScrubReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("image", r.image());
        m.put("clean", r.clean());
        List<Object> fs = new ArrayList<>();
        for (Finding f : r.findings()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("structure", f.structure());
            x.put("ag", f.agno());
            x.put("location", f.location());
            x.put("problem", f.problem());
            x.put("expected", f.expected());
            fs.add(x);
        }
        m.put("findings", fs);
        m.put("strategies", new LinkedHashMap<>(r.strategies()));
        Long estimate = r.figures().get("stagingEstimate");
        m.put("stagingEstimate", estimate);
        m.put("stagingPeak", r.figures().get("stagingPeak"));
        m.put("phases", phases(r.figures()));
        Map<String, Long> figures = new LinkedHashMap<>(r.figures());
        figures.keySet().removeIf(k -> k.startsWith("phase:")); // listed as phases
        m.put("figures", figures);
        return m;
    }

    /**
     * The run's phases in order, each {@code {"name","unit","units","seconds"}}, from the figures the engine keeps for
     * each ({@code phase:NAME:UNIT} = units done, {@code phase:NAME:ms}).
     */
    static List<Object> phases(Map<String, Long> figures) {
        Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
        figures.forEach((k, v) -> {
            if (!k.startsWith("phase:")) {
                return;
            }
            int colon = k.lastIndexOf(':');
            if (colon <= "phase:".length()) {
                return;
            }
            String name = k.substring("phase:".length(), colon);
            String what = k.substring(colon + 1);
            Map<String, Object> p = byName.computeIfAbsent(name, n -> {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("name", n);
                return x;
            });
            if (what.equals("ms")) {
                p.put("seconds", v / 1000.0);
            } else {
                p.put("unit", what);
                p.put("units", v);
            }
        });
        return new ArrayList<>(byName.values());
    }
}
