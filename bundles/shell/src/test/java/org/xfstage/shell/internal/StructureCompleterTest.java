package org.xfstage.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.console.CommandLine;
import org.junit.jupiter.api.Test;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;

/** Tab completion of --structure offers the structures of the active strategies, not the shadowed ones twice. */
class StructureCompleterTest {

    private static List<String> complete(RepairEngine engine, String typed) {
        StructureCompleter c = new StructureCompleter();
        c.engine = engine;
        List<String> candidates = new ArrayList<>();
        c.complete(null, line(typed), candidates);
        return candidates;
    }

    @Test
    void offersActiveStructuresMatchingWhatWasTyped() {
        RepairEngine engine = new FakeEngine(List.of(new RepairEngine.StrategyInfo("agf", "b", 0, true),
                new RepairEngine.StrategyInfo("agfl", "b", 0, true), new RepairEngine.StrategyInfo("agi", "b", 0, true),
                new RepairEngine.StrategyInfo("nlinks", "example", 100, true), new RepairEngine.StrategyInfo("nlinks", "b", 0, false)));
        assertEquals(List.of("agf ", "agfl "), complete(engine, "agf"));
        assertEquals(List.of("nlinks "), complete(engine, "n"));
        assertEquals(5 - 1, complete(engine, "").size());
        assertEquals(List.of(), complete(null, "a"), "no engine, no candidates");
    }

    private static CommandLine line(String typed) {
        return new CommandLine() {
            @Override
            public int getCursorArgumentIndex() {
                return 2;
            }

            @Override
            public String getCursorArgument() {
                return typed;
            }

            @Override
            public int getArgumentPosition() {
                return typed.length();
            }

            @Override
            public String[] getArguments() {
                return new String[] {"xfs:scrub", "--structure", typed};
            }

            @Override
            public int getBufferPosition() {
                return getBuffer().length();
            }

            @Override
            public String getBuffer() {
                return "xfs:scrub --structure " + typed;
            }
        };
    }

    private record FakeEngine(List<StrategyInfo> strategies) implements RepairEngine {
        @Override
        public ScrubReport scrub(Path image, ScrubOptions options, Progress progress) {
            throw new UnsupportedOperationException();
        }

        @Override
        public RepairReport repair(Path image, RepairOptions options, Progress progress) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int undo(Path journal, Path image) {
            throw new UnsupportedOperationException();
        }
    }
}
