package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;

/**
 * The directory tree walk read on a thread of its own (TreeWalkPipe): on real images, clean and damaged, the caller is
 * told exactly the events of the walk on one thread, with the progress and the cancellation checks in the same places;
 * a sink that throws, a cancellation and a failure on the reading thread end the walk on the caller's thread as on one
 * thread; no reading thread outlives a walk.
 */
class DirectoryTreePipeTest {
    @TempDir
    Path dir;

    /** Every event, progress step and cancellation check of a walk, as text, in order. */
    static final class Recording implements DirectorySink, Progress {
        final List<String> events = new ArrayList<>();
        /** Throws at this event (0: never). */
        int throwAt;
        /** Cancelled from this many directories done on (0: never). */
        int cancelAfter;
        int done;
        final RuntimeException thrown = new IllegalStateException("the sink fails");

        private void add(String e) {
            events.add(e);
            if (events.size() == throwAt) {
                throw thrown;
            }
        }

        @Override
        public void directory(long ino, String path, long nlink) {
            add("D " + ino + " " + path + " " + nlink);
        }

        @Override
        public void entry(DirectoryEntry e) {
            add("E " + e.directory() + " " + HexFormat.of().formatHex(e.name()) + " " + e.hash() + " " + e.child() + " "
                    + e.type() + " " + e.offset());
        }

        @Override
        public void problem(DirectoryProblem p) {
            add("P " + p);
        }

        @Override
        public void child(long ino, FileType type, long nlink) {
            add("C " + ino + " " + type + " " + nlink);
        }

        @Override
        public void total(String phase, long units) {
        }

        @Override
        public void increment(long units) {
            done++;
            events.add("+" + units);
        }

        @Override
        public boolean isCancelled() {
            events.add("?");
            return cancelAfter > 0 && done >= cancelAfter;
        }
    }

    static Recording walk(Path img, int threads) throws Exception {
        Recording r = new Recording();
        walk(img, threads, r);
        return r;
    }

