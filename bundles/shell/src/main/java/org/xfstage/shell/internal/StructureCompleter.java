package org.xfstage.shell.internal;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.xfstage.api.repair.RepairEngine;

/** Completes {@code --structure} with the structures the registered strategies check, as they stand now. */
@Service
public class StructureCompleter implements Completer {

    @Reference(optional = true)
    RepairEngine engine;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        RepairEngine e = engine;
        if (e == null) {
            return -1;
        }
        StringsCompleter names = new StringsCompleter();
        e.strategies().stream().filter(RepairEngine.StrategyInfo::active).forEach(s -> names.getStrings().add(s.structure()));
        return names.complete(session, commandLine, candidates);
    }
}
