package org.xfstage.itests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Stream;

import javax.inject.Inject;
import javax.security.auth.Subject;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.After;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/** What every container test needs: the Karaf with xfstage, shell commands as strings, bundles and services by name. */
public abstract class ContainerSupport {

    @Inject
    protected BundleContext context;

    @Inject
    protected SessionFactory sessionFactory;

    /** How often {@link #await} looks again. */
    private static final long POLL_MILLIS = 100;

    /** The temporary directories this test made, deleted after it. */
    private final List<Path> tempDirectories = new ArrayList<>();

    @Configuration
    public Option[] config() {
        return KarafOptions.withXfstage();
    }

    /** What a shell command printed and the exit status it returned (bin/client exits with it). */
    protected record Result(int status, String out) {
    }

    /** Roles of Karaf's admingroup: what the karaf user of the distribution has. */
    protected static final String[] ADMIN = {"admin", "manager", "viewer", "systembundles", "ssh"};

    /** Runs a shell command as an admin would after logging in over ssh (a headless session under a JAAS subject). */
    protected Result exec(String command) throws Exception {
        return execAs(command, ADMIN);
    }

    /** Runs a shell command under a subject with these roles (command ACLs apply) and returns its status and output. */
    @SuppressWarnings("removal")
    protected Result execAs(String command, String... roles) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Session session = sessionFactory.create(System.in, out, out);
        Subject subject = new Subject();
        subject.getPrincipals().add(new UserPrincipal("itest-" + String.join("-", roles)));
        for (String role : roles) {
            subject.getPrincipals().add(new RolePrincipal(role));
        }
        Object status;
        try {
            status = Subject.doAs(subject, (PrivilegedExceptionAction<Object>) () -> session.execute(command));
        } catch (PrivilegedActionException e) {
            throw e.getException();
        } finally {
            out.flush();
            session.close();
        }
        return new Result(status instanceof Integer i ? i : 0, bytes.toString(StandardCharsets.UTF_8));
    }

    /** Runs a shell command that must succeed (status 0) and returns what it printed. */
    protected String run(String command) throws Exception {
        Result r = exec(command);
        if (r.status() != 0) {
            throw new AssertionError(command + ": status " + r.status() + ", " + r.out());
        }
        return r.out();
    }

    /**
     * Runs a shell command that must end with the given non-zero status, its reason in the last line and no stack
     * trace, and returns that line.
     */
    protected String failure(String command, int status) throws Exception {
        Result r = exec(command);
        List<String> lines = r.out().strip().lines().toList();
        if (r.status() != status || lines.isEmpty() || r.out().contains("\tat ")) {
            throw new AssertionError(command + ": expected status " + status + " and a reason, got status " + r.status()
                    + " [" + r.out() + "]");
        }
        return lines.get(lines.size() - 1);
    }

    /**
     * A one-file image holding {@code content}, made by mkfs.xfs in a temporary directory of its own, with AG 1's
     * agf_longest damaged by xfs_db: the damage every container test repairs.
     */
    protected Path damagedImage(String name, String content) throws Exception {
        Xfsprogs xfsprogs = Xfsprogs.find();
        Path img = xfsprogs.oneFileImage(tempDirectory(name), content);
        xfsprogs.db(img, "agf 1", "write -d longest 7");
        return img;
    }

    /** Sets one property of a configuration at runtime, as an operator would with config:property-set. */
    protected void setConfig(String pid, String key, String value) throws Exception {
        awaitFileInstall(pid);
        run("config:edit " + pid + "\nconfig:property-set " + key + " " + value + "\nconfig:update");
    }

    /**
     * Waits up to 10 s until Felix FileInstall has read the feature's etc/PID.cfg, when there is one: a change made
     * before that is overwritten by the file's values when FileInstall's poll reaches it.
     */
    private void awaitFileInstall(String pid) throws Exception {
        if (!Files.exists(Path.of(System.getProperty("karaf.etc", "etc"), pid + ".cfg"))) {
            return;
        }
        await(Duration.ofSeconds(10), () -> run("config:list \"(service.pid=" + pid + ")\"").contains("felix.fileinstall.filename"),
                "FileInstall reading etc/" + pid + ".cfg");
    }

    protected Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }

    /** The service, waiting up to 10 s for it to (re)appear. */
    protected <T> T awaitService(Class<T> type) throws Exception {
        ServiceReference<T> ref = await(Duration.ofSeconds(10), () -> context.getServiceReference(type), Objects::nonNull,
                type.getSimpleName() + " coming back");
        return context.getService(ref);
    }

    /**
     * Waits until the condition holds, looking every 100 ms (services and configurations change asynchronously);
     * fails naming {@code what} was awaited when it does not hold within {@code limit}.
     */
    protected static void await(Duration limit, Callable<Boolean> condition, String what) throws Exception {
        await(limit, condition, Boolean.TRUE::equals, what);
    }

    /**
     * Takes {@code probe} every 100 ms until its value satisfies {@code until} and returns that value; fails naming
     * {@code what} was awaited, with the last value, when none does within {@code limit}.
     */
    protected static <T> T await(Duration limit, Callable<T> probe, Predicate<? super T> until, String what) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            T value = probe.call();
            if (until.test(value)) {
                return value;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError(what + ": not within " + limit.toSeconds() + " s; last seen: " + value);
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** A new temporary directory, deleted with all it holds after the test. */
    protected Path tempDirectory(String name) throws IOException {
        Path dir = Files.createTempDirectory("xfstage-" + name);
        tempDirectories.add(dir);
        return dir;
    }

    @After
    public void deleteTempDirectories() throws IOException {
        for (Path dir : tempDirectories) {
            deleteRecursively(dir);
        }
        tempDirectories.clear();
    }

    /** Deletes a directory and all it holds (symbolic links, not what they point to); nothing when it is gone. */
    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
