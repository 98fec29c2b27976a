package org.xfstage.strategies.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.staging.XfArray;

/**
 * The inode strategy's plan on staged problems: one device-made inode per inode with core problems, asked with every
 * rule that inode breaks; refused, naming the inode and why, when one rule's right value is not proven (a fork that
 * breaks a rule, an unlinked pointer that may be a link of a list). An inode xfs_repair clears is cleared, its path
 * listed as lost; so is a symlink whose target does not read, and an attribute fork that does not read is dropped.
 */
class InodeStrategyPlanTest {

    private static void stage(Staging s, int agno, InodeProblem... problems) throws Exception {
        XfArray a = s.array(Observation.INODE_PROBLEMS, InodeProblemRecord.SIZE);
        InodeProblemRecord r = new InodeProblemRecord();
        for (InodeProblem p : problems) {
            r.set(p, agno).appendTo(a);
            s.current.computeIfAbsent(p.ino(), k -> new java.util.ArrayList<>()).add(p); // no earlier plan changed it
        }
    }

    @Test
    void eachInodeWithCoreProblemsIsAskedForOnceWithAllItsRules() throws Exception {
        try (Staging s = new Staging(true)) {
            stage(s, 0, InodeProblem.of(133, Kind.FLAGS_REALTIME, 1, -1), InodeProblem.of(133, Kind.NBLOCKS, 9, 1),
                    new InodeProblem(140, Kind.EXTENT_ZERO_LENGTH, false, 3, 12, -1),
                    InodeProblem.of(141, Kind.NEXTENTS, 40, 56));
            Plan p = new InodeStrategy().plan(s, List.of());
            assertEquals("inode", p.structure());
            assertEquals(Map.of(133L, Set.of(Kind.FLAGS_REALTIME, Kind.NBLOCKS), 141L, Set.of(Kind.NEXTENTS)), s.repairs,
                    "a fork's problem alone is the bmap strategy's");
            assertEquals(2, p.blocks().size());
            assertEquals(List.of("inode 133: realtime flag without a realtime device -> set right",
                    "inode 133: di_nblocks is 9, the forks map 1 -> set right",
                    "inode 141: di_nextents is 40, the data fork holds 56 extents -> set right"), p.changes());
        }
    }

