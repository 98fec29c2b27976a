package org.xfstage.shell.internal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.shell.json.Json;

/**
 * {@code xfs:repair IMAGE}: a dry run that prints the plan, unless {@code --apply}, which writes it through an undo
 * journal that is durable first, then scrubs again. Exit status 0 when the image is clean at the end (nothing to do,
 * or written and clean), 1 when damage remains (a dry run, damage no strategy repairs, or still damaged after
 * writing), 2 when it could not run.
 */
@Service
@Command(scope = "xfs", name = "repair", description = "Repairs an XFS image: prints the plan (dry run), or writes it with --apply through an undo journal")
public class RepairCommand extends ReportAction {

    @Reference(optional = true)
    RepairEngine engine;

    @Reference(optional = true)
    Session session;

    @Argument(index = 0, name = "image", description = "XFS image file or unmounted block device", required = true)
    @Completion(FileCompleter.class)
    String image;

    @Option(name = "--apply", description = "Write the plan (default: dry run, nothing is written)")
    boolean apply;

    @Option(name = "--json", description = "Print one JSON object instead of text (same exit status)")
    boolean json;

    @Option(name = "--undo-file", description = "Where the undo journal goes (default: IMAGE.xfstage-undo-<time>)")
    @Completion(FileCompleter.class)
    String undoFile;

    private Path journal;

    @Override
    int run() throws Exception {
        RepairEngine engine = Commands.engine(this.engine);
        PrintStream out = out();
        Path journal = journal();
        TerminalProgress progress = new TerminalProgress(session, System.err, json ? null : out, image + ": ");
        RepairReport r;
        try {
            r = engine.repair(Path.of(image), new RepairOptions(apply, apply ? journal : null), progress);
        } catch (RepairException e) {
            throw new CommandFailure("could not repair: " + e.getMessage());
        } finally {
            progress.finish();
        }
        if (!json) {
            progress.printNotes(out);
        }
        int status = !r.before().clean() && (!r.applied() || !r.after().clean()) ? DAMAGE : OK;
        if (json) {
            out.println(Json.write(toJson(r)));
            return status;
        }
        if (r.before().clean()) {
            out.println(image + ": clean, nothing to repair");
            return OK;
        }
        for (Plan p : r.plans()) {
            out.printf("%s: %d block(s)%n", p.structure(), p.blocks().size());
            p.changes().forEach(c -> out.println("  " + c));
        }
        if (!r.unrepaired().isEmpty()) {
            throw CommandFailure.damage(image + ": no strategy repairs " + String.join(", ", r.unrepaired()) + "; nothing was written");
        }
        if (!r.applied()) {
            out.println("dry run: nothing was written; run with --apply to write these " + r.plans().stream().mapToInt(p -> p.blocks().size()).sum()
                    + " block(s)");
            return DAMAGE;
        }
        out.printf("written; undo journal %s (xfs:undo %s %s)%n", r.journal(), r.journal(), image);
        if (!r.after().clean()) {
            throw CommandFailure.damage(image + ": still damaged after the repair (" + r.after().findings().size() + " finding(s)); undo with xfs:undo " + r.journal() + " " + image);
        }
        out.println(image + ": clean");
        return OK;
    }

    @Override
    String image() {
        return image;
    }

    /** --output must not replace the undo journal either: the rename at the end would lose it. */
    @Override
    List<Path> notOnto() {
        List<Path> paths = new ArrayList<>(super.notOnto());
        if (apply) {
            paths.add(journal());
        }
        return paths;
    }

    /** The undo journal's path, chosen once per run (the default name carries the time). */
    private Path journal() {
        if (journal == null) {
            journal = undoFile != null ? Path.of(undoFile)
                    : Path.of(image + ".xfstage-undo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        return journal;
    }

    static java.util.Map<String, Object> toJson(RepairReport r) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("image", r.before().image());
        m.put("stagingEstimate", r.before().figures().get("stagingEstimate"));
        m.put("before", ScrubCommand.toJson(r.before()));
        java.util.List<Object> plans = new java.util.ArrayList<>();
        for (Plan p : r.plans()) {
            java.util.Map<String, Object> x = new java.util.LinkedHashMap<>();
            x.put("structure", p.structure());
            x.put("blocks", p.blocks().size());
            x.put("changes", p.changes());
            plans.add(x);
        }
        m.put("plans", plans);
        m.put("unrepaired", r.unrepaired());
        m.put("applied", r.applied());
        m.put("journal", r.journal());
        m.put("after", r.after() == null ? null : ScrubCommand.toJson(r.after()));
        return m;
    }
}
