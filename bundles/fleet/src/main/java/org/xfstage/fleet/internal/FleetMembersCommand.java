package org.xfstage.fleet.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.xfstage.shell.json.Json;

/**
 * {@code xfs:fleet-members}: every member with its version, strategies and devices, asked live; strategies that
 * differ between members are flagged (the same image could get different verdicts on different members).
 */
@Service
@Command(scope = "xfs", name = "fleet-members", description = "Lists the fleet's members: version, devices, strategies; flags strategies that differ")
public class FleetMembersCommand extends FleetAction {

    @Option(name = "--json", description = "Print one JSON object instead of a table")
    boolean json;

    @Override
    int run() throws Exception {
        List<MemberInfo> members = node().members();
        List<String> differences = differences(members);
        if (json) {
            List<Object> list = new ArrayList<>();
            for (MemberInfo m : members) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("member", m.node());
                x.put("address", m.address());
                x.put("version", m.version());
                x.put("scheduler", m.scheduler());
                x.put("devices", m.devices());
                x.put("refused", new LinkedHashMap<>(m.refused()));
                x.put("strategies", new java.util.TreeMap<>(m.strategies()));
                list.add(x);
            }
            System.out.println(Json.write(Map.of("members", list, "differences", differences)));
            return OK;
        }
        ShellTable table = new ShellTable();
        table.column("Member");
        table.column("Address");
        table.column("Version");
        table.column("Scheduler");
        table.column("Devices").alignRight();
        table.column("Strategies").alignRight();
        table.column("Refused");
        for (MemberInfo m : members) {
            table.addRow().addContent(m.node(), m.address(), m.version(), m.scheduler() ? "yes" : "", m.devices().size(), m.strategies().size(),
                    String.join("; ", m.refused().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList()));
        }
        table.print(System.out);
        for (MemberInfo m : members) {
            for (String d : m.devices()) {
                System.out.println("  " + d);
            }
        }
        if (differences.isEmpty()) {
            System.out.println(members.size() + " member(s), the same strategies on all");
        } else {
            System.out.println("strategies differ between members:");
            differences.forEach(d -> System.out.println("  " + d));
        }
        return OK;
    }

    /** One line per structure whose strategy (bundle@ranking) is not the same on every member. */
    static List<String> differences(List<MemberInfo> members) {
        TreeSet<String> structures = new TreeSet<>();
        members.forEach(m -> structures.addAll(m.strategies().keySet()));
        List<String> out = new ArrayList<>();
        for (String s : structures) {
            Map<String, String> by = new LinkedHashMap<>();
            members.forEach(m -> by.put(m.node(), m.strategies().getOrDefault(s, "none")));
            if (new TreeSet<>(by.values()).size() > 1) {
                out.add(s + ": " + String.join(", ", by.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()));
            }
        }
        return out;
    }
}
