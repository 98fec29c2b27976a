package org.xfstage.strategies.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.XfArray;

/**
 * The inode, bmap, symlink and xattr strategies on staged observations: each reports the device's problems of its
 * own structure only, at the inode and its path, within a bound; bmap also names the inodes whose blocks something
 * else uses, leaving legal sharing alone. A clean scrub never walks the tree a second time.
 */
class NamespaceStrategiesTest {

    private static void stage(Staging s, int agno, InodeProblem... problems) throws Exception {
        XfArray a = s.array(Observation.INODE_PROBLEMS, InodeProblemRecord.SIZE);
        InodeProblemRecord r = new InodeProblemRecord();
        for (InodeProblem p : problems) {
            r.set(p, agno).appendTo(a);
        }
    }

    /** Space map records, given in (agno, agbno) order as the engine sorts them. */
    private static void space(Staging s, Object[]... records) throws Exception {
        XfArray a = s.array(Observation.SPACE_MAP, SpaceMapRecord.SIZE);
        SpaceMapRecord r = new SpaceMapRecord();
        for (Object[] x : records) {
            r.set((Integer) x[0], (Long) x[1], (Long) x[2], (SpaceUse) x[3], (Long) x[4]).appendTo(a);
        }
    }

    private static Object[] rec(int agno, long agbno, long length, SpaceUse use, long owner) {
        return new Object[] {agno, agbno, length, use, owner};
    }

    @Test
    void eachStrategyReportsItsOwnStructureAtTheInodeAndItsPath() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/", 128).path("/a", 133).path("/b", 140);
            stage(s, 0, InodeProblem.of(133, Kind.NBLOCKS, 5, 1),
                    new InodeProblem(140, Kind.EXTENT_ZERO_LENGTH, false, 3, 12, -1),
                    InodeProblem.of(141, Kind.SYMLINK_LENGTH, 2000, 1023),
                    new InodeProblem(133, Kind.XATTR_HASH, true, 0, 2, 0x61));
            space(s);
            List<Finding> inode = s.check(new InodeStrategy());
            assertEquals(List.of(new Finding("inode", 0, "inode 133 (/a)", "di_nblocks is 5, the forks map 1", "1")), inode);
            assertEquals(List.of(new Finding("bmap", 0, "inode 140 (/b)", "data fork: extent 3 at file block 12 has length 0", null)),
                    s.check(new BmapStrategy()));
            // not in the tree: the location is the inode alone
            assertEquals(List.of(new Finding("symlink", 0, "inode 141", "target length 2000 is out of range (1 to 1023)", "1023")),
                    s.check(new SymlinkStrategy()));
            List<Finding> xattr = s.check(new XattrStrategy());
            assertEquals(1, xattr.size());
            assertEquals("attribute block 0 entry 2: hashval is not the hash of its name (0x61)", xattr.get(0).problem());
        }
    }

    @Test
    void aCleanScrubNeverWalksTheTreeAgain() throws Exception {
        try (Staging s = new Staging(false)) {
            s.path("/", 128);
            stage(s, 0);
            space(s, rec(0, 0, 1, SpaceUse.HEADERS, 0), rec(0, 10, 4, SpaceUse.FILE_DATA, 133), rec(0, 14, 1, SpaceUse.FILE_BMBT, 133));
            for (var strategy : List.of(new InodeStrategy(), new BmapStrategy(), new SymlinkStrategy(), new XattrStrategy())) {
                assertEquals(List.of(), s.check(strategy));
            }
            assertEquals(0, s.treeWalks, "no findings, no paths to look for");
        }
    }

    @Test
    void aTrashedFilesystemGetsBoundedFindingsAndACount() throws Exception {
        try (Staging s = new Staging(false)) {
            InodeProblem[] many = new InodeProblem[InodeProblems.MAX_FINDINGS + 13];
            for (int i = 0; i < many.length; i++) {
                many[i] = InodeProblem.of(1000 + i, Kind.ONLINK, 1, 0);
            }
            stage(s, 2, many);
            List<Finding> found = s.check(new InodeStrategy());
            assertEquals(InodeProblems.MAX_FINDINGS + 1, found.size());
            assertEquals(new Finding("inode", -1, "inodes", "13 more inode problems", null), found.get(found.size() - 1));
            assertTrue(found.get(0).location().equals("inode 1000") && found.get(0).agno() == 2, found.get(0).toString());
        }
    }

    @Test
    void aTreeThatCannotBeWalkedToItsEndStillGivesThePathsMetBefore() throws Exception {
        try (Staging s = new Staging(false)) {
            s.path("/", 128).path("/a", 133).path("/z", 150);
            s.treeBreaksAfter = 2;
            stage(s, 0, InodeProblem.of(133, Kind.ONLINK, 1, 0), InodeProblem.of(150, Kind.ONLINK, 1, 0));
            List<Finding> found = s.check(new InodeStrategy());
            assertEquals(List.of("inode 133 (/a)", "inode 150"), found.stream().map(Finding::location).toList());
        }
    }

    @Test
    void bmapNamesTheInodeWhoseBlocksSomethingElseUses() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/", 128).path("/victim", 133);
            stage(s, 0);
            // an extent over two blocks of an inode chunk (staged block by block): one finding for both
            space(s, rec(0, 16, 1, SpaceUse.INODES, 3), rec(0, 16, 6, SpaceUse.FILE_DATA, 133), rec(0, 17, 1, SpaceUse.INODES, 3),
                    rec(1, 100, 8, SpaceUse.FILE_DATA, 200), rec(1, 104, 8, SpaceUse.FILE_DATA, 201),
                    rec(2, 50, 1, SpaceUse.FILE_BMBT, 300), rec(2, 50, 4, SpaceUse.FILE_DATA, 301),
                    rec(3, 7, 1, SpaceUse.AGFL, 2), rec(3, 7, 1, SpaceUse.FILE_DATA, 400));
            List<Finding> found = s.check(new BmapStrategy());
            assertEquals(List.of(
                    new Finding("bmap", 0, "inode 133 (/victim)", "it maps blocks 16+2 of AG 0, also used by inode chunks", "blocks of its own"),
                    // two files' data on one block is reflink sharing (the refcountbt's business); a bmbt block is never shared
                    new Finding("bmap", 2, "inode 301", "it maps blocks 50+1 of AG 2, also used by inode 300 (bmbt)", "blocks of its own")),
                    found, "the AGFL's blocks are the agfl strategy's");
        }
    }

    @Test
    void withoutReflinkTwoFilesOnOneBlockIsFound() throws Exception {
        try (Staging s = new Staging(false)) {
            stage(s, 0);
            space(s, rec(1, 100, 8, SpaceUse.FILE_DATA, 200), rec(1, 104, 8, SpaceUse.FILE_DATA, 201));
            assertEquals(List.of(new Finding("bmap", 1, "inode 201", "it maps blocks 104+4 of AG 1, also used by inode 200",
                    "blocks of its own")), s.check(new BmapStrategy()));
        }
    }
}
