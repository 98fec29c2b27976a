package org.xfstage.shell.internal;

import java.io.PrintStream;

import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.Terminal;
import org.xfstage.api.staging.Progress;

/**
 * The progress line of a long command on a terminal: phase, percent and units per second, redrawn in place at most
 * five times a second, and cleared at the end. Nothing at all when the output is not a terminal (bin/client -b,
 * pipes, tests). Ctrl-C interrupts the command's thread, which {@link #isCancelled()} reports.
 */
final class TerminalProgress implements Progress {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean enabled;
    private String phase = "";
    private long total = -1;
    private long done;
    private long phaseStart = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    TerminalProgress(Session session, PrintStream out) {
        this.out = out;
        Terminal t = session == null ? null : session.getTerminal();
        this.enabled = t != null && t.isAnsiSupported() && !"dumb".equals(t.getType());
    }

    @Override
    public synchronized void total(String phase, long units) {
        this.phase = phase;
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
    public boolean isCancelled() {
        return Thread.currentThread().isInterrupted();
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
        double seconds = Math.max(1e-3, (now - phaseStart) / 1e9);
        String pct = total > 0 ? String.format(" %3d%%", Math.min(100, done * 100 / total)) : "";
        out.printf("\r\033[K%s%s %,.0f/s", phase, pct, done / seconds);
        out.flush();
        drawn = true;
    }

    /** Clears the line before the command prints its result. */
    synchronized void finish() {
        if (drawn) {
            out.print("\r\033[K");
            out.flush();
        }
    }
}
