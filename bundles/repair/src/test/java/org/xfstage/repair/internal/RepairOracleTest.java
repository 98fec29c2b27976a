package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.device.internal.HaltingWrites;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.strategies.inodes.AgiStrategy;
import org.xfstage.strategies.inodes.FinobtStrategy;
import org.xfstage.strategies.inodes.InobtStrategy;
import org.xfstage.strategies.inodes.NlinkStrategy;
import org.xfstage.strategies.inodes.SbCountersStrategy;
import org.xfstage.strategies.namespace.BmapStrategy;
import org.xfstage.strategies.namespace.InodeStrategy;
import org.xfstage.strategies.namespace.SymlinkStrategy;
import org.xfstage.strategies.namespace.XattrStrategy;
import org.xfstage.strategies.namespace.DirectoryStrategy;
import org.xfstage.strategies.space.AgfStrategy;
import org.xfstage.strategies.space.AgflStrategy;
import org.xfstage.strategies.space.BnobtStrategy;
import org.xfstage.strategies.space.CntbtStrategy;
import org.xfstage.strategies.space.RefcountbtStrategy;
import org.xfstage.strategies.space.RmapbtStrategy;
import org.xfstage.strategies.space.SbPrimaryStrategy;
import org.xfstage.strategies.space.SbSecondaryStrategy;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The repair oracle: for each recipe in the strategies' scope, repair --apply leaves an image that xfs_repair -n
 * calls clean with every file unchanged, and undo gives back the damaged image bit for bit; out of scope, nothing
 * is written; a run killed while writing is undone exactly.
 */
class RepairOracleTest extends OracleEngine {



    static RepairEngineImpl engineWithBuiltIns(XFileFactoryImpl xfiles, XfArrayFactoryImpl arrays) {
        RepairEngineImpl e = new RepairEngineImpl(new XfsDeviceServiceImpl(), arrays, new XfBlobFactoryImpl(xfiles), xfiles);
        builtIns().forEach((k, v) -> e.addStrategy(v, Map.of(RepairStrategy.STRUCTURE, k)));
        return e;
    }

    /** The built-in strategies, new ones, by the structure each registers for. */
    static Map<String, RepairStrategy> builtIns() {
        return Map.ofEntries(Map.entry("bnobt", new BnobtStrategy()), Map.entry("cntbt", new CntbtStrategy()), Map.entry("agf", new AgfStrategy()), Map.entry("agfl", new AgflStrategy()), Map.entry("rmapbt", new RmapbtStrategy()), Map.entry("inobt", new InobtStrategy()), Map.entry("finobt", new FinobtStrategy()), Map.entry("agi", new AgiStrategy()), Map.entry("sb-counters", new SbCountersStrategy()), Map.entry("nlinks", new NlinkStrategy()), Map.entry("sb-secondary", new SbSecondaryStrategy()), Map.entry("sb-primary", new SbPrimaryStrategy()), Map.entry("refcountbt", new RefcountbtStrategy()),
                // bundles/strategies-namespace
                Map.entry("inode", new InodeStrategy()), Map.entry("bmap", new BmapStrategy()), Map.entry("symlink", new SymlinkStrategy()),
                Map.entry("xattr", new XattrStrategy()), Map.entry("directory", new DirectoryStrategy()));
    }


    static Stream<Arguments> inScope() {
        return Stream.of(
                Arguments.of("agf-longest", List.of("agf 1", "write -d longest 7")),
                Arguments.of("agf-btreeblks", List.of("agf 2", "write -d btreeblks 5")),
                Arguments.of("agi-count", List.of("agi 0", "write -d count 1024")),
                Arguments.of("agi-freecount", List.of("agi 1", "write -d freecount 3")),
                Arguments.of("agi-freecount-over-count", List.of("agi 2", "write -d freecount 99999")),
                Arguments.of("agf-longest-over-freeblks", List.of("agf 1", "write -d longest 999999")),
                Arguments.of("sb-icount", List.of("sb 0", "write -d icount 1")),
                Arguments.of("sb-ifree", List.of("sb 0", "write -d ifree 999")),
                Arguments.of("sb-fdblocks", List.of("sb 0", "write -d fdblocks 1000")),
                Arguments.of("agf-and-sb", List.of("agf 3", "write -d longest 9", "sb 0", "write -d fdblocks 77")),
                Arguments.of("bnobt-blockcount", List.of("agf 0", "addr bnoroot", "write -d recs[1].blockcount 3")),
                Arguments.of("bnobt-startblock", List.of("agf 1", "addr bnoroot", "write -d recs[1].startblock 99")),
                Arguments.of("bnobt-crc", List.of("agf 0", "addr bnoroot", "write -c recs[1].blockcount 3")),
                Arguments.of("cntbt-blockcount", List.of("agf 1", "addr cntroot", "write -d recs[1].blockcount 1")),
                Arguments.of("cntbt-startblock", List.of("agf 2", "addr cntroot", "write -d recs[1].startblock 77")),
                Arguments.of("sb-secondary-label", List.of("sb 2", "write -d fname \"xfstage\"")),
                Arguments.of("agf-refcntblocks", List.of("agf 0", "write -d refcntblocks 5")),
                Arguments.of("agfl-entry", List.of("agfl 0", "write -d bno[1] 3")),
                Arguments.of("agi-unlinked-garbage", List.of("agi 0", "write -d unlinked[3] 200")),
                Arguments.of("agfl-entry-in-use", List.of("agfl 0", "write -d bno[0] 562")),
                Arguments.of("agf-flcount", List.of("agf 1", "write -d flcount 2")),
                // AG headers that lie about their length are made new from the proof, as a bad magic (agf-flcount above
                // takes the same way for free list indexes that disagree)
                Arguments.of("agf-length", List.of("agf 3", "write -d length 32767")),
                Arguments.of("agi-length", List.of("agi 2", "write -d length 32767")),
                Arguments.of("inobt-freecount", List.of("agi 0", "addr root", "write -d recs[1].freecount 5")),
                Arguments.of("inobt-free-mask", List.of("agi 0", "addr root", "write -d recs[1].free 1")),
                Arguments.of("inobt-mask-and-finobt", List.of("agi 1", "addr root", "write -d recs[1].free 0", "agi 1",
                        "addr free_root", "write -d recs[1].freecount 7")),
                // the inode chunks themselves: the rebuild takes them from the inodes, not from the damaged tree
                Arguments.of("inobt-holemask", List.of("agi 0", "addr root", "write -d recs[2].holemask 0xff00")),
                Arguments.of("inobt-numrecs", List.of("agi 3", "addr root", "write -d numrecs 4")),
                Arguments.of("inobt-startino", List.of("agi 3", "addr root", "write -d recs[2].startino 384")),
                Arguments.of("finobt-freecount", List.of("agi 0", "addr free_root", "write -d recs[1].freecount 9")),
                Arguments.of("finobt-free-mask", List.of("agi 1", "addr free_root", "write -d recs[1].free 3")),
                Arguments.of("finobt-and-agi", List.of("agi 0", "addr free_root", "write -d recs[1].freecount 9", "agi 0",
                        "write -d freecount 2")),
                Arguments.of("refcount-count", List.of("agf 0", "addr refcntroot", "write -d recs[1].refcount 2")),
                Arguments.of("refcount-missing", List.of("agf 0", "addr refcntroot", "write -d numrecs 1")),
                Arguments.of("refcount-unshared", List.of("agf 0", "addr refcntroot", "write -d recs[2].startblock 1800")),
                Arguments.of("refcount-blockcount", List.of("agf 0", "addr refcntroot", "write -d recs[2].blockcount 6")),
                Arguments.of("refcount-crc", List.of("agf 0", "addr refcntroot", "write -c recs[1].refcount 9")),
                Arguments.of("file-nlink", List.of("path /size-1", "write -d core.nlinkv2 5")),
                Arguments.of("dir-nlink", List.of("path /deep/a", "write -d core.nlinkv2 9")),
                Arguments.of("bnobt-and-agi", List.of("agf 3", "addr bnoroot", "write -d recs[1].blockcount 1", "agi 2",
                        "write -d freecount 1")),
                // two plans change AG 0's AGF: the second is made on a view with the first in it
                Arguments.of("refcount-and-bnobt", List.of("agf 0", "addr refcntroot", "write -d recs[1].refcount 2", "agf 0",
                        "addr bnoroot", "write -d recs[1].blockcount 3")),
                // AG headers xfs_repair rebuilds in phase 5: made new from what the walk proved (an AGF with the free-space
                // trees and the AGFL, an AGI from the inodes), or pointed at the root the walk proved (block 5 of AG 1 is
                // an old refcountbt block on the default geometry, an old rmapbt block on the rmapbt one)
                Arguments.of("agf-magic", List.of("agf 1", "write -d magicnum 0")),
                Arguments.of("agf-crc", List.of("agf 2", "write -c freeblks 5")),
                Arguments.of("agi-magic", List.of("agi 1", "write -d magicnum 0")),
                Arguments.of("agi-crc", List.of("agi 3", "write -c freecount 1")),
                Arguments.of("agi-root-elsewhere", List.of("agi 1", "write -d root 5")),
                Arguments.of("agf-bnoroot-elsewhere", List.of("agf 1", "write -d bnoroot 5")),
                Arguments.of("agfl-magic", List.of("agfl 1", "write -d magicnum 0")),
                Arguments.of("agfl-seqno", List.of("agfl 1", "write -d seqno 3")),
                // AG 2 holds the log, which must not look free when its AGFL cannot be read
                Arguments.of("agfl-uuid", List.of("agfl 2", "write -d uuid 01234567-89ab-cdef-0123-456789abcdef")));
    }

