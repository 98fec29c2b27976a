package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.staging.Progress;

/** What a person's progress sees of a run: its phases with units, never the sort's internal passes, never going back. */
class PhaseProgressTest {

    /** Records what reaches the caller's progress. */
    private static final class Seen implements Progress {
        final List<String> phases = new ArrayList<>();
        long done;
        long lowest = Long.MAX_VALUE;

        @Override
        public void total(String phase, long units) {
            phases.add(phase + "/" + units);
        }

        @Override
        public void total(String phase, long units, String unit) {
            phases.add(phase + "/" + units + " " + unit);
            done = 0;
        }

        @Override
        public void increment(long units) {
            lowest = Math.min(lowest, units);
            done += units;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }
    }

    @Test
    void innerPassesMoveThePhaseByTheirFractionAndNeverBack() {
        Seen seen = new Seen();
        Map<String, Long> figures = new LinkedHashMap<>();
        PhaseProgress p = new PhaseProgress(seen, "test", figures);
        p.phase("walk", 4, "AGs");
        p.total("scrub: walk", 4); // the walk's own announcement: swallowed, its increments are the phase's
        p.increment(1);
        p.increment(3);
        assertEquals(4, seen.done);
        p.phase("sort", 300, "records");
        p.step(100);
        p.total("sort: radix bits 0-10", 100);
        p.increment(50);
        assertEquals(50, seen.done);
        p.total("sort: radix bits 11-21", 100); // a second pass reports from 0 again
        p.increment(10);
        assertEquals(50, seen.done, "a new pass does not take the phase back");
        p.step(200); // the first step counts whole
        assertEquals(100, seen.done);
        p.total("sort: in memory", 200);
        p.increment(100);
        assertEquals(200, seen.done);
        p.end();
        assertEquals(List.of("walk/4 AGs", "sort/300 records"), seen.phases, "no internal phase reaches the caller");
        assertTrue(seen.lowest > 0, "only increments forward");
        assertEquals(4L, figures.get("phase:walk:AGs"));
        assertEquals(300L, figures.get("phase:sort:records"));
        assertTrue(figures.containsKey("phase:sort:ms"));
    }

    @Test
    void theLineNamesPhaseUnitRateAndTimeLeft() {
        assertEquals("walk: 4 of 16 AGs (25%), 2.0 AGs/s, about 0:06 left", PhaseProgress.line("walk", "AGs", 16, 4, 2_000_000_000L));
        assertEquals("link counts: 1,000 inodes, 500.0 inodes/s", PhaseProgress.line("link counts", "inodes", -1, 1000, 2_000_000_000L));
        assertEquals("1:01:01", PhaseProgress.duration(3661));
    }
}
