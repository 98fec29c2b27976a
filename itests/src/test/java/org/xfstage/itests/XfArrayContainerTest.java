package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.util.Random;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;

/** The xfarray service in a real Karaf: a sort through the OSGi service, and an array outliving its xfile provider. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class XfArrayContainerTest extends ContainerSupport {

    @Inject
    XfArrayFactory injected;

    /** 16-byte records ordered by their first 8 bytes, big-endian unsigned (announced as a radix key). */
    private static final RecordComparator BY_KEY = RecordComparator.unsignedLongs(2);

    @Test
    public void sortsThroughTheServiceAndClosesArraysWhenTheXFileBundleStops() throws Exception {
        int n = 600_000; // more than one 4 MiB chunk: the external radix path runs inside the container
        Random rnd = new Random(1);
        try (XfArray a = injected.create("itest sort", 16)) {
            ByteBuffer rec = ByteBuffer.allocate(16);
            for (int i = 0; i < n; i++) {
                rec.clear();
                rec.putLong(rnd.nextLong()).putLong(i + 1L).flip();
                a.append(rec);
            }
            a.sort(BY_KEY, SortOptions.DEFAULT, Progress.NONE);
            ByteBuffer prev = ByteBuffer.allocate(16);
            ByteBuffer cur = ByteBuffer.allocate(16);
            a.load(0, prev);
            for (long i = 1; i < n; i++) {
                a.load(i, cur);
                assertTrue("sorted at " + i, BY_KEY.compare(prev, 0, cur, 0) <= 0);
                ByteBuffer t = prev;
                prev = cur;
                cur = t;
            }
            assertEquals(n, a.length());
            assertTrue(a.stats().partitions() > 1);
        }

        XfArray live = awaitService(XfArrayFactory.class).create("live across xfile stop", 8);
        live.append(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Bundle xfile = bundle("xfstage-xfile");
        xfile.stop();
        try {
            live.load(0, new byte[8]);
            fail("an array staged on a stopped xfile service must fail");
        } catch (StagingClosedException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("live across xfile stop"));
        }
        xfile.start();
        XfArrayFactory back = awaitService(XfArrayFactory.class);
        try (XfArray again = back.create("after xfile restart", 8)) {
            again.append(new byte[] {8, 7, 6, 5, 4, 3, 2, 1});
            byte[] b = new byte[8];
            again.load(0, b);
            assertEquals(8, b[0]);
        }
    }

}
