package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;

/**
 * Leaf and node attribute forks kept as far as they read (issue 18), as the kernel's online repair salvages them, where
 * xfs_repair 6.1 clears the whole fork ("would clear attr fork") and this repair used to drop it whole. mkfs -p makes
 * no attributes: the fixtures give /size-100 attributes with xfs_db's attr_set, in leaf form (user "user.a" 3000 bytes
 * local, "user.b" 5000 bytes in two remote blocks, "user.c" 10 bytes; the leaf's entries in hash order are c, b, a) or
 * node form (twelve of 400 bytes: a node over two leaves of five and seven), and each case damages them with xfs_db -x.
 * Each: our scrub finds the damage, every finding planned, applied, our scrub and xfs_repair -n clean after, every file
 * kept, undo exact ({@link DirectoryGrowthOracleTest#repairAndCheck}); the plan names what was kept and dropped; on the
 * damaged image xfs_repair -n would clear the whole fork (or, for a node's key, correct it; a leaf owner under a node
 * it does not read); after the repair xfs_db reads exactly the attributes said kept.
 * <p>
 * By default three cases run on the default geometry; {@code -Dxfstage.matrix=full} runs every case there and on the
 * rmapbt and 1 KiB-inode geometries (the fixtures' layouts are those of 4 KiB blocks).
 */
class XattrLeafSalvageOracleTest extends OracleEngine {
    @TempDir
    static Path fixtures;

    private static final Pattern NAME = Pattern.compile("(?:list|nvlist)\\[\\d+\\]\\.name = \"(.*)\"");
    /** An extent of xfs_db's a.bmx: startoff, startblock, blockcount, flag. */
    private static final Pattern EXTENT = Pattern.compile("\\d+:\\[(\\d+),\\d+,(\\d+),\\d\\]");

