package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseFilesTest {
    @TempDir
    Path dir;

    /** Data at the start, a hole, data straddling a block boundary, a hole to an odd length. */
    private Path sample() throws Exception {
        Path f = dir.resolve("a.img");
        byte[] data = new byte[10_000];
        new Random(7).nextBytes(data);
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(data), 0);
            c.write(ByteBuffer.wrap(data, 0, 5000), 3 * (1 << 20) - 100);
            c.write(ByteBuffer.wrap(new byte[1]), 5 * (1 << 20) + 12_345);
        }
        return f;
    }

    @Test
    void aCopyHasTheSameBytesAndTheSameDigest() throws Exception {
        Path a = sample();
        Path b = SparseFiles.copy(a, dir.resolve("b.img"));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertEquals(SparseFiles.digest(a), SparseFiles.digest(b));
    }

    @Test
    void oneChangedByteAnywhereChangesTheDigest() throws Exception {
        Path a = sample();
        String before = SparseFiles.digest(a);
        for (long at : new long[] {0, 4095, 2 * (1 << 20), 5 * (1 << 20) + 12_344}) {
            Path b = SparseFiles.copy(a, dir.resolve("b.img"));
            try (FileChannel c = FileChannel.open(b, StandardOpenOption.WRITE)) {
                c.write(ByteBuffer.wrap(new byte[] {1}), at);
            }
            assertNotEquals(before, SparseFiles.digest(b), "byte " + at);
        }
        Path longer = SparseFiles.copy(a, dir.resolve("c.img"));
        try (FileChannel c = FileChannel.open(longer, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(new byte[1]), c.size());
        }
        assertNotEquals(before, SparseFiles.digest(longer), "a zero byte more");
    }
}
