package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import javax.inject.Inject;

import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.XFile;
import org.xfstage.api.staging.XFileFactory;

/**
 * The xfile service and {@code xfs:staging} in a real Karaf: injection, the command's table and JSON,
 * and the service leaving and coming back when its bundle is stopped and started, with no restart.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StagingContainerTest {

    @Inject
    BundleContext context;

    @Inject
    XFileFactory xfiles;

    @Inject
    SessionFactory sessionFactory;

    @Configuration
    public Option[] config() {
        return KarafOptions.withXfstage();
    }

    private String run(String command) throws Exception {
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

    @Test
    public void stagingCommandListsLiveXFiles() throws Exception {
        try (XFile f = xfiles.create("itest space map")) {
            f.store(1L << 33, new byte[] {1, 2, 3}, 0, 3); // 8 GiB offset: sparse, one page used
            String table = run("xfs:staging");
            assertTrue(table, table.contains("itest space map"));
            assertTrue(table, table.contains("8589934595"));
            assertTrue(table, table.contains("memfd"));
            assertTrue(table, table.contains("xfarray(s)"));
            String json = run("xfs:staging --json");
            assertTrue(json, json.contains("{\"name\":\"itest space map\",\"size\":8589934595,\"bytesUsed\":4096,\"backing\":\"memfd\"}"));
        }
        String after = run("xfs:staging --json");
        assertTrue(after, after.contains("\"xfiles\":[]"));
    }

    @Test
    public void stoppingTheXFileBundleTakesTheServiceAwayAndStartingBringsItBack() throws Exception {
        Bundle bundle = bundle("xfstage-xfile");
        XFile live = service().create("live across stop");
        live.store(0, new byte[] {42}, 0, 1);

        bundle.stop();
        assertNull("no XFileFactory while the bundle is stopped", context.getServiceReference(XFileFactory.class));
        try {
            live.load(0, new byte[1], 0, 1);
            fail("a file of a stopped service must fail");
        } catch (StagingClosedException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("live across stop"));
        }
        String missing = runExpectingFailure("xfs:staging");
        assertTrue(missing, missing.contains("xfile staging service is not available"));

        bundle.start();
        XFileFactory back = awaitService();
        try (XFile f = back.create("after restart")) {
            f.store(0, new byte[] {7}, 0, 1);
            byte[] b = new byte[1];
            f.load(0, b, 0, 1);
            assertEquals(7, b[0]);
            assertTrue(run("xfs:staging").contains("after restart"));
        }
    }

    private String runExpectingFailure(String command) {
        try {
            return "no failure: " + run(command);
        } catch (Exception e) {
            return e.getMessage();
        }
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }

    private XFileFactory service() {
        ServiceReference<XFileFactory> ref = context.getServiceReference(XFileFactory.class);
        assertNotNull("XFileFactory service", ref);
        return context.getService(ref);
    }

    private XFileFactory awaitService() throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            ServiceReference<XFileFactory> ref = context.getServiceReference(XFileFactory.class);
            if (ref != null) {
                return context.getService(ref);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("XFileFactory did not come back within 10 s");
    }
}
