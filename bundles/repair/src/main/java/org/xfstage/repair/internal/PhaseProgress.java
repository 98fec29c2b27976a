package org.xfstage.repair.internal;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.staging.Progress;

/**
 * A run's progress as a person reads it: the phases a user knows (walk, link counts, sort, checks, plan, write), each
 * counted in its own unit (AGs, inodes, records, checks) with the time left, passed on to the caller's progress, logged
 * every few seconds and, when a phase ends, put in the run's figures ({@code phase:NAME:UNIT} units and
 * {@code phase:NAME:ms}).
 * <p>
 * What the engine calls inside a phase (the xfarray sort, the device's tree walk, a strategy's check) reports its own
 * internal passes ("sort: radix bits 22-32"); those do not reach the caller as phases. Inside a {@link #step} they
 * move the phase forward by the fraction of the step they report done (a sort of 3 passes reports each pass from 0:
 * the figure never goes back); outside a step, their units are the phase's (the tree walk's entries are inodes).
 */
final class PhaseProgress implements Progress {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines
    private static final long LOG_NANOS = 5_000_000_000L;

    private final Progress outer;
    private final String run;
    private final Map<String, Long> figures;
    private String phase;
    private String unit;
    private long total;
    private long start;
    /** Units of the phase done, as reported to the outer progress (never decreases within a phase). */
    private long done;
    private long lastLog;
    /** The current step's weight in units, or 0 outside a step, and where the phase stood when it began. */
    private long stepWeight;
    private long stepBase;
    private long innerTotal;
    private long innerDone;

    PhaseProgress(Progress outer, String run, Map<String, Long> figures) {
        this.outer = outer == null ? Progress.NONE : outer;
        this.run = run;
        this.figures = figures;
    }

    /** Ends the phase under way (if any) and begins {@code name} of {@code units} (or -1) counted in {@code unitName}. */
    synchronized void phase(String name, long units, String unitName) {
        end();
        phase = name;
        unit = unitName;
        total = units;
        done = 0;
        stepWeight = 0;
        stepBase = 0;
        start = System.nanoTime();
        lastLog = start;
        outer.total(name, units, unitName);
    }

    /** Begins a part of the phase worth {@code weight} units (the previous step counts as done). */
    synchronized void step(long weight) {
        if (stepWeight > 0) {
            advanceTo(stepBase + stepWeight);
        }
        stepBase = done;
        stepWeight = Math.max(0, weight);
        innerTotal = -1;
        innerDone = 0;
    }

    /** Ends the phase under way: its figures go to the run's, and a line to the log. */
    synchronized void end() {
        if (phase == null) {
            return;
        }
        if (stepWeight > 0) {
            advanceTo(stepBase + stepWeight);
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        figures.put("phase:" + phase + ":" + unit, done);
        figures.put("phase:" + phase + ":ms", ms);
        LOG.info("[{}] {}: {} {} in {} s", run, phase, String.format("%,d", done), unit, String.format("%.1f", ms / 1000.0));
        phase = null;
    }

    @Override
    public synchronized void total(String innerPhase, long units) {
        if (phase == null) {
            outer.total(innerPhase, units); // nothing of ours under way: pass it on as it is
            return;
        }
        innerTotal = units;
        innerDone = 0;
    }

    @Override
    public synchronized void increment(long units) {
        if (phase == null) {
            outer.increment(units);
            return;
        }
        if (stepWeight == 0) {
            advanceTo(done + units);
        } else if (innerTotal > 0) {
            innerDone += units;
            advanceTo(stepBase + Math.min(stepWeight, stepWeight * Math.min(innerDone, innerTotal) / innerTotal));
        }
    }

    @Override
    public void note(String line) {
        outer.note(line);
    }

    @Override
    public boolean isCancelled() {
        return outer.isCancelled();
    }

    private void advanceTo(long now) {
        if (now <= done) {
            return;
        }
        outer.increment(now - done);
        done = now;
        long t = System.nanoTime();
        if (t - lastLog >= LOG_NANOS) {
            lastLog = t;
            LOG.info("[{}] {}", run, line(phase, unit, total, done, t - start));
        }
    }

    /** The figures of a phase as a person reads them: "walk: 5 of 16 AGs (31%), 2.1 AGs/s, about 0:05 left". */
    static String line(String phase, String unit, long total, long done, long elapsedNanos) {
        double seconds = Math.max(1e-3, elapsedNanos / 1e9);
        double rate = done / seconds;
        StringBuilder b = new StringBuilder(phase).append(": ");
        if (total > 0) {
            b.append(String.format("%,d of %,d %s (%d%%)", done, total, unit, Math.min(100, done * 100 / total)));
        } else {
            b.append(String.format("%,d %s", done, unit));
        }
        b.append(String.format(", %,.1f %s/s", rate, unit));
        if (total > 0 && done > 0 && done < total) {
            b.append(", about ").append(duration((long) Math.ceil((total - done) / rate))).append(" left");
        }
        return b.toString();
    }

    /** Seconds as m:ss (or h:mm:ss). */
    static String duration(long seconds) {
        if (seconds >= 3600) {
            return String.format("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
        }
        return String.format("%d:%02d", seconds / 60, seconds % 60);
    }
}
