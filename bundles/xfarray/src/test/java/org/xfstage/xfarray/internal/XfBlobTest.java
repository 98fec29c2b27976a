package org.xfstage.xfarray.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.xfile.internal.XFileFactoryImpl;

class XfBlobTest {
    private XFileFactoryImpl xfiles;
    private XfBlobFactoryImpl blobs;

    @BeforeEach
    void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        blobs = new XfBlobFactoryImpl(xfiles);
    }

    @AfterEach
    void stop() {
        blobs.deactivate();
        xfiles.deactivate();
    }

    @Test
    void blobsOfEverySizeComeBackByTheirCookies() throws Exception {
        try (XfBlob b = blobs.create("names")) {
            Random r = new Random(7);
            List<byte[]> stored = new ArrayList<>();
            List<Long> cookies = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                byte[] data = new byte[i % 10 == 0 ? r.nextInt(70_000) : r.nextInt(256)]; // names, and the odd xattr value
                r.nextBytes(data);
                stored.add(data);
                cookies.add(b.store(data));
            }
            assertEquals(2000, b.count());
            assertEquals(cookies.size(), cookies.stream().distinct().count(), "every cookie is its own");
            assertTrue(cookies.stream().allMatch(c -> c != 0), "0 is never a cookie (a null record field)");
            for (int i = 0; i < stored.size(); i++) {
                assertArrayEquals(stored.get(i), b.load(cookies.get(i)), "blob " + i);
                assertEquals(stored.get(i).length, b.size(cookies.get(i)));
            }
            byte[] dst = new byte[300];
            int n = b.load(cookies.get(1), dst, 10);
            assertArrayEquals(stored.get(1), java.util.Arrays.copyOfRange(dst, 10, 10 + n));
        }
    }

    @Test
    void aCookieThatIsNotOneIsRefusedNotMisread() throws Exception {
        try (XfBlob b = blobs.create("names")) {
            long a = b.store("lost+found".getBytes(StandardCharsets.UTF_8));
            long c = b.store("a much longer directory entry name".getBytes(StandardCharsets.UTF_8));
            for (long bad : new long[] {0, a + 8, a + 1, c + 16, c + 1_000_000, -8}) {
                assertThrows(StagingException.class, () -> b.load(bad), "cookie " + bad);
            }
            assertThrows(StagingException.class, () -> b.load(c, new byte[5], 0), "too small a buffer");
            assertEquals("lost+found", new String(b.load(a), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aFreedBlobIsGoneAndItsPagesAreGivenBack() throws Exception {
        try (XfBlob b = blobs.create("values")) {
            long small = b.store(new byte[] {1, 2, 3});
            long big = b.store(new byte[64 * 1024]);
            byte[] ones = new byte[64 * 1024];
            java.util.Arrays.fill(ones, (byte) 1);
            long full = b.store(ones);
            long before = b.bytesUsed();
            b.free(full);
            assertThrows(StagingException.class, () -> b.load(full), "freed");
            assertThrows(StagingException.class, () -> b.free(full), "freed twice");
            assertTrue(b.bytesUsed() < before, "whole pages of the freed blob are given back: " + before + " -> " + b.bytesUsed());
            assertArrayEquals(new byte[] {1, 2, 3}, b.load(small), "the others stay");
            assertEquals(64 * 1024, b.load(big).length);
            assertEquals(2, b.count());
        }
    }

    @Test
    void storesMadeOnAProviderThatGoesAwayAreClosed() throws Exception {
        XfBlob b = blobs.create("names");
        long c = b.store(new byte[] {9});
        blobs.unbindXFileFactory(xfiles);
        assertThrows(StagingClosedException.class, () -> b.load(c));
        assertEquals(0, blobs.liveCount());
        assertNotEquals(null, b.name());
    }
}
