package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.SalvagedEntry;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.strategies.namespace.DirectoryStrategy;
import org.xfstage.strategies.namespace.InodeStrategy;

/**
 * The re-check of plans that write only directories' data blocks reads the metadata and the directory tree again and
 * reuses the first scrub's inodes (PlannedSpace.Reach.DIRECTORIES): it still proves the view clean before anything is
 * written. A plan that leaves damage in a part it does not write (an inode's core, whose problems are reused) and one
 * that leaves its own directory damaged are both refused, on that reduced re-check, with nothing written.
 */
class RecheckReuseTest extends OracleEngine {

    /** The phases a run announced, in order. */
    private static final class Phases implements Progress {
        final List<String> seen = new ArrayList<>();

        @Override
        public synchronized void total(String phase, long units) {
            seen.add(phase);
        }

        @Override
        public void increment(long units) {
        }

        @Override
        public boolean isCancelled() {
            return false;
        }
    }

    @Test
    void aRebuiltDirectoryIsReCheckedWithoutReadingTheInodesAgain() throws Exception {
        Path img = damaged("hash", leafHashOrder());
        Phases phases = new Phases();
        RepairReport done = engine().repair(img, new RepairOptions(true, dir.resolve("hash.undo")), phases);
        assertTrue(done.applied() && done.after().clean(), "clean after repair: " + done.after().findings());
        assertTrue(phases.seen.contains("re-check walk"), "the re-check walked the metadata only: " + phases.seen);
        assertTrue(done.after().figures().get("inodes_reused") > 0, "inodes reused: " + done.after().figures());
        assertTrue(done.after().figures().containsKey("tree_walk_ms"), "the tree walked again: " + done.after().figures());
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), "xfs_repair -n after the repair:\n" + check.getValue());
    }

    /** An inode's core damaged besides the directory, and an inode strategy that plans to write nothing for it. */
    @Test
    void aPlanThatLeavesAnUnwrittenInodeDamagedIsRefused() throws Exception {
        List<String> commands = new ArrayList<>(leafHashOrder());
        commands.addAll(List.of("path /size-65553", "write -d core.extsize 16"));
        Path img = damaged("inode-left", commands);
        RepairEngineImpl e = engine();
        InodeStrategy real = new InodeStrategy();
        e.addStrategy(new RepairStrategy() {
            @Override
            public Set<Observation> needs() {
                return real.needs();
            }

            @Override
            public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
                real.check(ctx, findings);
            }

            @Override
            public Plan plan(ScrubContext ctx, List<Finding> findings) {
                return new Plan("inode", List.of(), List.of("nothing written"));
            }
        }, Map.of(RepairStrategy.STRUCTURE, "inode", Constants.SERVICE_RANKING, 10));
        refused(e, img, "inode-left", "would leave inode damaged");
    }

    /**
     * The hash index damaged, and a directory strategy that rebuilds the directory from its entries as read, one of
     * them given a wrong file type: the damage left is new (the first scrub's findings would not name it).
     */
    @Test
    void aPlanThatWritesItsDirectoryDamagedIsRefused() throws Exception {
        Path img = damaged("type-kept", leafHashOrder());
        long leaf = inode(CorpusImages.image("default"), "/leaf");
        RepairEngineImpl e = engine();
        DirectoryStrategy real = new DirectoryStrategy();
        e.addStrategy(new DelegatingStrategy(real) {
            @Override
            public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
                List<SalvagedEntry> entries = new ArrayList<>();
                long[] parent = {-1};
                ctx.device().directory(leaf, new DirectorySink() {
                    @Override
                    public void entry(DirectoryEntry d) {
                        if (d.isDotDot()) {
                            parent[0] = d.child();
                        } else if (!d.isDot()) {
                            // the plan's own damage: its first file said to be a FIFO
                            entries.add(new SalvagedEntry(d.name(), d.child(), entries.isEmpty() ? FileType.FIFO : d.type()));
                        }
                    }

                    @Override
                    public void problem(DirectoryProblem p) {
                    }
                });
                return new Plan("directory", ctx.device().rebuildDirectory(leaf, parent[0], entries.iterator()),
                        List.of("/leaf rebuilt with its entries as read"));
            }
        }, Map.of(RepairStrategy.STRUCTURE, "directory", Constants.SERVICE_RANKING, 10));
        String message = refused(e, img, "type-kept", "would leave directory damaged");
        assertTrue(message.contains("file type"), "the re-check read the directory as written: " + message);
    }

    /** The refusal's message. */
    private String refused(RepairEngineImpl e, Path img, String name, String left) throws Exception {
        String before = SparseFiles.digest(img);
        Path journal = dir.resolve(name + ".undo");
        Phases phases = new Phases();
        RepairException x = assertThrows(RepairException.class, () -> e.repair(img, new RepairOptions(true, journal), phases));
        assertTrue(x.getMessage().contains(left) && x.getMessage().endsWith("nothing was written"), x.getMessage());
        assertTrue(phases.seen.contains("re-check walk"), "refused on the re-check that reuses the inodes: " + phases.seen);
        assertFalse(phases.seen.subList(phases.seen.indexOf("re-check walk"), phases.seen.size()).contains("walk"),
                "no re-check read every inode: " + phases.seen);
        assertEquals(before, SparseFiles.digest(img), "nothing written");
        assertFalse(Files.exists(journal), "no journal either");
        return x.getMessage();
    }

    /** /leaf's hash index with a hash out of order: its rebuild writes its blocks, not its inode. */
    private static List<String> leafHashOrder() throws Exception {
        long blockSize;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(CorpusImages.image("default"), OpenOptions.readOnly())) {
            blockSize = d.info().blockSize();
        }
        return List.of("path /leaf", "dblock " + (1L << 35) / blockSize, "write -d lents[5].hashval 0");
    }

    private static RepairEngineImpl engine() {
        return RepairOracleTest.engineWithBuiltIns(xfiles, arrays);
    }

    /** The inode number at {@code path} of the image, from its manifest (RecheckKeptChecksTest uses it too). */
    static long inode(Path img, String path) throws Exception {
        List<ManifestEntry> all = new ArrayList<>();
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly())) {
            d.manifest(false, Progress.NONE, all::add);
        }
        return all.stream().filter(m -> m.path().equals(path)).findFirst().orElseThrow().inode();
    }

    private Path damaged(String name, List<String> commands) throws Exception {
        Path img = dir.resolve(name + ".img");
        SparseFiles.copy(CorpusImages.image("default"), img);
        CorpusImages.xfsDb(img, commands);
        return img;
    }
}
