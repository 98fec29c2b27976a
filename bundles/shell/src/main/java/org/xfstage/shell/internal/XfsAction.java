package org.xfstage.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every {@code xfs:} command shares: its exit status. A Karaf command that returns an {@link Integer} sets
 * the exit status of {@code bin/client} (and of an ssh exec); the console does not print it. So: 0 done (clean),
 * 1 damage found, 2 could not run, with the reason as the last line of output and never a stack trace (an
 * unexpected exception is logged with its trace, and the operator gets its one-line summary).
 */
abstract class XfsAction implements Action {
    static final int OK = 0;
    static final int DAMAGE = 1;
    static final int FAILED = 2;

    private static final Logger LOG = LoggerFactory.getLogger(XfsAction.class);

    @Override
    public final Object execute() {
        String name = "xfs:" + getClass().getAnnotation(Command.class).name();
        try {
            int status = run();
            System.out.flush();
            return status;
        } catch (CommandFailure f) {
            return fail(f.status, f.getMessage());
        } catch (InterruptedException e) {
            return fail(FAILED, name + ": cancelled");
        } catch (Exception | LinkageError e) {
            LOG.error("{} failed", name, e);
            return fail(FAILED, name + ": failed: " + e + " (the stack trace is in the log)");
        }
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

    /** Runs the command; returns {@link #OK} or throws a {@link CommandFailure} that carries the status. */
    abstract int run() throws Exception;
}
