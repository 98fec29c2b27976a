package org.xfstage.shell.internal;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.Terminal;
import org.xfstage.api.staging.Progress;

/**
 * The progress line of a long command on a terminal, as a person reads it: the phase (walk, link counts, sort,
 * checks, plan, write), done and total in the phase's unit (AGs, inodes, records), the rate and the time left, e.g.
 * {@code walk: 5 of 16 AGs (31%), 2.1 AGs/s, about 0:05 left}. Redrawn in place at most five times a second when work
 * is reported, and every second when none is (a long AG still moves the clock), cleared at the end. Nothing at all
 * when the output is not a terminal (bin/client -b, pipes, tests).
 * <p>
 * Notes (a run's staging estimate) go to the command's text output: on a terminal as they come, for the person
 * waiting; otherwise they are kept for {@link #printNotes}, which the command calls before its result, so that a run
 * that cannot complete still prints its one line only. Ctrl-C interrupts the command's thread, which
 * {@link #isCancelled()} reports.
 */
final class TerminalProgress implements Progress {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final PrintStream notes;
    private final String notePrefix;
    private final boolean enabled;
    private final ScheduledExecutorService clock;
    private String phase = "";
    private String unit = "";
    private long total = -1;
    private long done;
    private long phaseStart = System.nanoTime();
    private long lastDraw;
    private boolean drawn;
    private final java.util.List<String> kept = new java.util.ArrayList<>();

    /** A progress line on {@code out}; no notes printed. */
    TerminalProgress(Session session, PrintStream out) {
        this(session, out, null, "");
    }

    /** A progress line on {@code out}; notes printed on {@code notes} (null: not printed), each after {@code notePrefix}. */
    TerminalProgress(Session session, PrintStream out, PrintStream notes, String notePrefix) {
        this.out = out;
        this.notes = notes;
        this.notePrefix = notePrefix;
        Terminal t = session == null ? null : session.getTerminal();
        this.enabled = t != null && t.isAnsiSupported() && !"dumb".equals(t.getType());
        if (enabled) {
            clock = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread th = new Thread(r, "xfs progress clock");
                th.setDaemon(true);
                return th;
            });
            clock.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
        } else {
            clock = null;
        }
    }

    @Override
    public synchronized void total(String phase, long units) {
        total(phase, units, "");
    }

    @Override
    public synchronized void total(String phase, long units, String unit) {
        this.phase = phase;
        this.unit = unit == null ? "" : unit;
        this.total = units;
        this.done = 0;
        this.phaseStart = System.nanoTime();
        draw(true);
    }

    @Override
    public synchronized void increment(long units) {
        done += units;
        draw(false);
    }

    @Override
    public synchronized void note(String line) {
        if (notes == null) {
            return;
        }
        if (!enabled) {
            kept.add(line);
            return;
        }
        clear();
        notes.println(notePrefix + line);
        notes.flush();
    }

    /** The notes kept while the run went on (no terminal), each on a line of {@code out}: the result's first lines. */
    synchronized void printNotes(PrintStream out) {
        for (String line : kept) {
            out.println(notePrefix + line);
        }
        kept.clear();
    }

    @Override
    public boolean isCancelled() {
        return Thread.currentThread().isInterrupted();
    }

    private synchronized void tick() {
        if (!phase.isEmpty()) {
            draw(true);
        }
    }

    private void draw(boolean force) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (!force && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        out.print("\r\033[K" + line(phase, unit, total, done, now - phaseStart));
        out.flush();
        drawn = true;
    }

    /** "walk: 5 of 16 AGs (31%), 2.1 AGs/s, about 0:05 left"; without a unit, as older callers report. */
    static String line(String phase, String unit, long total, long done, long elapsedNanos) {
        double seconds = Math.max(1e-3, elapsedNanos / 1e9);
        double rate = done / seconds;
        String u = unit.isEmpty() ? "" : " " + unit;
        StringBuilder b = new StringBuilder(phase).append(": ");
        if (total > 0) {
            b.append(String.format("%,d of %,d%s (%d%%)", done, total, u, Math.min(100, done * 100 / total)));
        } else {
            b.append(String.format("%,d%s", done, u));
        }
        b.append(String.format(", %,.1f%s/s", rate, u));
        if (total > 0 && done > 0 && done < total) {
            long left = (long) Math.ceil((total - done) / rate);
            b.append(left >= 3600 ? String.format(", about %d:%02d:%02d left", left / 3600, left / 60 % 60, left % 60)
                    : String.format(", about %d:%02d left", left / 60, left % 60));
        }
        return b.toString();
    }

    private void clear() {
        if (drawn) {
            out.print("\r\033[K");
            out.flush();
            drawn = false;
        }
    }

    /** Stops the clock and clears the line before the command prints its result. */
    synchronized void finish() {
        if (clock != null) {
            clock.shutdownNow();
        }
        phase = "";
        clear();
    }
}
