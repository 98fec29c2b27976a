package org.xfstage.shell.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.shell.json.Json;

/** {@code xfs:strategies}: the registered repair strategies, and which one is in use per structure. */
@Service
@Command(scope = "xfs", name = "strategies", description = "Lists repair strategies: structure, bundle, ranking, active or shadowed")
public class StrategiesCommand extends XfsAction {

    @Reference(optional = true)
    RepairEngine engine;

    @Option(name = "--json", description = "Print one JSON object instead of a table")
    boolean json;

    @Override
    int run() throws Exception {
        RepairEngine engine = Commands.engine(this.engine);
        List<RepairEngine.StrategyInfo> list = engine.strategies();
        if (json) {
            List<Object> out = new ArrayList<>();
            for (RepairEngine.StrategyInfo s : list) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("structure", s.structure());
                m.put("bundle", s.bundle());
                m.put("ranking", s.ranking());
                m.put("active", s.active());
                out.add(m);
            }
            System.out.println(Json.write(Map.of("strategies", out)));
            return OK;
        }
        ShellTable table = new ShellTable();
        table.column("Structure");
        table.column("Bundle");
        table.column("Ranking").alignRight();
        table.column("State");
        for (RepairEngine.StrategyInfo s : list) {
            table.addRow().addContent(s.structure(), s.bundle(), s.ranking(), s.active() ? "active" : "shadowed");
        }
        table.print(System.out);
        return OK;
    }
}
