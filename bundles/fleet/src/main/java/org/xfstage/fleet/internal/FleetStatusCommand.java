package org.xfstage.fleet.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.xfstage.shell.json.Json;

/** {@code xfs:fleet-status}: the last verdict of every device in the cluster, and which are overdue. */
@Service
@Command(scope = "xfs", name = "fleet-status", description = "Shows the last verdict of every device of the fleet and which are overdue")
public class FleetStatusCommand extends FleetAction {

    @Option(name = "--json", description = "Print one JSON object instead of a table")
    boolean json;

    @Override
    int run() throws Exception {
        FleetNode node = node();
        List<FleetNode.Status> rows = node.status();
        FleetSettings s = node.settings();
        String scheduler = node.schedulerName();
        if (json) {
            List<Object> list = new ArrayList<>();
            for (FleetNode.Status r : rows) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("device", r.device().device());
                x.put("member", r.device().node());
                x.put("present", r.present());
                x.put("overdue", r.overdue());
                x.put("lease", r.lease());
                x.put("last", r.last() == null ? null : toJson(r.last()));
                list.add(x);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("scheduler", scheduler);
            m.put("scrubIntervalHours", s.scrubIntervalHours());
            m.put("scrubWindow", s.window().toString());
            m.put("devices", list);
            System.out.println(Json.write(m));
            return OK;
        }
        ShellTable table = new ShellTable();
        table.column("Device");
        table.column("Member");
        table.column("Last verdict");
        table.column("When");
        table.column("Last scrubbed");
        table.column("Overdue");
        table.column("Lease");
        for (FleetNode.Status r : rows) {
            DeviceResult l = r.last();
            table.addRow().addContent(r.device().device(), r.device().node() + (r.present() ? "" : " (absent)"),
                    l == null ? "never" : l.verdict(), l == null ? "-" : time(l.startMillis()), l == null ? "-" : time(l.lastCompletedMillis()),
                    r.overdue() ? "overdue" : "", r.lease() == null ? "" : r.lease());
        }
        table.print(System.out);
        System.out.printf("scheduler: %s; every %s h, %s; %d device(s), %d overdue%n", scheduler == null ? "none yet" : scheduler,
                s.scrubIntervalHours() <= 0 ? "never (no schedule)" : String.valueOf(s.scrubIntervalHours()), s.window(), rows.size(),
                rows.stream().filter(FleetNode.Status::overdue).count());
        return OK;
    }
}
