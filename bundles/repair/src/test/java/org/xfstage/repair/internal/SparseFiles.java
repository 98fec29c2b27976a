package org.xfstage.repair.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Whether two sparse images hold the same bytes, reading only where either has data. A corpus image is 512 MiB of
 * which a few MiB are allocated; reading it whole costs about half a second of kernel time for the zeros of its holes,
 * which made that comparison most of a fuzz case's cost. Linux's {@code lseek(SEEK_DATA / SEEK_HOLE)} gives the data
 * regions (Java has no API for it, so through JNA as the xfile bundle reaches libc); outside the union of both files'
 * regions both read as zeros, inside it the bytes are compared.
 */
final class SparseFiles {
    private static final int O_RDONLY = 0;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int CHUNK = 1 << 20;

    private interface LibC extends Library {
        int open(String path, int flags) throws LastErrorException;

        long lseek(int fd, long offset, int whence) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static final LibC LIBC = Native.load("c", LibC.class);

    private SparseFiles() {
    }

    /** True when both files have the same size and the same bytes. */
    static boolean sameBytes(Path a, Path b) throws IOException {
        try (FileChannel ca = FileChannel.open(a, StandardOpenOption.READ); FileChannel cb = FileChannel.open(b, StandardOpenOption.READ)) {
            if (ca.size() != cb.size()) {
                return false;
            }
            TreeMap<Long, Long> union = new TreeMap<>();
            for (long[] r : dataRegions(a, ca.size())) {
                add(union, r[0], r[1]);
            }
            for (long[] r : dataRegions(b, cb.size())) {
                add(union, r[0], r[1]);
            }
            ByteBuffer x = ByteBuffer.allocate(CHUNK);
            ByteBuffer y = ByteBuffer.allocate(CHUNK);
            for (var e : union.entrySet()) {
                for (long at = e.getKey(); at < e.getValue(); at += CHUNK) {
                    int n = (int) Math.min(CHUNK, e.getValue() - at);
                    read(ca, x, at, n);
                    read(cb, y, at, n);
                    if (!x.equals(y)) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /** [start, end) of each data region, from SEEK_DATA and SEEK_HOLE; a file system without them reports all data. */
    static List<long[]> dataRegions(Path file, long size) {
        List<long[]> out = new ArrayList<>();
        int fd = LIBC.open(file.toString(), O_RDONLY);
        try {
            // each step moves past one region, so the loop ends within (regions + 1) steps
            for (long at = 0; at < size; ) {
                long data;
                try {
                    data = LIBC.lseek(fd, at, SEEK_DATA);
                } catch (LastErrorException e) {
                    break; // ENXIO: no data after `at`
                }
                long hole = LIBC.lseek(fd, data, SEEK_HOLE);
                out.add(new long[] {data, hole});
                at = hole;
            }
        } finally {
            LIBC.close(fd);
        }
        return out;
    }

    /** Adds [start, end) to a map of disjoint ranges (start to end), merging what overlaps or touches. */
    private static void add(TreeMap<Long, Long> ranges, long start, long end) {
        var before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (var next = ranges.ceilingEntry(start); next != null && next.getKey() <= end; next = ranges.ceilingEntry(start)) {
            end = Math.max(end, next.getValue());
            ranges.remove(next.getKey());
        }
        ranges.put(start, end);
    }

    private static void read(FileChannel ch, ByteBuffer buf, long at, int n) throws IOException {
        buf.clear().limit(n);
        while (buf.hasRemaining()) {
            if (ch.read(buf, at + buf.position()) < 0) {
                break; // past the end (the sizes are equal, so both stop at the same place)
            }
        }
        buf.flip();
    }
}