    @Test
    void anInodeWhoseForkBreaksARuleIsRefusedWithTheReason() throws Exception {
        try (Staging s = new Staging(true)) {
            stage(s, 0, InodeProblem.of(133, Kind.NBLOCKS, 9, 1), new InodeProblem(133, Kind.EXTENT_ORDER, false, 2, 5, 8));
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> new InodeStrategy().plan(s, List.of()));
            assertTrue(e.getMessage().startsWith("inode 133 is not repaired in place: bmap: data fork: extent 2")
                    && e.getMessage().endsWith("(a fork that breaks a rule proves no count)"), e.getMessage());
            assertEquals(Map.of(), s.repairs, "nothing asked of the device");
        }
    }

    @Test
    void anInodeXfsRepairClearsIsClearedAndListedAsLostWithItsPath() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/null-dev", 147);
            stage(s, 1, InodeProblem.of(132, Kind.NBLOCKS, 9, 1), InodeProblem.of(147, Kind.SPECIAL_SIZE, 5, 0),
                    InodeProblem.of(147, Kind.NBLOCKS, 1, 0));
            Plan p = new InodeStrategy().plan(s, List.of());
            assertEquals(Set.of(147L), s.cleared, "cleared whole, not repaired in place");
            assertEquals(Map.of(132L, Set.of(Kind.NBLOCKS)), s.repairs);
            assertEquals(2, p.blocks().size());
            assertEquals(List.of("lost: /null-dev (inode 147, cleared: special file of size 5)",
                    "inode 132: di_nblocks is 9, the forks map 1 -> set right"), p.changes());
        }
    }

    @Test
    void lostAndFoundIsNeverCleared() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/lost+found", 140);
            stage(s, 0, InodeProblem.of(140, Kind.FLAGS2_REFLINK_TYPE, 2, -1));
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> new InodeStrategy().plan(s, List.of()));
            assertTrue(e.getMessage().startsWith("inode 140 is /lost+found, which is not cleared"), e.getMessage());
            assertEquals(Set.of(), s.cleared);
        }
    }

    @Test
    void anInodeAnEarlierPlanClearedIsNotClearedAgain() throws Exception {
        try (Staging s = new Staging(true)) {
            stage(s, 0, InodeProblem.of(147, Kind.SPECIAL_SIZE, 5, 0));
            s.current.remove(147L); // the symlink or inode plan before this one cleared it on the view
            Plan p = new InodeStrategy().plan(s, List.of());
            assertEquals(List.of(), p.blocks());
            assertEquals(Set.of(), s.cleared);
        }
    }

    @Test
    void aSymlinkWhoseTargetProvesItsHeadersKeepsItAndAnotherIsCleared() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/link-long", 143).path("/link-other", 144);
            s.symlinksProven.add(143L);
            stage(s, 0, new InodeProblem(143, Kind.SYMLINK_OWNER, false, 300, 5, -1), new InodeProblem(144, Kind.SYMLINK_MAGIC, false, 301, 0,
                    0x58534c4d));
            Plan p = new SymlinkStrategy().plan(s, List.of());
            assertEquals(Set.of(144L), s.cleared, "the one whose blocks do not prove the target");
            assertEquals(2, p.blocks().size());
            assertEquals("lost: /link-other (inode 144, cleared: remote target block 301 has bad magic 0x0)", p.changes().get(0));
            assertTrue(p.changes().get(1).startsWith("symlink inode 143: 1 remote block header(s) written again"), p.changes().toString());
        }
    }

    @Test
    void aSymlinkTheInodeStrategyClearsIsClearedNotRebuilt() throws Exception {
        try (Staging s = new Staging(true)) {
            s.symlinksProven.add(143L);
            stage(s, 0, InodeProblem.of(143, Kind.SIZE_FORMAT, 7, 336), new InodeProblem(143, Kind.SYMLINK_BYTES, false, 300, 888, 7));
            new SymlinkStrategy().plan(s, List.of());
            assertEquals(Set.of(143L), s.cleared);
        }
    }

    @Test
    void anAttributeForkThatDoesNotReadIsDroppedAndTheFileKept() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/size-100", 133);
            stage(s, 0, new InodeProblem(133, Kind.XATTR_HASH, true, 0, 0, 0x1234));
            Plan p = new XattrStrategy().plan(s, List.of());
            assertEquals(Set.of(133L), s.attributesDropped);
            assertEquals(Set.of(), s.cleared);
            assertTrue(p.changes().get(0).startsWith("attributes dropped: /size-100 (inode 133: "), p.changes().toString());
        }
    }

    @Test
    void anUnlinkedPointerIsEndedOnlyInAnAgWithoutUnlinkedLists() throws Exception {
        try (Staging s = new Staging(true)) {
            stage(s, 2, InodeProblem.of(4_194_400, Kind.NEXT_UNLINKED_SET, 200, 0xffffffffL));
            s.unlinked.put(2, Map.of(7, 300L));
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> new InodeStrategy().plan(s, List.of()));
            assertTrue(e.getMessage().contains("AG 2 has unlinked lists"), e.getMessage());
            s.unlinked.clear();
            assertEquals(1, new InodeStrategy().plan(s, List.of()).blocks().size());
            assertEquals(Map.of(4_194_400L, Set.of(Kind.NEXT_UNLINKED_SET)), s.repairs);
        }
    }

    @Test
    void whatAnEarlierPlanSetRightIsNotAskedForAgain() throws Exception {
        try (Staging s = new Staging(true)) {
            stage(s, 2, InodeProblem.of(655_488, Kind.DIRECTORY_BLOCK_SIZE, 8192, 4096), InodeProblem.of(655_500, Kind.NBLOCKS, 3, 2));
            s.current.remove(655_488L); // the directory plan set the size on the view this plan is made on
            Plan p = new InodeStrategy().plan(s, List.of());
            assertEquals(Map.of(655_500L, Set.of(Kind.NBLOCKS)), s.repairs);
            assertEquals(List.of("inode 655500: di_nblocks is 3, the forks map 2 -> set right"), p.changes());
            s.repairs.clear();
            s.current.remove(655_500L);
            Plan none = new InodeStrategy().plan(s, List.of());
            assertEquals(List.of(), none.blocks(), "a plan with nothing left to write still answers for the findings");
            assertEquals(Map.of(), s.repairs);
        }
    }

    @Test
    void withoutCoreProblemsThereIsNothingToPlan() throws Exception {
        try (Staging s = new Staging(true)) {
            stage(s, 0, new InodeProblem(140, Kind.BMBT_CRC, false, 77, -1, -1));
            assertNull(new InodeStrategy().plan(s, List.of()));
        }
    }

    @Test
    void anInodeWhoseOnlyFaultIsItsChecksumGetsItAgainAndAnotherUnreadableOneNothing() throws Exception {
        try (Staging s = new Staging(true)) {
            s.checksumOnly.add(135L);
            s.array(Observation.INODE_PROBLEMS, InodeProblemRecord.SIZE); // the walk staged no problem of either
            List<org.xfstage.api.repair.Finding> findings = List.of(
                    new org.xfstage.api.repair.Finding("inode", 0, "inode 135", "inode 135: checksum mismatch", null),
                    new org.xfstage.api.repair.Finding("inode", 0, "inode 136", "inode 136: bad magic (not an inode)", null));
            Plan p = new InodeStrategy().plan(s, findings);
            assertEquals(1, p.blocks().size());
            assertEquals(List.of("inode 135: checksum written again (inode 135: checksum mismatch)"), p.changes());
        }
    }
}