    static void walk(Path img, int threads, Recording r) throws Exception {
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            fs.directoryTree(r, r, threads);
        }
    }

    @AfterEach
    void noReaderIsLeft() {
        // the walk joins its reader before it returns or throws: none may be alive after any test
        assertEquals(List.of(), readers());
    }

    static List<Thread> readers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("xfstage directory tree reader") && t.isAlive()).toList();
    }

    /** The most events told of one directory (from its D to the next). */
    static int largestDirectory(List<String> events) {
        int largest = 0;
        int at = 0;
        for (String e : events) {
            at = e.startsWith("D ") ? 0 : at + 1;
            largest = Math.max(largest, at);
        }
        return largest;
    }

    static Stream<String> geometries() {
        return Corpus.GEOMETRIES.keySet().stream();
    }

    /** Every form of directory on every geometry: the default one's /node (3,000 entries) is larger than a batch. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void twoThreadsTellTheEventsOfOne(String geometry) throws Exception {
        Path img = DeviceCorpusTest.image(geometry);
        Recording one = walk(img, 1);
        Recording two = walk(img, 2);
        assertTrue(largestDirectory(one.events) > TreeWalkPipe.BATCH, "a directory larger than a batch");
        assertEquals(one.events, two.events);
    }

    @Test
    void aDirectoryLargerThanABatchAndManyBatches() throws Exception {
        Path img = CorpusImages.manyInodes("default");
        Recording one = walk(img, 1);
        Recording two = walk(img, 2);
        long directories = one.events.stream().filter(e -> e.startsWith("D ")).count();
        assertTrue(directories >= 80 && one.events.size() > 50 * TreeWalkPipe.BATCH, one.events.size() + " events");
        assertEquals(one.events, two.events);
    }

    /** Damage of several kinds in one image: problems told where the walk on one thread tells them. */
    @Test
    void aDamagedTreeTellsTheSameProblemsInTheSamePlaces() throws Exception {
        Path img = dir.resolve("damaged.img");
        SparseFiles.copy(DeviceCorpusTest.image("default"), img);
        long sf;
        long block;
        long leaf;
        long node;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            sf = Corpus.lookup(fs, "/sf");
            block = Corpus.lookup(fs, "/block");
            leaf = Corpus.lookup(fs, "/leaf");
            node = Corpus.lookup(fs, "/node");
        }
        String out = CorpusImages.xfsDb(img, List.of(
                "inode " + sf, "write -d u3.sfdir3.hdr.parent.i4 0",
                "inode " + block, "dblock 0", "write -d bu[3].inumber 5",
                "inode " + leaf, "dblock 8388608", "write -d lents[100].address 0x12345",
                "inode " + node, "dblock 8388608", "write -d nbtree[3].hashval 0x7b9fb6e0",
                "inode " + node, "dblock 1", "write -d du[5].inumber " + (sf + 1000000)));
        assertFalse(out.contains("not found") || out.contains("parsing error") || out.contains("unable"), out);
        Recording one = walk(img, 1);
        Recording two = walk(img, 2);
        assertTrue(one.events.stream().filter(e -> e.startsWith("P ")).count() >= 4,
                one.events.stream().filter(e -> e.startsWith("P ")).toList().toString());
        assertEquals(one.events, two.events);
    }

    /** A subdirectory whose inode does not read: it is told as no inode in use and not followed, on either path. */
    @Test
    void anUnreadableSubdirectory() throws Exception {
        Path img = dir.resolve("unreadable.img");
        SparseFiles.copy(DeviceCorpusTest.image("default"), img);
        long leaf;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            leaf = Corpus.lookup(fs, "/leaf");
        }
        String out = CorpusImages.xfsDb(img, List.of("inode " + leaf, "write -d core.magic 0"));
        assertFalse(out.contains("not found") || out.contains("unable"), out);
        Recording one = walk(img, 1);
        Recording two = walk(img, 2);
        assertTrue(one.events.contains("C " + leaf + " null -1"), "the damage is read");
        assertEquals(one.events, two.events);
    }

    /** A sink that throws past the first batch: the same exception, after the same events, and the reader stopped. */
    @Test
    void aSinkThatThrowsEndsTheWalkOnTheCallersThread() throws Exception {
        Path img = DeviceCorpusTest.image("default");
        Recording one = new Recording();
        one.throwAt = 3 * TreeWalkPipe.BATCH + 7;
        assertSame(one.thrown, assertThrows(IllegalStateException.class, () -> walk(img, 1, one)));
        Recording two = new Recording();
        two.throwAt = one.throwAt;
        assertSame(two.thrown, assertThrows(IllegalStateException.class, () -> walk(img, 2, two)));
        assertEquals(one.events, two.events);
        assertEquals(one.throwAt, two.events.size(), "told up to the failing event, nothing after");
    }

    /** Cancelled mid-walk: CancelledException on the caller's thread at the same point of the walk. */
    @Test
    void cancellationMidWalk() throws Exception {
        Path img = DeviceCorpusTest.image("default");
        Recording one = new Recording();
        one.cancelAfter = 5;
        assertThrows(CancelledException.class, () -> walk(img, 1, one));
        Recording two = new Recording();
        two.cancelAfter = 5;
        assertThrows(CancelledException.class, () -> walk(img, 2, two));
        assertEquals(one.events, two.events);
        assertEquals(5, two.done);
        assertTrue(two.events.size() > 2 * TreeWalkPipe.BATCH, "cancelled past the first batches: " + two.events.size());
    }

    /** An interrupt of the caller does not end the walk (it never did), and is kept for the caller. */
    @Test
    void anInterruptedCallerGetsTheWholeWalkAndItsInterrupt() throws Exception {
        Path img = DeviceCorpusTest.image("default");
        Recording one = walk(img, 1);
        Recording two = new Recording();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Thread.currentThread().interrupt();
            try {
                fs.directoryTree(two, two, 2);
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt is the caller's still");
            }
        }
        assertEquals(one.events, two.events);
    }

    /**
     * What the reading thread throws is thrown on the caller's, after the events read before it; a reader that could
     * read on forever is stopped when the sink fails. The timeout guards against a hang, it measures nothing.
     */
    @Test
    @Timeout(120)
    void aFailureOnTheReadingThreadAndAReaderWithoutEnd() throws Exception {
        IllegalStateException bug = new IllegalStateException("a bug in the reader");
        int events = 5 * TreeWalkPipe.BATCH + 3;
        Recording r = new Recording();
        assertSame(bug, assertThrows(IllegalStateException.class, () -> new TreeWalkPipe((steps, sink) -> {
            for (int i = 0; i < events; i++) {
                sink.child(i, FileType.FILE, 1);
            }
            throw bug;
        }).walk(r, r)));
        assertEquals(events, r.events.size());
        assertEquals("C " + (events - 1) + " FILE 1", r.events.get(events - 1));

        Recording fails = new Recording();
        fails.throwAt = 2;
        assertSame(fails.thrown, assertThrows(IllegalStateException.class, () -> new TreeWalkPipe((steps, sink) -> {
            for (long i = 0;; i++) { // only the caller's stop ends it
                steps.next();
                sink.child(i, FileType.DIRECTORY, 2);
            }
        }).walk(fails, fails)));
        assertEquals(List.of("?", "C 0 DIRECTORY 2"), fails.events);
    }
}
