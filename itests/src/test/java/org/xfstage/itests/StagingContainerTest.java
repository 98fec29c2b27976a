package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;


import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.XFile;
import org.xfstage.api.staging.XFileFactory;

/**
 * The xfile service and {@code xfs:staging} in a real Karaf: injection, the command's table and JSON,
 * and the service leaving and coming back when its bundle is stopped and started, with no restart.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StagingContainerTest extends ContainerSupport {

    @Inject
    XFileFactory xfiles;

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
        XFile live = awaitService(XFileFactory.class).create("live across stop");
        live.store(0, new byte[] {42}, 0, 1);

        bundle.stop();
        assertNull("no XFileFactory while the bundle is stopped", context.getServiceReference(XFileFactory.class));
        try {
            live.load(0, new byte[1], 0, 1);
            fail("a file of a stopped service must fail");
        } catch (StagingClosedException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("live across stop"));
        }
        String missing = failure("xfs:staging", 2);
        assertTrue(missing, missing.contains("xfile staging service is not available"));

        bundle.start();
        XFileFactory back = awaitService(XFileFactory.class);
        try (XFile f = back.create("after restart")) {
            f.store(0, new byte[] {7}, 0, 1);
            byte[] b = new byte[1];
            f.load(0, b, 0, 1);
            assertEquals(7, b[0]);
            assertTrue(run("xfs:staging").contains("after restart"));
        }
    }

}
