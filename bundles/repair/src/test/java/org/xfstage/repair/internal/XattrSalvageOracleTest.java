package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;

/**
 * Short-form attribute forks kept as far as they read (issue 18), as xfs_repair's process_shortform_attr keeps them,
 * where the fork used to be dropped whole. mkfs -p makes no attributes: the fixture gives /size-100 three with xfs_db's
 * attr_set (user "user.one" 10 bytes, user "two" 20 bytes, root "three" 5 bytes), then each case damages the second
 * with xfs_db -x. Sizes that run past the fork and a name of no length cut the fork before it ("would truncate
 * attributes for inode N to 1"); flags of two namespaces drop that entry alone; a first entry that does not read
 * leaves nothing, and the fork is dropped. Each: every finding planned, applied, our scrub and xfs_repair -n clean
 * after, every file kept, undo exact ({@link DirectoryGrowthOracleTest#repairAndCheck}), and the plan says what was
 * kept.
 * <p>
 * By default the cut and the namespace cases run on the default geometry; {@code -Dxfstage.matrix=full} runs every case
 * there and on the rmapbt and 1 KiB-block geometries.
 */
class XattrSalvageOracleTest extends OracleEngine {
    @TempDir
    static Path fixtures;

    /** Geometry, case, the damage to the second attribute, and what the plan must say. */
    static Stream<Arguments> cases() {
        List<String[]> all = List.of(
                new String[] {"value-past-fork", "write -d a.sfattr.list[1].valuelen 200",
                    "1 of 3 attribute(s) kept, cut before entry 1: its name and value run past the fork's end"},
                new String[] {"two-namespaces", "write -d a.sfattr.list[1].secure 1\nwrite -d a.sfattr.list[1].root 1",
                    "2 of 3 attribute(s) kept, entry 1 dropped: flags 6 no kernel writes"},
                new String[] {"empty-name", "write -d a.sfattr.list[1].namelen 0",
                    "1 of 3 attribute(s) kept, cut before entry 1: a name of no length"},
                new String[] {"first-unreadable", "write -d a.sfattr.list[0].namelen 0", "attributes dropped: /size-100"});
        boolean full = DirectoryGrowthOracleTest.full();
        return (full ? Stream.of("default", "rmapbt", "b1024") : Stream.of("default"))
                .flatMap(g -> all.stream().filter(c -> full || c[0].equals("value-past-fork") || c[0].equals("two-namespaces"))
                        .map(c -> Arguments.of(g, c[0], List.of(c[1].split("\n")), c[2])));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aShortFormAttributeForkKeepsWhatReads(String geometry, String name, List<String> damage, String said) throws Exception {
        Path base = withAttributes(geometry);
        List<String> commands = new java.util.ArrayList<>(List.of("path /size-100"));
        commands.addAll(damage);
        List<String> changes = DirectoryGrowthOracleTest.repairAndCheck(dir, geometry, "xattr-" + name, commands, base);
        assertTrue(changes.stream().anyMatch(c -> c.contains(said)), "the plan says: " + said + "\n" + changes);
    }

    /** Corpus image {@code geometry} with three attributes on /size-100 (short form), clean for xfs_repair -n. */
    private static Path withAttributes(String geometry) throws Exception {
        synchronized (XattrSalvageOracleTest.class) {
            Path img = fixtures.resolve(geometry + "-xattrs.img");
            if (img.toFile().exists()) {
                return img;
            }
            SparseFiles.copy(CorpusImages.image(geometry), img);
            CorpusImages.run(List.of(CorpusImages.tool("xfs_db"), "-x", "-c", "path /size-100", "-c", "attr_set -u -v 10 user.one",
                    "-c", "attr_set -u -v 20 two", "-c", "attr_set -r -v 5 three", img.toString()));
            var check = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
            assertEquals(0, check.getKey(), "the attributes fixture is clean:\n" + check.getValue());
            return img;
        }
    }
}
