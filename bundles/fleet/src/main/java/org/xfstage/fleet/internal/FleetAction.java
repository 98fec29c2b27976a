package org.xfstage.fleet.internal;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the fleet commands share with the other {@code xfs:} commands (bundles/shell's XfsAction, private to that
 * bundle): the exit status of bin/client, 0 done, 1 damage, 2 could not run, with the reason as one last line and
 * never a stack trace; and the clear line when this Karaf is not a fleet member.
 */
abstract class FleetAction implements Action {
    static final int OK = 0;
    static final int DAMAGE = 1;
    static final int FAILED = 2;

    private static final Logger LOG = LoggerFactory.getLogger(FleetAction.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

    @Reference(optional = true)
    FleetComponent fleet;

    @Override
    public final Object execute() {
        String name = "xfs:" + getClass().getAnnotation(Command.class).name();
        try {
            int status = run();
            System.out.flush();
            return status;
        } catch (Failure f) {
            return fail(f.status, f.getMessage());
        } catch (InterruptedException e) {
            return fail(FAILED, name + ": cancelled");
        } catch (Exception | LinkageError e) {
            LOG.error("{} failed", name, e);
            return fail(FAILED, name + ": failed: " + e + " (the stack trace is in the log)");
        }
    }

    private static int fail(int status, String line) {
        Thread.interrupted(); // see XfsAction: a set interrupt would make the shell drop this line
        System.out.println(line);
        System.out.flush();
        return status;
    }

    /** The running member, or the one line saying why there is none. */
    FleetNode node() throws Failure {
        FleetNode n = fleet == null ? null : fleet.node();
        if (n == null) {
            throw new Failure(FAILED, "this Karaf is not a fleet member: install feature xfstage-fleet and configure pid "
                    + FleetComponent.PID + " (see the log if it is configured)");
        }
        return n;
    }

    abstract int run() throws Exception;

    static String time(long millis) {
        return millis <= 0 ? "-" : TIME.format(Instant.ofEpochMilli(millis));
    }

    static Map<String, Object> toJson(DeviceResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", r.device());
        m.put("member", r.node());
        m.put("path", r.path());
        m.put("time", r.startMillis() <= 0 ? null : Instant.ofEpochMilli(r.startMillis()).toString());
        m.put("verdict", r.verdict().toString());
        m.put("findings", r.findings());
        m.put("durationMillis", r.durationMillis());
        m.put("detail", r.detail());
        m.put("journal", r.journal());
        m.put("lastCompleted", r.lastCompletedMillis() <= 0 ? null : Instant.ofEpochMilli(r.lastCompletedMillis()).toString());
        return m;
    }

    /** The status and last line of a command. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        Failure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }
}
