package org.xfstage.itests;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import javax.inject.Inject;

import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
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

    @Configuration
    public Option[] config() {
        return KarafOptions.withXfstage();
    }

    /** Runs a shell command and returns what it printed; a failed command throws with its one-line message. */
    protected String run(String command) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Session session = sessionFactory.create(System.in, out, out);
        try {
            session.execute(command);
        } finally {
            out.flush();
            session.close();
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The message a command fails with (or a line saying it did not fail). */
    protected String failure(String command) {
        try {
            return "no failure: " + run(command);
        } catch (Exception e) {
            return e.getMessage();
        }
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
    protected <T> T awaitService(Class<T> type) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            ServiceReference<T> ref = context.getServiceReference(type);
            if (ref != null) {
                return context.getService(ref);
            }
            Thread.sleep(100);
        }
        throw new AssertionError(type.getSimpleName() + " did not come back within 10 s");
    }
}
