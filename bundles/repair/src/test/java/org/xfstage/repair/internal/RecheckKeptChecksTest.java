package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.repair.TreeWalkCheck;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;

/**
 * A repair's re-check reuses the first scrub's outcome of each check whose inputs it proves unchanged (KeptChecks): on
 * real images damaged with xfs_db -x, a directory rebuild's re-check runs again none of the checks that read neither
 * the directory's blocks nor an observation the rebuild changes, in --apply and in a dry run alike; a check that read a
 * block a plan writes runs again, and so does one whose observation the plans changed (the link counts, when the
 * rebuild drops an entry), and the repair still ends as xfs_repair -n wants it.
 */
class RecheckKeptChecksTest extends OracleEngine {

    /** A strategy as it is, its checks counted. */
    private static final class Counted implements RepairStrategy {
        final RepairStrategy real;
        final AtomicInteger checks = new AtomicInteger();

        Counted(RepairStrategy real) {
            this.real = real;
        }

        @Override
        public Set<Observation> needs() {
            return real.needs();
        }

        @Override
        public Set<Observation> planNeeds() {
            return real.planNeeds();
        }

        @Override
        public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
            checks.incrementAndGet();
            real.check(ctx, findings);
        }

        @Override
        public TreeWalkCheck treeWalkCheck(ScrubContext ctx) throws Exception {
            return real.treeWalkCheck(ctx);
        }

