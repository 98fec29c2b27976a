package org.xfstage.fleet.internal;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.xfstage.fleet.internal.DeviceResult.Verdict;
import org.xfstage.shell.json.Json;

/**
 * {@code xfs:fleet-scrub}: scrubs every device of the fleet on its own member, at most N at a time per member, and
 * prints the verdicts (also kept in the cluster's results map). Exit status 1 when any device is damaged, else 2
 * when any could not be scrubbed (member left, busy, failed), else 0.
 */
@Service
@Command(scope = "xfs", name = "fleet-scrub", description = "Scrubs every device of the fleet on the member that owns it and gathers the verdicts")
public class FleetScrubCommand extends FleetAction {

    @Option(name = "--parallel", description = "Scrubs at a time per member (default 1)")
    int parallel = 1;

    @Option(name = "--json", description = "Print one JSON object per device, one a line, instead of a table")
    boolean json;

    @Override
    int run() throws Exception {
        if (parallel < 1) {
            throw new Failure(FAILED, "--parallel must be at least 1, not " + parallel);
        }
        FleetNode node = node();
        long start = System.currentTimeMillis();
        List<DeviceResult> results = node.scrubAll(parallel);
        long took = System.currentTimeMillis() - start;
        if (json) {
            results.forEach(r -> System.out.println(Json.write(toJson(r))));
        } else {
            print(results);
        }
        long damaged = results.stream().filter(r -> r.verdict() == Verdict.DAMAGED).count();
        long notDone = results.stream().filter(r -> !r.verdict().completed()).count();
        String summary = results.size() + " device(s) in " + took + " ms: " + (results.size() - damaged - notDone) + " clean, " + damaged
                + " damaged, " + notDone + " not scrubbed";
        if (damaged > 0) {
            throw new Failure(DAMAGE, summary);
        }
        if (notDone > 0) {
            throw new Failure(FAILED, summary);
        }
        if (!json) {
            System.out.println(summary);
        }
        return OK;
    }

    private static void print(List<DeviceResult> results) {
        ShellTable table = new ShellTable();
        table.column("Device");
        table.column("Member");
        table.column("Verdict");
        table.column("Findings").alignRight();
        table.column("ms").alignRight();
        table.column("Detail");
        for (DeviceResult r : results) {
            table.addRow().addContent(r.device(), r.node(), r.verdict(), r.findings().size(), r.durationMillis(), r.detail() == null ? "" : r.detail());
        }
        table.print(System.out);
        for (DeviceResult r : results) {
            if (!r.findings().isEmpty()) {
                System.out.println(r.device() + ":");
                r.findings().forEach(f -> System.out.println("  " + f));
            }
        }
    }
}
