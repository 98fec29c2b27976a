package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;

/**
 * A directory named by two directories whose ".." names neither (issue 18): /leaf's third entry made to name /block
 * (a directory, recorded as one) and /block's ".." made to name /deep. xfs_repair junks both names ("inconsistent
 * with .. value") and moves /block to lost+found; we keep the name in the first namer in inode order (the root) and
 * drop /leaf's, with a change line that says it is a guess and what xfs_repair does instead: the subtree stays at a
 * path a person knows. The test pins both sides: our repair is clean for xfs_repair -n with /block and every file in
 * it at its path (the file /leaf's entry named before goes to lost+found), undo exact; and xfs_repair on a copy of the
 * same damage moves /block to lost+found, so that a change of either is seen.
 */
class DirectoryParentGuessOracleTest extends OracleEngine {

    @Test
    void aDirectoryWhoseDotDotNamesNeitherNamerKeepsTheFirstAndSaysItIsAGuess() throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of("default");
        List<String> commands = g.resolve(List.of("path /leaf", "dblock 0", "write -d du[2].inumber ${ino:/block}",
                "write -d du[2].filetype 2", "path /block", "dblock 0", "write -d bu[1].inumber ${ino:/deep}"));
        String block = g.resolve("${ino:/block}");
        String root = g.resolve("${ino:/}");
        String deep = g.resolve("${ino:/deep}");

        // theirs: on a copy, xfs_repair (not -n) junks both names and moves /block to lost+found
        Path theirs = dir.resolve("theirs.img");
        SparseFiles.copy(CorpusImages.image("default"), theirs);
        CorpusImages.xfsDb(theirs, commands);
        var repaired = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), theirs.toString()));
        assertEquals(0, repaired.getKey(), repaired.getValue());
        assertTrue(repaired.getValue().contains("inconsistent with .. value (" + deep + ") in ino " + block), repaired.getValue());
        assertTrue(repaired.getValue().contains("disconnected dir inode " + block + ", moving to lost+found"), repaired.getValue());

        // ours: /block stays at /block (repairAndCheck: every file at its path or, unnamed, in lost+found)
        List<String> changes = DirectoryGrowthOracleTest.repairAndCheck(dir, "default", "dotdot-names-neither", commands,
                CorpusImages.image("default"));
        assertTrue(changes.stream().anyMatch(c -> c.contains("the entry naming directory inode " + block + " dropped: that directory"
                + " is named by inode " + root + " too, the first naming it in inode order, a guess: its .. names inode " + deep
                + ", which names it not (xfs_repair drops every name and moves it to lost+found)")), changes.toString());
        assertTrue(changes.contains("directory inode " + block + " rebuilt: .. set to inode " + root + ", the directory that names it"),
                changes.toString());
    }
}
