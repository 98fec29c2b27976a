package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;

/**
 * The device's repair of inode cores ({@link XfsImage#repairInodeCore}) on real images damaged with xfs_db -x: the
 * inode as repaired reads clean, with what xfs_repair leaves (a hint a cleared flag made valid is kept; counts read
 * where the cleared NREXT64 flag no longer moves them); a rule not broken, or one xfs_repair answers by clearing the
 * inode, is refused. The oracle runs (repair, xfs_repair -n, manifest, undo) are RepairOracleTest's.
 */
class InodeCoreRepairTest {
    @TempDir
    Path dir;

    private static Set<Kind> kinds(XfsDevice fs, long ino) throws Exception {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        fs.checkInode(ino, (InodeProblem p) -> out.add(p.kind()));
        return out;
    }

    /** The inode as the repair would write it: its problems, and its core. */
    private static Struct repaired(XfsImage fs, long ino, Set<Kind> rules) throws Exception {
        BlockImage b = fs.repairInodeCore(ino, rules);
        fs.verify(b);
        try (XfsDevice view = fs.withPlanned(List.of(b))) {
            assertEquals(Set.of(), kinds(view, ino), "the inode as repaired reads clean");
        }
        return Inode.decode(b.bytes(), fs.geometry, ino).core;
    }

    @Test
    void largeExtentCountsWithoutTheFeatureAreClearedAndTheCountsReadWhereTheyAre() throws Exception {
        Path img = Corpus.damagedDefault(dir, "nrext64", List.of("path /size-100", "write -d v3.nrext64 1"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/size-100");
            Set<Kind> found = kinds(fs, ino);
            // read with the flag, the data extent count is di_big_nextents (0) and di_nextents counts attribute extents
            assertTrue(found.containsAll(Set.of(Kind.FLAGS2_NREXT64, Kind.NBLOCKS)), found.toString());
            Struct core = repaired(fs, ino, found);
            assertEquals(0, core.get("flags2") & InodeChecks.DIFLAG2_NREXT64);
            assertEquals(1, core.get("nblocks"), "the block the file maps, not the 0 read through the flag");
            assertEquals(1, core.get("nextents"));
        }
    }

    @Test
    void aFileFlagOnADirectoryIsClearedAndTheInheritedHintItMadeLookBadIsKept() throws Exception {
        Path img = Corpus.damagedDefault(dir, "extsz", List.of("path /deep/a", "write -d core.extszinherit 1", "write -d core.extsize 4",
                "write -d core.extsz 1"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/deep/a");
            Set<Kind> found = kinds(fs, ino);
            assertEquals(Set.of(Kind.FLAGS_FILE_ONLY, Kind.EXTSIZE), found);
            Struct core = repaired(fs, ino, found);
            // xfs_repair clears the file flag first; validate_extsize then finds the directory's inherited hint valid
            assertEquals(InodeChecks.DIFLAG_EXTSZINHERIT, core.get("flags"));
            assertEquals(4, core.get("extsize"));
        }
    }

    @Test
    void aRuleNotBrokenOrOneXfsRepairClearsTheInodeForIsRefused() throws Exception {
        Path img = Corpus.damagedDefault(dir, "devsize", List.of("path /null-dev", "write -d core.size 5"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long dev = Corpus.lookup(fs, "/null-dev");
            assertEquals(Set.of(Kind.SPECIAL_SIZE), kinds(fs, dev));
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.repairInodeCore(dev, Set.of(Kind.SPECIAL_SIZE)));
            assertTrue(e.getMessage().contains("'SPECIAL_SIZE' is not repaired in place"), e.getMessage());
            long dir = Corpus.lookup(fs, "/leaf");
            // a directory of several blocks made one block long would lose its entries: the rule must be broken first
            e = assertThrows(XfsFormatException.class, () -> fs.repairInodeCore(dir, Set.of(Kind.DIRECTORY_BLOCK_SIZE)));
            assertTrue(e.getMessage().contains("'DIRECTORY_BLOCK_SIZE' is not broken"), e.getMessage());
        }
    }
}