    /** Every recipe on the default geometry and on the rmapbt one (where free space and the AGFL are the rmapbt's too). */
    static Stream<Arguments> inScopeOnTwoGeometries() {
        return Stream.of("default", "rmapbt").flatMap(g -> inScope().map(a -> Arguments.of(g, a.get()[0], a.get()[1])));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("inScopeOnTwoGeometries")
    void repairLeavesItCleanWithEveryFileIntactAndUndoRestoresTheDamage(String geometry, String recipe, List<String> commands)
            throws Exception {
        repairAndUndo(geometry, recipe, commands);
    }

    /**
     * The reverse mappings themselves, rebuilt from the space map and every inode's mappings: a wrong owner, a wrong
     * length, lost records, a checksum, a node's high key, and leaves of AG 0's two-level tree (three leaves under a
     * root, rebuilt into the same four blocks, found by their pointers when a walk cannot read them).
     */
    static Stream<Arguments> inScopeOnRmapbt() {
        return Stream.of(
                Arguments.of("rmapbt-owner", List.of("agf 1", "addr rmaproot", "write -d recs[3].owner 12345")),
                Arguments.of("rmapbt-blockcount", List.of("agf 2", "addr rmaproot", "write -d recs[6].blockcount 100")),
                Arguments.of("rmapbt-lost-records", List.of("agf 3", "addr rmaproot", "write -d numrecs 40")),
                Arguments.of("rmapbt-leaf-offset", List.of("agf 0", "addr rmaproot", "addr ptrs[2]", "write -d recs[9].offset 77")),
                Arguments.of("rmapbt-crc", List.of("agf 3", "addr rmaproot", "write -c recs[1].startblock 9")),
                Arguments.of("rmapbt-node-high-key", List.of("agf 0", "addr rmaproot", "write -d keys[2].startblock_hi 1300")),
                Arguments.of("rmapbt-leaf-crc", List.of("agf 0", "addr rmaproot", "addr ptrs[3]", "write -c recs[5].owner 4")),
                Arguments.of("rmapbt-and-agf", List.of("agf 1", "addr rmaproot", "write -d recs[3].owner 12345", "agf 1",
                        "write -d longest 7")),
                // inobtcount: the AGI's block counts set to what the trees hold (agi_fblocks the same way)
                Arguments.of("agi-iblocks", List.of("agi 0", "write -d ino_blocks 2")),
                Arguments.of("rmapbt-leaf-bmbt-flag", List.of("agf 0", "addr rmaproot", "addr ptrs[1]", "write -d recs[17].bmbtblock 0")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inScopeOnRmapbt")
    void rmapbtRepairLeavesItCleanWithEveryFileIntact(String recipe, List<String> commands) throws Exception {
        repairAndUndo("rmapbt", recipe, commands);
    }

    /**
     * Inode cores whose right values the inode proves (the inode strategy, issue 18), in two recipes of several fields
     * of several inodes each to keep the cost down. The counts and pointers: di_nblocks of an extents file, di_nextents
     * of the bmbt-format /fragmented, di_anextents and the attribute format of an inode without an attribute fork, an
     * unlinked pointer in an AG with no unlinked list, the obsolete di_onlink, a single-block directory's size (which
     * xfs_repair misses; the directory and the inode checks both report it, and the first plan sets it). The flags and hints: flags no kernel
     * allows here (realtime without a realtime device, a directory flag on a file, NEWRTBM on a file that is not the
     * bitmap, DAX and the CoW extent size flag on a fifo, whose zero hint is then valid again), a hint without its flag
     * (on the realtime-flagged file: the flag is cleared first, the hint is still bad), a file's flag on a directory,
     * which xfs_repair clears so that the hint is valid again, a CoW hint without its flag.
     */
    static Stream<Arguments> inodeCores() {
        List<Arguments> recipes = List.of(
                Arguments.of("inode-counts-pointers", List.of("path /size-1", "write -d core.nblocks 9", "write -d next_unlinked 200",
                        "path /fragmented", "write -d core.nextents 40", "path /tool", "write -d core.naextents 2",
                        "write -d core.aformat 1", "path /secret", "write -d core.onlink 3", "path /block", "write -d core.size 8192")),
                Arguments.of("inode-flags-hints", List.of("path /size-1", "write -d core.realtime 1", "write -d core.extsize 7",
                        "path /secret", "write -d core.rtinherit 1", "write -d v3.cowextsize 5", "path /tool", "write -d core.newrtbm 1",
                        "path /pipe", "write -d v3.dax 1", "write -d v3.cowextsz 1", "path /deep/a", "write -d core.extsz 1")));
        return Stream.of("default", "rmapbt", "b1024").flatMap(g -> recipes.stream().map(a -> Arguments.of(g, a.get()[0], a.get()[1])));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("inodeCores")
    void inodeCoreRepairSetsWhatTheInodeProves(String geometry, String recipe, List<String> commands) throws Exception {
        repairAndUndo(geometry, recipe, commands);
    }

    /**
     * Directories rebuilt from the entries the walk salvaged (issue 18), in each form the corpus has that is rebuilt in
     * place (short form, block, leaf), each kind of damage in its entries or indexes: a file type, a name with a '/'
     * (cut there, as the kernel's salvage cuts it: the file keeps the first part of its name), a ".." naming no inode,
     * a short-form count, i8count (its entries read with the width that tiles them) and size, a block's file type,
     * name, "..", hash order, stale count, free-region table and owner, a leaf's hash order, stale count, count, table
     * of each block's longest free region, a data block's file type and free-region table, a name and "..". "LEAF" is
     * the hash index block's file block, "D1" the second data block's (both depend on the block size).
     */
    static Stream<Arguments> directoryRebuilds() {
        String cut = "write -d %s \"entry-00001-with/a-longer-name\"";
        String name = "/entry-00001-with-a-longer-name ";
        String renamed = "/entry-00001-with ";
        List<Arguments> recipes = List.of(
                Arguments.of("sf-filetype", List.of("path /sf", "write -d u3.sfdir3.list[1].filetype 5"), Map.of()),
                Arguments.of("sf-name", List.of("path /sf", String.format(cut, "u3.sfdir3.list[1].name")),
                        // the short form's size is its entries' bytes: 14 fewer
                        Map.of("/sf" + name, "/sf" + renamed, "/sf DIRECTORY 493 120 ", "/sf DIRECTORY 493 106 ")),
                Arguments.of("sf-parent", List.of("path /sf", "write -d u3.sfdir3.hdr.parent.i4 0"), Map.of()),
                Arguments.of("sf-count", List.of("path /sf", "write -d u3.sfdir3.hdr.count 5"), Map.of()),
                Arguments.of("sf-i8count", List.of("path /sf", "write -d u3.sfdir3.hdr.i8count 1"), Map.of()),
                // a size past the entries the count names (one that cuts them is refused: see outOfScope)
                Arguments.of("sf-size", List.of("path /sf", "write -d core.size 200"), Map.of()),
                Arguments.of("block-filetype", List.of("path /block", "dblock 0", "write -d bu[3].filetype 5"), Map.of()),
                Arguments.of("block-name", List.of("path /block", "dblock 0", String.format(cut, "bu[3].name")), Map.of("/block" + name, "/block" + renamed)),
                Arguments.of("block-dotdot", List.of("path /block", "dblock 0", "write -d bu[1].inumber 0"), Map.of()),
                Arguments.of("block-hash-order", List.of("path /block", "dblock 0", "write -d bleaf[3].hashval 0xffffffff"), Map.of()),
                Arguments.of("block-stale-bestfree", List.of("path /block", "dblock 0", "write -d btail.stale 1",
                        "write -d bhdr.bestfree[0].length 0x100"), Map.of()),
                Arguments.of("block-owner-crc", List.of("path /block", "dblock 0", "write -c bhdr.hdr.owner 5"), Map.of()),
                Arguments.of("leaf-bests", List.of("path /leaf", "dblock LEAF", "write -d lbests[1] 0x100"), Map.of()),
                Arguments.of("leaf-hash-order-stale", List.of("path /leaf", "dblock LEAF", "write -d lents[5].hashval 0",
                        "write -d lhdr.stale 2"), Map.of()),
                Arguments.of("leaf-count", List.of("path /leaf", "dblock LEAF", "write -d lhdr.count 200"), Map.of()),
                Arguments.of("leaf-filetype-bestfree", List.of("path /leaf", "dblock D1", "write -d du[3].filetype 5",
                        "write -d dhdr.bestfree[0].length 8"), Map.of()),
                Arguments.of("leaf-name", List.of("path /leaf", "dblock 0", String.format(cut, "du[3].name")), Map.of("/leaf" + name, "/leaf" + renamed)),
                Arguments.of("leaf-dotdot", List.of("path /leaf", "dblock 0", "write -d du[1].inumber 0"), Map.of()));
        return Stream.of("default", "rmapbt", "b1024").flatMap(g -> recipes.stream().map(a -> Arguments.of(g, a.get()[0], a.get()[1],
                a.get()[2])));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("directoryRebuilds")
    void aDamagedDirectoryIsRebuiltFromItsEntries(String geometry, String recipe, List<String> commands, Map<String, String> renamed)
            throws Exception {
        long blockSize;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(base(geometry), OpenOptions.readOnly())) {
            blockSize = d.info().blockSize();
        }
        long leaf = (1L << 35) / blockSize;
        long d1 = 4096 / blockSize; // the corpus's directory blocks are 4 KiB
        List<String> placed = commands.stream().map(c -> c.equals("dblock LEAF") ? "dblock " + leaf : c.equals("dblock D1") ? "dblock " + d1 : c)
                .toList();
        repairAndUndo(geometry, recipe, placed, line -> {
            for (Map.Entry<String, String> e : renamed.entrySet()) {
                if (line.startsWith(e.getKey())) {
                    return e.getValue() + line.substring(e.getKey().length());
                }
            }
            return line;
        });
    }

    /**
     * Files a damaged directory no longer names, named by the rebuild in lost+found by their inode number (issue 18),
     * on "lf-G": corpus image G with a /lost+found (see {@link #base}). An entry naming no inode or a free one (the file
     * it named before is disconnected), a name held twice (the second is dropped: the file it named is disconnected); in
     * each form; a subdirectory no entry names, moved with what it holds. "FREE" is a free inode of /sf's chunk. On the
     * corpus images themselves (no lost+found: mkfs.xfs -p makes none) the same recipes make /lost+found as xfs_repair
     * makes it (a free inode made a directory of mode 0755, named in the root, whose link count gains one), and the
     * inode btrees, AGI and superblock counters the new inode changes are planned in the next round.
     */
    static Stream<Arguments> lostFoundRecipes() {
        List<Arguments> recipes = List.of(
                Arguments.of("sf-entry-no-inode", List.of("path /sf", "write -d u3.sfdir3.list[1].inumber.i4 4000000000"),
                        "/sf/entry-00001-with-a-longer-name"),
                Arguments.of("block-entry-no-inode", List.of("path /block", "dblock 0", "write -d bu[3].inumber 4000000000"),
                        "/block/entry-00001-with-a-longer-name"),
                Arguments.of("block-duplicate", List.of("path /block", "dblock 0", "write -d bu[3].name \"entry-00000-with-a-longer-name\""),
                        "/block/entry-00001-with-a-longer-name"),
                Arguments.of("leaf-entry-free-inode", List.of("path /leaf", "dblock 0", "write -d du[3].inumber FREE"),
                        "/leaf/entry-00001-with-a-longer-name"),
                Arguments.of("leaf-duplicate", List.of("path /leaf", "dblock 0", "write -d du[3].name \"entry-00000-with-a-longer-name\""),
                        "/leaf/entry-00001-with-a-longer-name"),
                // a subdirectory: it moves with what it holds, its .. set to lost+found
                Arguments.of("sf-subdirectory-no-inode", List.of("path /deep", "write -d u3.sfdir3.list[0].inumber.i4 4000000000"),
                        "/deep/a"));
        return Stream.of("lf-default", "lf-rmapbt", "lf-b1024", "default", "rmapbt", "b1024").flatMap(g -> recipes.stream()
                .map(a -> Arguments.of(g, a.get()[0], a.get()[1], a.get()[2])));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("lostFoundRecipes")
    void aFileNoDirectoryNamesIsNamedInLostFound(String geometry, String recipe, List<String> commands, String lost) throws Exception {
        List<org.xfstage.api.device.ManifestEntry> all = new ArrayList<>();
        org.xfstage.api.device.InodeProbe probe;
        long free;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(base(geometry), OpenOptions.readOnly())) {
            d.manifest(false, Progress.NONE, all::add);
            free = all.stream().filter(e -> e.path().equals("/sf")).findFirst().orElseThrow().inode() + 9;
            probe = d.probeInode(free);
        }
        assertEquals(org.xfstage.api.device.InodeProbe.FREE, probe, "inode " + free + " is free");
        long orphan = all.stream().filter(e -> e.path().equals(lost)).findFirst().orElseThrow().inode();
        List<String> placed = commands.stream().map(c -> c.replace("FREE", Long.toString(free))).toList();
        Path img = damagedCopy(geometry + "-" + recipe, placed, geometry);
        // directories' sizes change with their entries (short form, lost+found): files are compared, with the lost one moved
        java.util.function.UnaryOperator<String> sizeless = line -> line.replaceFirst("^(\\S+ DIRECTORY \\d+) \\d+ ", "$1 _ ");
        String moved = "/lost+found/" + orphan;
        boolean made = !geometry.startsWith("lf-");
        List<String> before = manifest(base(geometry));
        assertEquals(!made, before.stream().anyMatch(l -> l.startsWith("/lost+found ")), geometry + ": lost+found " + (made ? "missing" : "there"));
        List<String> expected = new ArrayList<>(before.stream().map(l -> l.startsWith(lost + " ") || l.startsWith(lost + "/")
                ? moved + l.substring(lost.length()) : l).map(sizeless).toList());
        String damaged = sha256(img);
        RepairReport dry = engine.repair(img, new RepairOptions(false, null), Progress.NONE);
        assertTrue(dry.unrepaired().isEmpty(), recipe + ": every finding has a plan: " + dry);
        Path journal = dir.resolve(geometry + "-" + recipe + ".undo");
        RepairReport done = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), recipe + ": clean after repair: " + done.after().findings());
        assertEquals(planLines(done), planLines(dry), recipe + ": the dry run showed every round's plans, as --apply wrote them");
        var repair = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, repair.getKey(), recipe + ": xfs_repair -n after our repair:\n" + repair.getValue());
        List<String> after = manifest(img).stream().map(sizeless).toList();
        if (made) {
            // the new directory: mode 0755 (493), listed as the manifest lists any directory
            List<String> lf = after.stream().filter(l -> l.startsWith("/lost+found ")).toList();
            assertEquals(1, lf.size(), recipe + ": /lost+found made: " + lf);
            assertTrue(lf.get(0).startsWith("/lost+found DIRECTORY 493 _ "), lf.get(0));
            expected.add(lf.get(0));
        }
        assertEquals(expected.stream().sorted().toList(), after.stream().sorted().toList(), recipe + ": every file kept, " + lost
                + " as lost+found/" + orphan);
        List<String> changes = done.plans().stream().flatMap(p -> p.changes().stream()).toList();
        if (made) {
            assertTrue(changes.stream().anyMatch(c -> c.contains("made /lost+found")), changes.toString());
            // the new inode is in use: the inode btrees' free masks and the counters follow in a later round
            assertTrue(done.plans().stream().anyMatch(p -> p.structure().equals("inobt")), "inobt planned: " + changes);
        }
        assertTrue(changes.stream().anyMatch(c -> c.contains("inode " + orphan + " (disconnected) named lost+found/" + orphan)), changes.toString());
        System.out.printf("REPAIR %-10s %-22s repaired: %s%n", geometry, recipe, changes);
        assertEquals(done.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, sha256(img), recipe + ": undo restores the damaged image bit for bit");
    }

    /**
     * A short-form directory's size that cuts its entries: the entries past it are not read, so the files they named
     * are disconnected and go to lost+found (made, since the corpus images have none), each as lost+found/INO, as
     * xfs_repair moves them. Every file the damage did not touch keeps its path and content.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"default", "rmapbt", "b1024"})
    void aShortFormSizeThatCutsItsEntriesSendsTheRestToANewLostFound(String geometry) throws Exception {
        List<org.xfstage.api.device.ManifestEntry> all = new ArrayList<>();
        try (XfsDevice d = new XfsDeviceServiceImpl().open(base(geometry), OpenOptions.readOnly())) {
            d.manifest(false, Progress.NONE, all::add);
        }
        Path img = damagedCopy(geometry + "-sf-size-cut", List.of("path /sf", "write -d core.size 60"), geometry);
        String damaged = sha256(img);
        Path journal = dir.resolve(geometry + "-sf-size-cut.undo");
        RepairReport done = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), "clean after repair: " + done.after().findings());
        var repair = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, repair.getKey(), "xfs_repair -n after our repair:\n" + repair.getValue());
        java.util.function.UnaryOperator<String> sizeless = line -> line.replaceFirst("^(\\S+ DIRECTORY \\d+) \\d+ ", "$1 _ ");
        List<String> after = manifest(img).stream().map(sizeless).toList();
        java.util.Set<String> paths = after.stream().map(l -> l.substring(0, l.indexOf(' '))).collect(java.util.stream.Collectors.toSet());
        // the files of /sf the cut hid, by inode: each must be lost+found/INO now
        Map<String, Long> hidden = new java.util.TreeMap<>();
        all.stream().filter(e -> e.path().startsWith("/sf/") && !paths.contains(e.path())).forEach(e -> hidden.put(e.path(), e.inode()));
        assertFalse(hidden.isEmpty(), "the cut hides files of /sf");
        List<String> expected = new ArrayList<>(manifest(base(geometry)).stream().map(l -> {
            String path = l.substring(0, l.indexOf(' '));
            return hidden.containsKey(path) ? "/lost+found/" + hidden.get(path) + l.substring(path.length()) : l;
        }).map(sizeless).toList());
        List<String> lf = after.stream().filter(l -> l.startsWith("/lost+found ")).toList();
        assertEquals(1, lf.size(), "/lost+found made: " + lf);
        assertTrue(lf.get(0).startsWith("/lost+found DIRECTORY 493 _ "), lf.get(0));
        expected.add(lf.get(0));
        assertEquals(expected.stream().sorted().toList(), after.stream().sorted().toList(), "every file kept, " + hidden + " in lost+found");
        List<String> changes = done.plans().stream().flatMap(p -> p.changes().stream()).toList();
        System.out.printf("REPAIR %-10s %-22s repaired: %s%n", geometry, "sf-size-cut", changes);
        assertEquals(done.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, sha256(img), "undo restores the damaged image bit for bit");
    }

    /**
     * The superblocks (ScrubOracleTest.superblockRecipes): a primary that fails a check or is outvoted by its copies
     * is rewritten from the agreed copy, the copies are left alone; a copy that disagrees is rewritten from the
     * primary. xfs_repair -n is clean after either, and undo gives the damaged image back.
     */
    static Stream<Arguments> superblocks() {
        return Stream.concat(ScrubOracleTest.superblockRecipes(),
                Stream.of(Arguments.of("sb-primary-label", List.of("sb 0", "write -d fname \"xfstage\""))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("superblocks")
    void superblockRepairLeavesItCleanAndNeverCopiesADamagedPrimary(String recipe, List<String> commands) throws Exception {
        repairAndUndo("default", recipe, commands);
        Path img = dir.resolve("default-" + recipe + ".img");
        if (recipe.startsWith("sb-primary")) {
            // repaired, then undone: repair the damaged image again to look at the copies it leaves
            List<byte[]> before = copies(img);
            engine.repair(img, new RepairOptions(true, dir.resolve("copies-" + recipe + ".undo")), Progress.NONE);
            List<byte[]> after = copies(img);
            for (int agno = 1; agno < after.size(); agno++) {
                assertTrue(java.util.Arrays.equals(before.get(agno), after.get(agno)), recipe + ": the copy of AG " + agno + " is left alone");
            }
        }
    }

    /** The superblock sectors of every AG. */
    private static List<byte[]> copies(Path img) throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly());
                java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(img)) {
            var info = d.info();
            for (int agno = 0; agno < info.agCount(); agno++) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(info.sectorSize());
                ch.read(b, (long) agno * info.agBlocks() * info.blockSize());
                out.add(b.array());
            }
        }
        return out;
    }

    /**
     * The inode chunks on a real sparse chunk (see {@link #base}): a holemask that claims the hole (the record's count
     * no longer agrees), the holes swapped (the record agrees with itself, but the directory tree names inodes in what
     * it calls a hole), and the record lost with the tree's only record; each time the rebuild must give the chunk
     * back its hole (the hole's blocks are free and hold the stale inodes the unit had) and keep the live half.
     */
    static Stream<Arguments> onARealSparseChunk() {
        List<Arguments> recipes = List.of(
                Arguments.of("sparse-holemask-cleared", List.of("agi 1", "addr root", "write -d recs[1].holemask 0")),
                Arguments.of("sparse-holemask-swapped", List.of("agi 1", "addr root", "write -d recs[1].holemask 0xff")),
                Arguments.of("sparse-record-lost", List.of("agi 1", "addr root", "write -d numrecs 0")));
        return Stream.of("sparse-default", "sparse-rmapbt").flatMap(g -> recipes.stream().map(a -> Arguments.of(g, a.get()[0], a.get()[1])));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("onARealSparseChunk")
    void aSparseChunkGetsBackTheHolesItsInodesShow(String geometry, String recipe, List<String> commands) throws Exception {
        repairAndUndo(geometry, recipe, commands);
    }

    // ---- allocation for any rebuild (issue 18): trees that need another number of blocks, planned again in rounds

    /**
     * Trees that need other blocks than they have: the inobt of the 80,000-inode image ("many": each AG's inobt a root
     * over two leaves) with its root cut to one leaf (the rebuild needs a block more than the pointers reach) or its
     * second leaf pointer broken (the tree cannot be walked: all of it goes into new blocks), rebuilt from the inodes;
     * the engine's allocation gives the blocks, and the next rounds rebuild the free-space btrees, the AGF and the
     * superblock counters for them (and for the old blocks given back).
     */
    static Stream<Arguments> allocating() {
        List<Arguments> out = new ArrayList<>();
        for (String g : List.of("default", "rmapbt", "b1024")) {
            out.add(Arguments.of("many-" + g, "inobt-root-numrecs", List.of("agi 1", "addr root", "write -d numrecs 1")));
            out.add(Arguments.of("many-" + g, "inobt-leaf-pointer", List.of("agi 3", "addr root", "write -d ptrs[2] 0")));
        }
        // a startino moved past the next record's: the inobt cannot be walked (keys out of order) where the records
        // are in one leaf of small blocks or big inodes; the rebuild takes the chunks from the inodes (out of scope before)
        for (String g : List.of("b1024", "i1024")) {
            out.add(Arguments.of(g, "inobt-startino-unreadable", List.of("agi 3", "addr root", "write -d recs[2].startino 384")));
        }
        // an rmapbt leaf lost behind a node pointer (the tree goes into new blocks, its old ones are given back), and an
        // AGF that does not decode with its bnobt root damaged too: on the rmapbt geometry the new free-space trees take
        // more blocks than the old ones' pointers reach, and the rmapbt is rebuilt for them (both out of scope before)
        out.add(Arguments.of("rmapbt", "rmapbt-leaf-pointer", List.of("agf 0", "addr rmaproot", "write -d ptrs[2] 0")));
        for (String g : List.of("default", "rmapbt", "b1024")) {
            out.add(Arguments.of(g, "agf-and-bnobt-magic", List.of("agf 1", "addr bnoroot", "write -d magic 0", "agf 1",
                    "write -d magicnum 0")));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("allocating")
    void aTreeThatNeedsOtherBlocksTakesThemAndFreeSpaceFollows(String geometry, String recipe, List<String> commands) throws Exception {
        repairAndUndo(geometry, recipe, commands);
    }

    /**
     * The rounds of plans are bounded: a strategy whose plan never settles (this agf strategy always finds AG 1's AGF
     * wrong and always plans another agf_longest) is planned again on each re-check's view until the bound, then the
     * repair is refused, saying so, and nothing is written, not even a journal.
     */
    @Test
    void plansThatNeverSettleAreRefusedAfterTheLastRound() throws Exception {
        RepairEngineImpl e = engineWithBuiltIns(xfiles, arrays);
        int[] planned = {0};
        e.addStrategy(new RepairStrategy() {
            @Override
            public java.util.Set<org.xfstage.api.repair.Observation> needs() {
                return java.util.Set.of();
            }

            @Override
            public void check(org.xfstage.api.repair.ScrubContext ctx, java.util.function.Consumer<org.xfstage.api.repair.Finding> f) {
                f.accept(new org.xfstage.api.repair.Finding("agf", 1, "AGF", "never right", null));
            }

            @Override
            public org.xfstage.api.repair.Plan plan(org.xfstage.api.repair.ScrubContext ctx, List<org.xfstage.api.repair.Finding> f)
                    throws Exception {
                planned[0]++;
                return new org.xfstage.api.repair.Plan("agf", List.of(ctx.device().updateHeader(org.xfstage.api.device.HeaderKind.AGF, 1,
                        Map.of(org.xfstage.api.device.HeaderField.AGF_LONGEST, (long) planned[0]))), List.of("agf_longest " + planned[0]));
            }
        }, Map.of(RepairStrategy.STRUCTURE, "agf", org.osgi.framework.Constants.SERVICE_RANKING, 10));
        Path img = damagedCopy("restless", List.of("agf 1", "write -d longest 7"));
        String damaged = sha256(img);
        Path journal = dir.resolve("restless.undo");
        RepairException x = org.junit.jupiter.api.Assertions.assertThrows(RepairException.class,
                () -> e.repair(img, new RepairOptions(true, journal), Progress.NONE));
        assertTrue(x.getMessage().contains("after " + Recheck.MAX_ROUNDS + " rounds of plans") && x.getMessage().endsWith("nothing was written"),
                x.getMessage());
        assertEquals(Recheck.MAX_ROUNDS, planned[0], "planned once a round");
        assertEquals(damaged, sha256(img));
        assertFalse(Files.exists(journal), "no journal either");
    }

    // ---- end of allocation

    private void repairAndUndo(String geometry, String recipe, List<String> commands) throws Exception {
        repairAndUndo(geometry, recipe, commands, line -> line);
    }

    /** {@code expected}: how a line of the manifest before the damage reads after the repair (a file renamed). */
    private void repairAndUndo(String geometry, String recipe, List<String> commands, java.util.function.UnaryOperator<String> expected)
            throws Exception {
        Path img = damagedCopy(geometry + "-" + recipe, commands, geometry);
        List<String> manifestBefore = manifest(base(geometry)).stream().map(expected).toList();
        long icountBefore = icount(base(geometry));
        String damaged = sha256(img);

        RepairReport dry = engine.repair(img, new RepairOptions(false, null), Progress.NONE);
        assertFalse(dry.before().clean(), recipe + " is damage");
        assertTrue(dry.unrepaired().isEmpty(), recipe + ": every finding has a plan: " + dry);
        assertFalse(dry.applied());
        assertEquals(damaged, sha256(img), "a dry run writes nothing");

        Path journal = dir.resolve(geometry + "-" + recipe + ".undo");
        RepairReport done = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), recipe + ": clean after repair: " + done.after().findings());
        assertEquals(planLines(done), planLines(dry), recipe + ": the dry run showed every round's plans, as --apply wrote them");
        var repair = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, repair.getKey(), recipe + ": xfs_repair -n after our repair:\n" + repair.getValue());
        assertEquals(manifestBefore, manifest(img), recipe + ": no file lost or changed");
        assertEquals(icountBefore, icount(img), recipe + ": sb_icount as before the damage (no inode chunk lost or made up)");
        System.out.printf("REPAIR %-8s %-22s repaired: %s%n", geometry, recipe, done.plans().stream().flatMap(p -> p.changes().stream()).toList());

        assertEquals(done.plans().stream().mapToInt(p -> p.blocks().size()).sum(), engine.undo(journal, img));
        assertEquals(damaged, sha256(img), recipe + ": undo restores the damaged image bit for bit");
    }

    /**
     * The repair matrix: seven representative recipes on every geometry; with {@code -Dxfstage.matrix=full}, every
     * recipe of this class on every geometry (a recipe that is no damage on a geometry, such as a refcountbt record
     * where there is no refcountbt, is not applicable there and skipped; a finding no strategy repairs is out of
     * scope and skipped; anything else must be repaired).
     */
    static Stream<Arguments> matrix() {
        Map<String, List<String>> recipes = new java.util.LinkedHashMap<>();
        if ("full".equals(System.getProperty("xfstage.matrix"))) {
            Stream.of(inScope(), inScopeOnRmapbt(), superblocks()).flatMap(x -> x).forEach(a -> {
                @SuppressWarnings("unchecked")
                List<String> commands = (List<String>) a.get()[1];
                recipes.put((String) a.get()[0], commands);
            });
        } else {
            recipes.put("agf-longest", List.of("agf 1", "write -d longest 7"));
            recipes.put("agi-freecount", List.of("agi 1", "write -d freecount 3"));
            recipes.put("sb-fdblocks", List.of("sb 0", "write -d fdblocks 1000"));
            recipes.put("bnobt-blockcount", List.of("agf 0", "addr bnoroot", "write -d recs[1].blockcount 3"));
            recipes.put("cntbt-startblock", List.of("agf 2", "addr cntroot", "write -d recs[1].startblock 77"));
            recipes.put("file-nlink", List.of("path /size-1", "write -d core.nlinkv2 5"));
            recipes.put("inobt-free-mask", List.of("agi 0", "addr root", "write -d recs[1].free 1"));
        }
        List<Arguments> out = new ArrayList<>();
        for (String g : CorpusImages.geometries()) {
            recipes.forEach((name, commands) -> out.add(Arguments.of(g, name, commands)));
        }
        return out.stream();
    }

    private static final Map<String, List<String>> MANIFESTS = new java.util.concurrent.ConcurrentHashMap<>();

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("matrix")
    void repairMatrixOverEveryGeometry(String geometry, String recipe, List<String> commands) throws Exception {
        String needs = recipe.startsWith("rmapbt") ? "rmapbt" : recipe.startsWith("refcount") ? "reflink"
                : recipe.startsWith("finobt") ? "finobt" : null;
        if (needs != null && !features(geometry).contains(needs)) {
            // xfs_db would write the record fields into whatever block it is at: other damage, not this recipe
            matrixSkip(geometry, recipe, "not applicable (no " + needs + " on this geometry)");
        }
        Path img;
        try {
            img = damagedCopy(geometry + "-" + recipe, commands, geometry);
        } catch (AssertionError | Exception e) {
            matrixSkip(geometry, recipe, "not applicable (xfs_db cannot apply it here: "
                    + String.valueOf(e.getMessage()).lines().reduce((x, y) -> y).orElse(e.toString()) + ")");
            return;
        }
        if (CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString())).getKey() == 0
                && engine.scrub(img, org.xfstage.api.repair.ScrubOptions.all(), Progress.NONE).clean()) {
            matrixSkip(geometry, recipe, "not applicable (no damage on this geometry, for xfs_repair -n and for us)");
        }
        String damaged = sha256(img);
        Path journal = dir.resolve(geometry + "-" + recipe + ".undo");
        RepairReport r = engine.repair(img, new RepairOptions(true, journal), Progress.NONE);
        if (!r.unrepaired().isEmpty()) {
            matrixSkip(geometry, recipe, "out of scope: " + r.unrepaired());
        }
        assertTrue(r.applied() && r.after().clean(), geometry + " " + recipe + ": " + r.unrepaired() + " "
                + (r.after() == null ? "" : r.after().findings()));
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertEquals(0, check.getKey(), geometry + " " + recipe + ":\n" + check.getValue());
        List<String> before = MANIFESTS.computeIfAbsent(geometry, g -> {
            try {
                return manifest(CorpusImages.image(g));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(before, manifest(img), geometry + " " + recipe + ": no file lost or changed");
        engine.undo(journal, img);
        assertEquals(damaged, sha256(img));
        System.out.printf("MATRIX %-20s %-24s repaired%n", geometry, recipe);
    }

    /** Shared fixtures made once per run (the sparse images). */
    @TempDir
    static Path fixtures;
    private static final Map<String, Path> SPARSE = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The image a geometry's recipes start from: the corpus image, or for "sparse-G" corpus image G with a real sparse
     * inode chunk. mkfs.xfs -p makes none, so AG 1's only chunk (inodes 128-132 in use, the rest free) is made one: its
     * inobt and finobt records and its AGI say that the upper 32 inodes are a hole, and a full xfs_repair gives the
     * hole's blocks back to free space (and the rmapbt) and sets the counters. The hole's blocks keep the free inodes
     * they held, as a hole of a real filesystem keeps what its blocks held.
     */
    static Path base(String geometry) throws Exception {
        if (geometry.startsWith("lf-")) {
            return withLostFound(geometry);
        }
        if (geometry.startsWith("many-")) {
            return CorpusImages.manyInodes(geometry.substring("many-".length()));
        }
        if (!geometry.startsWith("sparse-")) {
            return CorpusImages.image(geometry);
        }
        synchronized (SPARSE) {
            Path made = SPARSE.get(geometry);
            if (made != null) {
                return made;
            }
            Path img = fixtures.resolve(geometry + ".img");
            SparseFiles.copy(CorpusImages.image(geometry.substring("sparse-".length())), img);
            List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db"), "-x"));
            for (String c : List.of("agi 1", "addr root", "write -d recs[1].holemask 0xff00", "write -d recs[1].count 32",
                    "write -d recs[1].freecount 27", "agi 1", "addr free_root", "write -d recs[1].holemask 0xff00",
                    "write -d recs[1].count 32", "write -d recs[1].freecount 27", "agi 1", "write -d count 32", "write -d freecount 27")) {
                cmd.add("-c");
                cmd.add(c);
            }
            cmd.add(img.toString());
            CorpusImages.run(cmd);
            var repaired = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), img.toString()));
            assertEquals(0, repaired.getKey(), "xfs_repair makes the sparse fixture consistent:\n" + repaired.getValue());
            var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
            assertEquals(0, check.getKey(), "the sparse fixture is clean:\n" + check.getValue());
            String rec = CorpusImages.run(List.of(CorpusImages.tool("xfs_db"), "-r", "-c", "agi 1", "-c", "addr root", "-c", "print recs",
                    img.toString()));
            assertTrue(rec.contains("[128,0xff00,32,27,"), "AG 1 holds a sparse chunk: " + rec);
            SPARSE.put(geometry, img);
            return img;
        }
    }

    /**
     * Corpus image G with a /lost+found holding one file: mkfs.xfs -p makes none, and xfs_repair makes one only to put
     * a file in, so /sf's last entry is pointed at no inode and xfs_repair moves its file there (lost+found/INO).
     */
    private static Path withLostFound(String geometry) throws Exception {
        synchronized (SPARSE) {
            Path made = SPARSE.get(geometry);
            if (made != null) {
                return made;
            }
            Path img = fixtures.resolve(geometry + ".img");
            SparseFiles.copy(CorpusImages.image(geometry.substring("lf-".length())), img);
            CorpusImages.run(List.of(CorpusImages.tool("xfs_db"), "-x", "-c", "path /sf", "-c", "write -d u3.sfdir3.list[2].inumber.i4 4000000000",
                    img.toString()));
            var repaired = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), img.toString()));
            assertEquals(0, repaired.getKey(), "xfs_repair makes the lost+found fixture:\n" + repaired.getValue());
            var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
            assertEquals(0, check.getKey(), "the lost+found fixture is clean:\n" + check.getValue());
            SPARSE.put(geometry, img);
            return img;
        }
    }

    private static long icount(Path img) throws Exception {
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly())) {
            return d.info().icount();
        }
    }

    private static List<String> features(String geometry) throws Exception {
        try (XfsDevice d = new XfsDeviceServiceImpl().open(CorpusImages.image(geometry), OpenOptions.readOnly())) {
            return d.info().features();
        }
    }

    /** In the full matrix, a recipe that does not apply or is out of scope is skipped; in the default one it fails. */
    private static void matrixSkip(String geometry, String recipe, String why) {
        System.out.printf("MATRIX %-20s %-24s %s%n", geometry, recipe, why);
        if (!"full".equals(System.getProperty("xfstage.matrix"))) {
            org.junit.jupiter.api.Assertions.fail(geometry + " " + recipe + ": " + why);
        }
        org.junit.jupiter.api.Assumptions.abort(why);
    }

    /**
     * Damage outside every strategy's scope: a file to name in lost+found when the root names a file "lost+found",
     * inode chunks the evidence cannot prove (a hidden half chunk with a damaged inode in it), an unlinked bucket naming
     * an inode that does not read (inodes that do not decode, once here, are cleared as xfs_repair clears them:
     * UndecodableInodeOracleTest).
     */
    static Stream<Arguments> outOfScope() {
        return Stream.of(
                // a file no directory names once the entry is dropped needs lost+found, but the root names a file (not a
                // directory) "lost+found": a new one would be a name held twice, and the file is not renamed
                Arguments.of("directory", "default", List.of("path /", "dblock 0", "write -d bu[17].name \"lost+found\"", "path /block",
                        "dblock 0", "write -d bu[3].inumber 4000000000")),
                // a holemask that hides half a chunk, one of whose hidden inodes is damaged: the directory tree names
                // inodes there, but which are free cannot be read, so the chunk cannot be proven and nothing is planned
                // (before, the rebuild kept the tree's holes and gave the live inodes' blocks back as free space)
                Arguments.of("inobt", "default", List.of("agi 0", "addr root", "write -d recs[2].holemask 0xff00", "inode 6700",
                        "write -c core.gen 77")),
                // an unlinked bucket naming an inode that does not read: whether it is an orphan is not known
                Arguments.of("agi", "default", List.of("inode 132", "write -c core.gid 7", "agi 0", "write -d unlinked[4] 132")),
                // a file's extent moved one block onto its neighbour's: the bnobt and refcountbt rebuilds would leave two
                // files sharing a block without the reflink flag (once said clean while xfs_repair -n saw it): refused
                Arguments.of("refcountbt", "default", List.of("path /size-65553", "fuzz -d u3.bmx[0].startblock lastbit")));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("outOfScope")
    void damageNoStrategyRepairsIsReportedAndNothingIsWritten(String structure, String geometry, List<String> commands)
            throws Exception {
        Path img = damagedCopy(geometry + "-" + structure, commands, geometry);
        String damaged = sha256(img);
        RepairReport r = engine.repair(img, new RepairOptions(true, dir.resolve(structure + ".undo")), Progress.NONE);
        assertTrue(r.unrepaired().contains(structure), "no strategy repairs " + structure + ": " + r.unrepaired());
        assertFalse(r.applied());
        assertEquals(damaged, sha256(img));
        assertFalse(Files.exists(dir.resolve(structure + ".undo")), "no journal when nothing is written");
    }

    /**
     * The re-check before writing: a plan whose blocks decode and verify but do not put the damage right (this agf
     * strategy rewrites the AGF as it is) is refused, naming the strategy, and nothing is written, not even a journal.
     */
    @Test
    void aPlanThatWouldNotRepairIsRefusedBeforeAnythingIsWritten() throws Exception {
        RepairEngineImpl e = engineWithBuiltIns(xfiles, arrays);
        AgfStrategy real = new AgfStrategy();
        e.addStrategy(new RepairStrategy() {
            @Override
            public java.util.Set<org.xfstage.api.repair.Observation> needs() {
                return real.needs();
            }

            @Override
            public void check(org.xfstage.api.repair.ScrubContext ctx, java.util.function.Consumer<org.xfstage.api.repair.Finding> f)
                    throws Exception {
                real.check(ctx, f);
            }

            @Override
            public org.xfstage.api.repair.Plan plan(org.xfstage.api.repair.ScrubContext ctx, List<org.xfstage.api.repair.Finding> f)
                    throws Exception {
                return new org.xfstage.api.repair.Plan("agf", List.of(ctx.device().updateHeader(
                        org.xfstage.api.device.HeaderKind.AGF, f.get(0).agno(), Map.of())), List.of("AGF rewritten as it is"));
            }
        }, Map.of(RepairStrategy.STRUCTURE, "agf", org.osgi.framework.Constants.SERVICE_RANKING, 10));
        Path img = damagedCopy("idle-plan", List.of("agf 1", "write -d longest 7"));
        String damaged = sha256(img);
        Path journal = dir.resolve("idle-plan.undo");
        RepairException x = org.junit.jupiter.api.Assertions.assertThrows(RepairException.class,
                () -> e.repair(img, new RepairOptions(true, journal), Progress.NONE));
        assertTrue(x.getMessage().contains("the plan of strategy 'agf' would leave agf damaged")
                && x.getMessage().endsWith("nothing was written"), x.getMessage());
        assertEquals(damaged, sha256(img));
        assertFalse(Files.exists(journal), "no journal either");
    }

    /**
     * The re-check reads only the metadata again when no plan writes inode space (a bnobt rebuild), and everything
     * when one does (a link count is written into an inode).
     */
    @Test
    void theReCheckReusesTheInodesOnlyWhenNoPlanWritesThem() throws Exception {
        RepairReport trees = engine.repair(damagedCopy("reuse-bnobt", List.of("agf 0", "addr bnoroot", "write -d recs[1].blockcount 3")),
                new RepairOptions(true, dir.resolve("reuse-bnobt.undo")), Progress.NONE);
        assertTrue(trees.applied() && trees.after().clean());
        assertTrue(trees.after().figures().getOrDefault("inodes_reused", 0L) > 0, "inodes reused: " + trees.after().figures());
        RepairReport links = engine.repair(damagedCopy("reuse-nlink", List.of("path /size-1", "write -d core.nlinkv2 5")),
                new RepairOptions(true, dir.resolve("reuse-nlink.undo")), Progress.NONE);
        assertTrue(links.applied() && links.after().clean());
        assertFalse(links.after().figures().containsKey("inodes_reused"), "inodes read again: " + links.after().figures());
        assertTrue(links.after().figures().get("inodes") > 0);
    }

    @Test
    void journalOfAnotherImageIsRefused() throws Exception {
        Path a = damagedCopy("a", List.of("agf 1", "write -d longest 7"));
        Path journal = dir.resolve("a.undo");
        engine.repair(a, new RepairOptions(true, journal), Progress.NONE);
        Path other = dir.resolve("other.img");
        SparseFiles.copy(CorpusImages.image("b1024"), other);
        String before = sha256(other);
        RepairException e = org.junit.jupiter.api.Assertions.assertThrows(RepairException.class, () -> engine.undo(journal, other));
        assertTrue(e.getMessage().contains("made for another image"), e.getMessage());
        assertEquals(before, sha256(other));
    }

    /**
     * Runs the repair in another JVM that halts before writing block k of five (AG 0's rmapbt, four blocks, and its
     * AGF): the journal must undo it exactly; and without the undo, a second repair must complete it.
     */
    @ParameterizedTest(name = "killed after {0} block(s)")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 3, 4})
    void aRunKilledWhileWritingIsUndoneExactly(int k) throws Exception {
        Path img = damagedCopy("crash" + k, List.of("agf 0", "addr rmaproot", "addr ptrs[2]", "write -d recs[9].offset 77"), "rmapbt");
        String damaged = sha256(img);
        Path journal = dir.resolve("crash" + k + ".undo");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashingRepair.class.getName(), img.toString(), journal.toString(), Integer.toString(k)).inheritIO().start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(HaltingWrites.STATUS, p.exitValue(), "the repair was halted while writing");
        assertTrue(Files.exists(journal), "the journal was durable before the first write");
        if (k > 0) {
            assertNotEquals(damaged, sha256(img), "a block was written before the halt");
        }
        Path unfinished = dir.resolve("crash" + k + "-unfinished.img");
        Files.copy(img, unfinished);
        engine.undo(journal, img);
        assertEquals(damaged, sha256(img), "undo after a crash restores the damaged image bit for bit");

        RepairReport again = engine.repair(unfinished, new RepairOptions(true, dir.resolve("again" + k + ".undo")), Progress.NONE);
        // clean already when the blocks written before the halt were all that differed (the AGF's new fields equal its old)
        assertTrue(again.before().clean() || again.applied() && again.after().clean(),
                "a second repair completes the interrupted one: " + again);
        var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", unfinished.toString()));
        assertEquals(0, check.getKey(), "after the second repair:\n" + check.getValue());
    }

    /** The repair run of {@link #aRunKilledWhileWritingIsUndoneExactly}, in its own JVM: image, journal, k. */
    public static final class CrashingRepair {
        public static void main(String[] args) throws Exception {
            HaltingWrites.haltBeforeBlock(Integer.parseInt(args[2]));
            XFileFactoryImpl xf = XFileFactoryImpl.standalone(1L << 30, 1L << 31);
            RepairEngineImpl e = engineWithBuiltIns(xf, new XfArrayFactoryImpl(xf));
            e.repair(Path.of(args[0]), new RepairOptions(true, Path.of(args[1])), Progress.NONE);
            System.exit(0); // not reached: the listener halts the JVM
        }
    }

    private Path damagedCopy(String name, List<String> commands) throws Exception {
        return damagedCopy(name, commands, "default");
    }

    private Path damagedCopy(String name, List<String> commands, String geometry) throws Exception {
        Path img = dir.resolve(name + ".img");
        SparseFiles.copy(base(geometry), img);
        CorpusImages.xfsDb(img, commands);
        return img;
    }

    static List<String> manifest(Path img) throws Exception {
        List<String> out = new ArrayList<>();
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly())) {
            d.manifest(true, Progress.NONE, e -> out.add(e.path() + " " + e.type() + " " + e.mode() + " " + e.size() + " "
                    + e.linkTarget() + " " + e.sha256()));
        }
        return out;
    }

    /** The image's fingerprint: equal exactly when the bytes are (zero blocks skipped, see SparseFiles). */
    static String sha256(Path file) throws Exception {
        return SparseFiles.digest(file);
    }

    /** A repair's plans as a dry run shows them: structure, blocks (by offset) and change lines, of every round. */
    static List<String> planLines(RepairReport r) {
        return r.plans().stream().map(p -> p.structure() + " " + p.blocks().stream().map(b -> Long.toString(b.offset())).toList()
                + " " + p.changes()).toList();
    }
}
