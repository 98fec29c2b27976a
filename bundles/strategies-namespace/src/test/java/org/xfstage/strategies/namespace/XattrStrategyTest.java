package org.xfstage.strategies.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.staging.XfArray;

/**
 * The xattr plan on a stand-in device: a short-form fork the device salvages is kept as far as it reads and said so
 * with the file's path; a leaf or node fork the device salvages is written in the blocks it gives (the inode first, whose
 * description is said); a fork it cannot salvage (nothing of it reads) is dropped whole, as before.
 */
class XattrStrategyTest {

    @Test
    void aShortFormForkIsSalvagedAndAnyOtherDropped() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/size-100", 133);
            s.path("/size-1", 134);
            s.shortFormAttributes.add(133L);
            XfArray a = s.array(Observation.INODE_PROBLEMS, InodeProblemRecord.SIZE);
            InodeProblemRecord r = new InodeProblemRecord();
            for (InodeProblem p : List.of(new InodeProblem(133, Kind.XATTR_SF_ENTRY, true, 1, 0, -1),
                    new InodeProblem(134, Kind.XATTR_HASH, true, 0, 0, 0x1234))) {
                r.set(p, 0).appendTo(a);
                s.current.computeIfAbsent(p.ino(), k -> new java.util.ArrayList<>()).add(p);
            }
            Plan plan = new XattrStrategy().plan(s, List.of());
            assertEquals(Set.of(133L), s.attributesSalvaged);
            assertEquals(Set.of(134L), s.attributesDropped, "the fork that is not short form goes whole");
            assertEquals(2, plan.blocks().size());
            assertEquals(true, plan.changes().get(0).startsWith("attributes salvaged: /size-100 (inode 133: ")
                    && plan.changes().get(0).endsWith("): 1 of 3 attribute(s) kept, cut before entry 1: a name of no length"),
                    plan.changes().toString());
            assertEquals(true, plan.changes().get(1).startsWith("attributes dropped: /size-1 (inode 134: "), plan.changes().toString());
        }
    }

    @Test
    void aLeafForkIsSalvagedInItsBlocksAndOneOfWhichNothingReadsDropped() throws Exception {
        try (Staging s = new Staging(true)) {
            s.path("/size-100", 133);
            s.path("/size-1", 134);
            s.blockAttributes.add(133L);
            XfArray a = s.array(Observation.INODE_PROBLEMS, InodeProblemRecord.SIZE);
            InodeProblemRecord r = new InodeProblemRecord();
            for (InodeProblem p : List.of(new InodeProblem(133, Kind.XATTR_REMOTE_CRC, true, 1, -1, -1),
                    new InodeProblem(134, Kind.XATTR_MAGIC, true, 0, 0x1234, 0x3bee))) {
                r.set(p, 0).appendTo(a);
                s.current.computeIfAbsent(p.ino(), k -> new java.util.ArrayList<>()).add(p);
            }
            Plan plan = new XattrStrategy().plan(s, List.of());
            assertEquals(Set.of(133L), s.attributesSalvaged);
            assertEquals(Set.of(134L), s.attributesDropped);
            assertEquals(3, plan.blocks().size(), "the inode and its leaf block, and the other inode");
            assertEquals(true, plan.changes().get(0).startsWith("attributes salvaged: /size-100 (inode 133: ") && plan.changes().get(0)
                    .endsWith("): 2 of 3 attribute(s) kept as one leaf block; dropped: user.b (its remote value block 1 does not verify);"
                            + " 2 block(s) unmapped"), plan.changes().toString());
            assertEquals(true, plan.changes().get(1).startsWith("attributes dropped: /size-1 (inode 134: "), plan.changes().toString());
        }
    }
}
