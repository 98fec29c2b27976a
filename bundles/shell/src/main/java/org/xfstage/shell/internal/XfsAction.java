package org.xfstage.shell.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every {@code xfs:} command shares: its exit status. A Karaf command that returns an {@link Integer} sets
 * the exit status of {@code bin/client} (and of an ssh exec); the console does not print it. So: 0 done (clean),
 * 1 damage found, 2 could not run, with the reason as the last line of output and never a stack trace (an
 * unexpected exception is logged with its trace, and the operator gets its one-line summary).
 *
 * <p>A command with an {@code --output FILE} ({@link ReportAction}) prints into an {@link OutputFile} instead: the
 * whole output, damage line included, goes to FILE when the command completes (status 0 or 1) and the console gets
 * one line saying where it went; a run that could not complete (status 2) leaves FILE as it was and prints its
 * reason on the console.
 */
abstract class XfsAction implements Action {
    static final int OK = 0;
    static final int DAMAGE = 1;
    static final int FAILED = 2;

    private static final Logger LOG = LoggerFactory.getLogger(XfsAction.class);

    private PrintStream out;

    @Override
    public final Object execute() {
        String name = "xfs:" + getClass().getAnnotation(Command.class).name();
        OutputFile file = null;
        try {
            String output = outputOption();
            if (output != null) {
                // before any work: a FILE that cannot be written should not cost a scrub first
                file = OutputFile.create(output, notOnto());
            }
            out = file == null ? System.out : file.stream();
            return done(name, file, run());
        } catch (CommandFailure f) {
            if (f.status == DAMAGE && file != null) {
                file.stream().println(f.getMessage());
                return done(name, file, DAMAGE);
            }
            return fail(f.status, f.getMessage());
        } catch (InterruptedException e) {
            return fail(FAILED, name + ": cancelled");
        } catch (Exception | LinkageError e) {
            LOG.error("{} failed", name, e);
            return fail(FAILED, name + ": failed: " + e + " (the stack trace is in the log)");
        } finally {
            if (file != null) {
                file.discard(); // nothing when it was renamed onto FILE
            }
        }
    }

    /** The command completed with this status: its output is flushed to the console, or renamed onto FILE. */
    private static int done(String name, OutputFile file, int status) {
        if (file != null) {
            try {
                file.commit();
            } catch (IOException e) {
                return fail(FAILED, name + ": could not write the output to " + file.target() + ": " + OutputFile.reason(e));
            }
            System.out.println(name + ": output written to " + file.target() + " (" + file.lines() + " line(s))");
        }
        System.out.flush();
        return status;
    }

    /**
     * The one line, on the session's output as Karaf prints its own command errors (over ssh, a command's error
     * stream does not reach bin/client), flushed before the status is returned.
     */
    private static int fail(int status, String line) {
        // Ctrl-C interrupts the command's thread: the run has stopped, so the interrupt is handled here; left set,
        // it would make the shell's pipe drop this line and add an error of its own
        Thread.interrupted();
        System.out.println(line);
        System.out.flush();
        return status;
    }

    /** Where the command prints its output: the session's output, or the temporary file of {@code --output}. */
    final PrintStream out() {
        return out;
    }

    /** The FILE of {@code --output}, or null: the commands with a long output have the option. */
    String outputOption() {
        return null;
    }

    /** Files that {@code --output} must never replace: the image a command works on, a journal it writes. */
    List<Path> notOnto() {
        return List.of();
    }

    /** Runs the command; returns {@link #OK} or throws a {@link CommandFailure} that carries the status. */
    abstract int run() throws Exception;
}