        @Override
        public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
            return real.plan(ctx, findings);
        }

        @Override
        public Set<String> after() {
            return real.after();
        }
    }

    /** A check that finds nothing: it reads what {@code reads} reads, and is counted. */
    private static Counted reading(Set<Observation> needs, CheckBody reads) {
        return new Counted(new RepairStrategy() {
            @Override
            public Set<Observation> needs() {
                return needs;
            }

            @Override
            public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
                reads.read(ctx);
            }
        });
    }

    private interface CheckBody {
        void read(ScrubContext ctx) throws Exception;
    }

    /** Every built-in strategy counted, by structure, and the engine they are registered with. */
    private record Engine(RepairEngineImpl engine, Map<String, Counted> counted) {
        Engine with(String structure, Counted c) {
            engine.addStrategy(c, Map.of(RepairStrategy.STRUCTURE, structure));
            counted.put(structure, c);
            return this;
        }

        /** The checks that ran more than once, by structure (with how often). */
        Map<String, Integer> ranAgain() {
            Map<String, Integer> out = new TreeMap<>();
            counted.forEach((k, v) -> {
                if (v.checks.get() > 1) {
                    out.put(k, v.checks.get());
                }
            });
            return out;
        }

        int ranOnce() {
            return (int) counted.values().stream().filter(c -> c.checks.get() == 1).count();
        }
    }

    private static Engine counting() {
        RepairEngineImpl e = new RepairEngineImpl(new XfsDeviceServiceImpl(), arrays, new XfBlobFactoryImpl(xfiles), xfiles);
        Engine out = new Engine(e, new LinkedHashMap<>());
        RepairOracleTest.builtIns().forEach((k, v) -> out.with(k, new Counted(v)));
        return out;
    }

    @Test
    void aDirectoryRebuildReCheckRunsAgainNoCheckOnlyTheTreeWalkOne() throws Exception {
        for (boolean apply : new boolean[] {false, true}) {
            Path img = damaged("hash-" + apply, leafHashOrder());
            Engine e = counting();
            RepairReport done = e.engine().repair(img, new RepairOptions(apply, apply ? dir.resolve("hash.undo") : null),
                    Progress.NONE);
            assertEquals(List.of(), done.unrepaired());
            // the directory check is told the re-check's own tree walk (never reused); every other ran once, in the
            // first scrub: the rebuild wrote only /leaf's blocks, which none of them read, and changed no observation
            assertEquals(Map.of(), e.ranAgain(), "apply " + apply);
            assertEquals(RepairOracleTest.builtIns().size() - 1, e.ranOnce(), "apply " + apply);
            if (apply) {
                assertTrue(done.applied() && done.after().clean(), "clean after repair: " + done.after().findings());
                assertEquals(RepairOracleTest.builtIns().size() - 1, done.after().figures().get("checks_reused"));
                var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
                assertEquals(0, check.getKey(), "xfs_repair -n after the repair:\n" + check.getValue());
            }
        }
    }

    @Test
    void aCheckThatReadABlockAPlanWritesRunsAgain() throws Exception {
        Path img = damaged("read-leaf", leafHashOrder());
        long leaf = RecheckReuseTest.inode(CorpusImages.image("default"), "/leaf");
        long root = RecheckReuseTest.inode(CorpusImages.image("default"), "/");
        Engine e = counting().with("reads-leaf", reading(Set.of(), ctx -> ctx.device().directory(leaf, quiet())))
                .with("reads-root", reading(Set.of(), ctx -> ctx.device().directory(root, quiet())));
        RepairReport done = e.engine().repair(img, new RepairOptions(true, dir.resolve("leaf.undo")), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), "clean after repair: " + done.after().findings());
        assertEquals(Map.of("reads-leaf", 2), e.ranAgain(), "only the check that read /leaf's blocks ran again");
        assertEquals(1, e.counted().get("reads-root").checks.get(), "the root's blocks are not /leaf's");
    }

    @Test
    void aStrategySwappedBetweenTheScrubsRunsItsCheck() throws Exception {
        Path img = damaged("swapped", leafHashOrder());
        Engine e = counting();
        Counted newer = new Counted(RepairOracleTest.builtIns().get("bnobt"));
        RepairStrategy directory = e.counted().get("directory");
        // the directory's plan, made between the first scrub and the re-check, registers another bnobt strategy
        e.engine().addStrategy(new DelegatingStrategy(directory) {
            @Override
            public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
                e.engine().addStrategy(newer, Map.of(RepairStrategy.STRUCTURE, "bnobt", Constants.SERVICE_RANKING, 10));
                return directory.plan(ctx, findings);
            }
        }, Map.of(RepairStrategy.STRUCTURE, "directory", Constants.SERVICE_RANKING, 10));
        RepairReport done = e.engine().repair(img, new RepairOptions(true, dir.resolve("swapped.undo")), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), "clean after repair: " + done.after().findings());
        assertEquals(1, e.counted().get("bnobt").checks.get(), "the first bnobt strategy checked the first scrub");
        assertEquals(1, newer.checks.get(), "the one that took its place checked the view: nothing of the first reused");
        assertEquals(RepairOracleTest.builtIns().size() - 2, done.after().figures().get("checks_reused"));
    }

    @Test
    void aCheckWhoseObservationChangedRunsAgain() throws Exception {
        // the links' check sums the link counts: a change to them is one to its input, whatever it reports
        long[] sums = new long[4];
        AtomicInteger at = new AtomicInteger();
        CheckBody sum = ctx -> {
            XfArray links = ctx.observation(Observation.LINK_COUNTS);
            LinkCountRecord r = new LinkCountRecord();
            long s = 0;
            for (long i = r.loadNext(links, 0); i >= 0; i = r.loadNext(links, i + 1)) {
                s = s * 31 + r.ino() * 7 + r.nlink() + r.kind().ordinal();
            }
            sums[Math.min(at.getAndIncrement(), sums.length - 1)] = s;
        };
        // the hash index's damage: the rebuild keeps every entry, the link counts are as they were
        Engine same = counting().with("reads-links", reading(Set.of(Observation.LINK_COUNTS), sum));
        Path img = damaged("links-same", leafHashOrder());
        same.engine().repair(img, new RepairOptions(true, dir.resolve("same.undo")), Progress.NONE);
        assertEquals(1, same.counted().get("reads-links").checks.get(), "the same link counts: reused");

        // an entry of /leaf that names /leaf itself: the rebuild drops it, and the link counts change
        at.set(0);
        Engine changed = counting().with("reads-links", reading(Set.of(Observation.LINK_COUNTS), sum));
        long leaf = RecheckReuseTest.inode(CorpusImages.image("default"), "/leaf");
        Path self = damaged("links-changed", List.of("path /leaf", "dblock 0", "write -d du[2].inumber " + leaf));
        RepairReport done = changed.engine().repair(self, new RepairOptions(true, dir.resolve("changed.undo")), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), "clean after repair: " + done.after().findings());
        assertTrue(changed.counted().get("reads-links").checks.get() >= 2, "the changed link counts read again: " + changed.ranAgain());
        assertNotEquals(sums[0], sums[1], "the link counts did change");
        assertTrue(changed.ranAgain().containsKey("nlinks"), "so did the link count check: " + changed.ranAgain());
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", self.toString()));
        assertEquals(0, check.getKey(), "xfs_repair -n after the repair:\n" + check.getValue());
    }

    /**
     * The re-check's space map is the view's metadata merged with the first scrub's file records: it is told to be the
     * first scrub's only when the merge gives that back record for record.
     */
    @Test
    void theMergedSpaceMapIsTheFirstOnlyWhenItIsRecordForRecord() throws Exception {
        SpaceMapRecord fileAt10 = new SpaceMapRecord().set(0, 10, 1, SpaceUse.FILE_DATA, 131);
        SpaceMapRecord bnobtAt5 = new SpaceMapRecord().set(0, 5, 1, SpaceUse.BNOBT, 0);
        SpaceMapRecord bnobtAt10 = new SpaceMapRecord().set(0, 10, 2, SpaceUse.BNOBT, 0);
        SpaceMapRecord cntbtAt5 = new SpaceMapRecord().set(0, 5, 1, SpaceUse.CNTBT, 0);
        // the same metadata: the same map
        assertTrue(merged(List.of(bnobtAt5), List.of(bnobtAt5, fileAt10)));
        // metadata moved, another kind, one more or one fewer: not
        assertFalse(merged(List.of(new SpaceMapRecord().set(0, 6, 1, SpaceUse.BNOBT, 0)), List.of(bnobtAt5, fileAt10)));
        assertFalse(merged(List.of(cntbtAt5), List.of(bnobtAt5, fileAt10)));
        assertFalse(merged(List.of(bnobtAt5, cntbtAt5), List.of(bnobtAt5, fileAt10)));
        assertFalse(merged(List.of(), List.of(bnobtAt5, fileAt10)));
        // a file's record sorted before metadata at the same block (shorter): the merge puts the metadata first
        assertFalse(merged(List.of(bnobtAt10), List.of(fileAt10, bnobtAt10)));
    }

    /** Whether the merge of {@code meta} with {@code first}'s file records is told to be {@code first}. */
    private static boolean merged(List<SpaceMapRecord> meta, List<SpaceMapRecord> first) throws Exception {
        try (XfArray m = arrays.create("meta", SpaceMapRecord.SIZE); XfArray f = arrays.create("first", SpaceMapRecord.SIZE);
                XfArray out = arrays.create("out", SpaceMapRecord.SIZE)) {
            for (SpaceMapRecord r : meta) {
                r.appendTo(m);
            }
            for (SpaceMapRecord r : first) {
                r.appendTo(f);
            }
            boolean told = KeptWalk.withInodeSpace(m, f, out);
            assertEquals(told, KeptChecks.equal(f, out), "told as a comparison record for record finds it");
            return told;
        }
    }

    private static DirectorySink quiet() {
        return new DirectorySink() {
            @Override
            public void entry(DirectoryEntry d) {
            }

            @Override
            public void problem(DirectoryProblem p) {
            }
        };
    }

    /** /leaf's hash index with a hash out of order: its rebuild writes its blocks, not its inode. */
    private static List<String> leafHashOrder() throws Exception {
        long blockSize;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(CorpusImages.image("default"), OpenOptions.readOnly())) {
            blockSize = d.info().blockSize();
        }
        return List.of("path /leaf", "dblock " + (1L << 35) / blockSize, "write -d lents[5].hashval 0");
    }

    private Path damaged(String name, List<String> commands) throws Exception {
        Path img = dir.resolve(name + ".img");
        SparseFiles.copy(CorpusImages.image("default"), img);
        CorpusImages.xfsDb(img, commands);
        return img;
    }
}
