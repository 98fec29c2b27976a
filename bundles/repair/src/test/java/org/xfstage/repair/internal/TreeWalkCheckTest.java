package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.repair.TreeWalkCheck;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * A strategy's check of the tree as the engine walks it (RepairStrategy#treeWalkCheck): it is told every directory
 * and entry of the engine's one tree walk, with the inode map already staged; its finish stands for its check, whose
 * own method is not called; it is closed once. One that throws from an event fails the run in one line naming it.
 */
class TreeWalkCheckTest {
    static XFileFactoryImpl xfiles;
    static XfArrayFactoryImpl arrays;

    @BeforeAll
    static void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 30, 1L << 31);
        arrays = new XfArrayFactoryImpl(xfiles);
    }

    @AfterAll
    static void stop() {
        arrays.deactivate();
        xfiles.deactivate();
    }

    /** Counts what the walk told it, and reports the counts as one finding; throws at entry {@code throwAt} (0: never). */
    private static final class Counting implements TreeWalkCheck {
        final AtomicInteger directories = new AtomicInteger();
        final AtomicInteger entries = new AtomicInteger();
        final AtomicInteger children = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final int throwAt;
        long inodeMapLength = -1;

        Counting(int throwAt) {
            this.throwAt = throwAt;
        }

        @Override
        public void directory(long ino, String path) {
            directories.incrementAndGet();
        }

        @Override
        public void entry(DirectoryEntry entry) {
            if (entries.incrementAndGet() == throwAt) {
                throw new IllegalStateException("broken on purpose");
            }
        }

        @Override
        public void problem(DirectoryProblem problem) {
        }

        @Override
        public void child(long ino, org.xfstage.api.device.FileType type) {
            children.incrementAndGet();
        }

        @Override
        public void finish(ScrubContext context, Consumer<Finding> findings) {
            findings.accept(new Finding("walked", -1, "tree", directories + " directories, " + entries + " entries", null));
        }

        @Override
        public void close() {
            closed.incrementAndGet();
        }
    }

    private static RepairEngineImpl engineWith(Counting check, AtomicInteger checkCalls) {
        RepairEngineImpl e = new RepairEngineImpl(new XfsDeviceServiceImpl(), arrays);
        e.addStrategy(new RepairStrategy() {
            @Override
            public Set<Observation> needs() {
                return Set.of(Observation.INODE_MAP);
            }

            @Override
            public TreeWalkCheck treeWalkCheck(ScrubContext ctx) {
                check.inodeMapLength = ctx.observation(Observation.INODE_MAP).length();
                return check;
            }

            @Override
            public void check(ScrubContext ctx, Consumer<Finding> findings) {
                checkCalls.incrementAndGet();
            }
        }, Map.of(RepairStrategy.STRUCTURE, "walked"));
        return e;
    }

    @Test
    void theCheckIsToldTheWalkAndItsFinishStandsForItsCheck() throws Exception {
        Counting check = new Counting(0);
        AtomicInteger checkCalls = new AtomicInteger();

        ScrubReport r = engineWith(check, checkCalls).scrub(CorpusImages.image("default"), ScrubOptions.all(), Progress.NONE);

        assertTrue(check.directories.get() > 1 && check.entries.get() > check.directories.get(), check.directories + " / " + check.entries);
        assertTrue(check.children.get() > 0);
        assertTrue(check.inodeMapLength > 0, "the inode map is staged before the tree walk");
        assertEquals(List.of(new Finding("walked", -1, "tree", check.directories + " directories, " + check.entries + " entries", null)),
                r.findings());
        assertEquals(0, checkCalls.get(), "its finish stands for its check");
        assertEquals(1, check.closed.get());
    }

    @Test
    void aCheckThatThrowsDuringTheWalkFailsTheRunNamingIt() throws Exception {
        Counting check = new Counting(3);
        AtomicInteger checkCalls = new AtomicInteger();

        RepairException x = assertThrows(RepairException.class,
                () -> engineWith(check, checkCalls).scrub(CorpusImages.image("default"), ScrubOptions.all(), Progress.NONE));

        assertTrue(x.getMessage().startsWith("strategy 'walked' from ") && x.getMessage().contains("broken on purpose"), x.getMessage());
        assertFalse(x.getMessage().contains("\n"), "one line");
        assertEquals(3, check.entries.get(), "no event after the one that threw");
        assertEquals(0, checkCalls.get());
        assertEquals(1, check.closed.get());
    }
}
