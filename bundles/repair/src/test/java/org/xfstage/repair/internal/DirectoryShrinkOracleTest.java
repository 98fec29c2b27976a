package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.XfsDeviceServiceImpl;

/**
 * Directories that need fewer blocks once the repair has dropped what it cannot read (issue 18): a data block of a
 * leaf or node directory trashed (its magic), the entries it held lost, the directory rebuilt from the rest into the
 * blocks they need, as xfs_repair's rebuild sizes it. The blocks it no longer needs are unmapped (a new extent map, in
 * the inode or a bmbt, a smaller di_nblocks), and the engine's later rounds give them back: the free-space btrees, the
 * AGF and superblock counters and, on rmapbt, the rmapbt. The files only the lost block named go to lost+found. Each
 * case: every finding planned, applied, our scrub and xfs_repair -n clean after, every file kept (those no directory
 * names as lost+found/INO), undo exact ({@link DirectoryGrowthOracleTest#repairAndCheck}); and the directory maps
 * fewer blocks than before.
 * <p>
 * By default /leaf runs on the rmapbt geometry and /node (a bmbt) on 1 KiB blocks; {@code -Dxfstage.matrix=full} runs
 * /leaf on five geometries (8 KiB directory blocks among them) and /node on four (a bmbt on three, extents on i1024).
 */
class DirectoryShrinkOracleTest extends OracleEngine {

    static Stream<Arguments> lostDataBlocks() {
        boolean full = DirectoryGrowthOracleTest.full();
        List<Arguments> out = new ArrayList<>();
        // /leaf: extents everywhere; n8192's has two 8 KiB data blocks and keeps one
        for (String g : full ? List.of("default", "rmapbt", "b1024", "n8192", "i1024") : List.of("rmapbt")) {
            out.add(Arguments.of(g, "/leaf", 1));
        }
        // /node: a bmbt on default, rmapbt and b1024 (rewritten in its own blocks), extents on i1024; none on n8192
        for (String g : full ? List.of("default", "rmapbt", "b1024", "i1024") : List.of("b1024")) {
            out.add(Arguments.of(g, "/node", 7));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} data block {2}")
    @MethodSource("lostDataBlocks")
    void aDirectoryThatLostADataBlockIsRebuiltIntoFewerBlocks(String geometry, String path, int dataBlock) throws Exception {
        Path base = CorpusImages.image(geometry);
        long perDirBlock;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(base, OpenOptions.readOnly())) {
            perDirBlock = (geometry.equals("n8192") ? 8192 : 4096) / d.info().blockSize(); // the corpus's directory blocks
        }
        List<String> changes = DirectoryGrowthOracleTest.repairAndCheck(dir, geometry, path.substring(1) + "-data-block-lost",
                List.of("path " + path, "dblock " + dataBlock * perDirBlock, "write -d dhdr.hdr.magic 0"), base);
        Matcher m = changes.stream().map(UNMAPPED::matcher).filter(Matcher::find).findFirst().orElse(null);
        assertTrue(m != null, "blocks unmapped: " + changes);
        assertTrue(Long.parseLong(m.group(1)) >= perDirBlock, "a whole directory block at least: " + m.group());
        assertTrue(changes.stream().anyMatch(c -> c.contains("(disconnected) named lost+found/")), "orphans named: " + changes);
    }

    private static final Pattern UNMAPPED = Pattern.compile("(\\d+) block\\(s\\) unmapped from its data fork");
}