    /** Case, fixture, the damage, what the plan must say, and the names xfs_db must read after the repair. */
    static Stream<Arguments> cases() {
        List<Object[]> all = List.of(
                // a hash no name has: xfs_repair clears the fork; every entry reads, written back with its hash
                new Object[] {"leaf-hash", "leaf", "ablock 0\nwrite -d entries[0].hashval 5",
                    "3 of 3 attribute(s) kept as one leaf block", List.of("user.a", "user.b", "user.c")},
                // a remote value's block with a bad checksum: that attribute goes, its two blocks are given back
                new Object[] {"remote-crc", "leaf", "ablock 1\nwrite -c hdr.lsn 7",
                    "2 of 3 attribute(s) kept as one leaf block; dropped: user.user.b (its remote value block 1 does not verify); 2 block(s) unmapped",
                    List.of("user.a", "user.c")},
                // what is left fits the inode: short form, every block given back
                new Object[] {"to-short-form", "leaf", "ablock 0\nwrite -d nvlist[2].namelen 0\nablock 1\nwrite -c hdr.lsn 7",
                    "1 of 3 attribute(s) kept in short form; dropped: user.user.b (its remote value block 1 does not verify), entry 2"
                        + " of attribute block 0 (a name of no length); 3 block(s) unmapped", List.of("user.c")},
                // two entries claim the same bytes: the first read keeps them
                new Object[] {"leaf-overlap", "leaf", "ablock 0\nwrite -d entries[2].nameidx 1044",
                    "2 of 3 attribute(s) kept as one leaf block; dropped: entry 2 of attribute block 0 (its record overlaps another entry's)",
                    List.of("user.b", "user.c")},
                // a hash no name has in a leaf under the node: every entry reads, back as a node over two leaves
                new Object[] {"node-leaf-hash", "node", "ablock 1\nwrite -d entries[0].hashval 5",
                    "12 of 12 attribute(s) kept as a node over 2 leaf blocks", 12},
                // a node key below its leaf's hashes (xfs_repair corrects the key in place)
                new Object[] {"node-key", "node", "ablock 0\nwrite -d btree[0].hashval 5",
                    "12 of 12 attribute(s) kept as a node over 2 leaf blocks", 12},
                // a leaf block of another owner under the node (xfs_repair 6.1 does not look; the kernel refuses the
                // leaf): the other leaf's entries go back as one leaf
                new Object[] {"node-leaf-owner", "node", "ablock 1\nwrite -d hdr.info.owner 5",
                    "7 of 7 attribute(s) kept as one leaf block; leaf at attribute block 1 (5 entries) skipped: owned by inode 5", 7},
                // the leaf's magic gone: nothing reads, the fork is dropped as xfs_repair clears it
                new Object[] {"leaf-magic", "leaf", "ablock 0\nwrite -d hdr.info.hdr.magic 0x1234", "attributes dropped: /size-100", List.of()});
        boolean full = DirectoryGrowthOracleTest.full();
        List<String> byDefault = List.of("remote-crc", "to-short-form", "node-leaf-hash");
        // the fixtures' layouts (which value is remote, how many leaves) are those of 4 KiB blocks
        return (full ? Stream.of("default", "rmapbt", "i1024") : Stream.of("default"))
                .flatMap(g -> all.stream().filter(c -> full || byDefault.contains((String) c[0]))
                        .map(c -> Arguments.of(g, c[0], c[1], List.of(((String) c[2]).split("\n")), c[3], c[4])));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aLeafOrNodeAttributeForkKeepsWhatReads(String geometry, String name, String form, List<String> damage, String said,
            Object kept) throws Exception {
        Path base = withAttributes(geometry, form);
        List<String> commands = new ArrayList<>(List.of("path /size-100"));
        commands.addAll(damage);
        List<String> changes = DirectoryGrowthOracleTest.repairAndCheck(dir, geometry, "xattr-" + name, commands, base);
        assertTrue(changes.stream().anyMatch(c -> c.contains(said)), "the plan says: " + said + "\n" + changes);

        // repairAndCheck undid the repair: the damage is xfs_repair's too, and it clears the whole fork for it
        Path img = dir.resolve(geometry + "-xattr-" + name + ".img");
        var theirs = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        System.out.printf("XFS_REPAIR %-10s %-16s exit %d: %s%n", geometry, name, theirs.getKey(), theirs.getValue().lines()
                .filter(l -> l.contains("attr") || l.contains("would")).toList());
        if (name.equals("node-leaf-owner")) {
            assertEquals(0, theirs.getKey(), name + ": xfs_repair 6.1 reads no leaf owner under a node\n" + theirs.getValue());
        } else {
            assertTrue(theirs.getKey() != 0 && (name.equals("node-key") || theirs.getValue().contains("would clear attr fork")),
                    name + ": xfs_repair -n\n" + theirs.getValue());
        }

        // apply it again and read the attributes left with xfs_db
        RepairReport done = engine.repair(img, new RepairOptions(true, dir.resolve(geometry + "-xattr-" + name + ".again")), Progress.NONE);
        assertTrue(done.applied() && done.after().clean(), name + ": clean after the repair again");
        TreeSet<String> left = attributeNames(img);
        if (kept instanceof List<?> names) {
            assertEquals(new TreeSet<>(names), left, name + ": the attributes read after the repair");
        } else {
            assertEquals(kept, left.size(), name + ": the attributes read after the repair: " + left);
        }
    }

    /** The attribute names of /size-100 as xfs_db reads them, in short form or in the blocks the fork maps. */
    private static TreeSet<String> attributeNames(Path img) throws Exception {
        var sf = CorpusImages.status(List.of(CorpusImages.tool("xfs_db"), "-r", "-c", "path /size-100", "-c", "print a", img.toString()));
        TreeSet<String> out = new TreeSet<>();
        Matcher m = NAME.matcher(sf.getValue());
        while (m.find()) {
            out.add(m.group(1));
        }
        // blocks: every block the fork maps printed (leaves name their entries; nodes and remote values name none)
        List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db"), "-r", "-c", "path /size-100"));
        Matcher x = EXTENT.matcher(sf.getValue().substring(Math.max(0, sf.getValue().indexOf("a.bmx"))));
        while (out.isEmpty() && x.find()) {
            for (long b = Long.parseLong(x.group(1)); b < Long.parseLong(x.group(1)) + Long.parseLong(x.group(2)); b++) {
                // from the inode each time: after a node block xfs_db may read the next ablock from no inode
                cmd.addAll(List.of("-c", "path /size-100", "-c", "ablock " + b, "-c", "print"));
            }
        }
        if (cmd.size() > 4) {
            cmd.add(img.toString());
            m = NAME.matcher(CorpusImages.status(cmd).getValue());
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** Corpus image {@code geometry} with /size-100's attributes in leaf or node form, clean for xfs_repair -n. */
    private static Path withAttributes(String geometry, String form) throws Exception {
        synchronized (XattrLeafSalvageOracleTest.class) {
            Path img = fixtures.resolve(geometry + "-" + form + "-xattrs.img");
            if (img.toFile().exists()) {
                return img;
            }
            SparseFiles.copy(CorpusImages.image(geometry), img);
            List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db"), "-x", "-c", "path /size-100"));
            if (form.equals("leaf")) {
                cmd.addAll(List.of("-c", "attr_set -n user.a -v 3000", "-c", "attr_set -n user.b -v 5000", "-c", "attr_set -n user.c -v 10"));
            } else {
                for (int i = 1; i <= 12; i++) {
                    cmd.addAll(List.of("-c", "attr_set -n user.attribute-" + i + " -v 400"));
                }
            }
            cmd.add(img.toString());
            CorpusImages.run(cmd);
            var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
            assertEquals(0, check.getKey(), "the attributes fixture is clean:\n" + check.getValue());
            return img;
        }
    }
}
