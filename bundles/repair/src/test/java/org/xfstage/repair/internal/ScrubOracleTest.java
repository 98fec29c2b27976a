package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;

/**
 * The oracle: on every clean corpus image the scrub finds nothing; for every damage recipe (applied with xfs_db -x
 * to a copy of a corpus image) the scrub's verdict agrees with xfs_repair -n.
 */
class ScrubOracleTest extends OracleEngine {




    static Stream<String> geometries() {
        return CorpusImages.geometries().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void cleanImagesHaveNoFindings(String geometry) throws Exception {
        ScrubReport r = engine.scrub(CorpusImages.image(geometry), ScrubOptions.all(), Progress.NONE);
        assertEquals(List.of(), r.findings(), "no false positives on a clean " + geometry + " image");
        assertEquals(18, r.strategies().size());
        assertEquals(0, arrays.liveArrays().size(), "staging is freed after the run");
    }

    /** A superblock copy whose label differs from the primary's: xfs_repair -n passes it, we report it. */
    @org.junit.jupiter.api.Test
    void secondarySuperblockThatDisagreesWithThePrimaryIsFound() throws Exception {
        ScrubReport ours = verdicts("sb-secondary-label", List.of("sb 2", "write -d fname \"xfstage\""), "default").ours();
        assertEquals(1, ours.findings().size(), ours.findings().toString());
        assertEquals("sb-secondary", ours.findings().get(0).structure());
    }

    /**
     * An AGFL entry that names a block the inobt's root uses (and so leaks the block it replaced): xfs_repair -n calls
     * it clean (it rebuilds the AGFL in phase 5 without checking it), but the next btree split would take the inobt's
     * root as a new block. We report both sides, and repair rebuilds the AGFL and free space (RepairOracleTest).
     */
    @org.junit.jupiter.api.Test
    void agflEntryThatIsInUseIsFound() throws Exception {
        Verdicts v = verdicts("agfl-entry-in-use", List.of("agfl 0", "write -d bno[0] 562"), "default");
        assertTrue(!v.theyFindDamage(), "xfs_repair -n misses it (if this fails, it learnt to see it: move the recipe to recipes())");
        assertTrue(v.ours().findings().stream().anyMatch(f -> f.structure().equals("agfl") && f.problem().contains("also used by inobt")),
                v.ours().findings().toString());
    }

    /**
     * A single-block directory whose size is not one directory block: xfs_repair -n passes it, but the kernel
     * (xfs_dir2_isblock) refuses every lookup in it with EFSCORRUPTED. We report it.
     */
    @org.junit.jupiter.api.Test
    void singleBlockDirectoryOfTheWrongSizeIsFound() throws Exception {
        Verdicts v = verdicts("dir-block-size", List.of("path /block", "write -d core.size 8192"), "default");
        assertTrue(!v.theyFindDamage(), "xfs_repair -n misses it (if this fails, it learnt to see it: move the recipe to recipes())");
        // the inode core check and the directory check both see a directory's size
        assertEquals(Set.of("directory", "inode"), v.ours().findings().stream().map(f -> f.structure()).collect(Collectors.toSet()),
                v.ours().findings().toString());
        assertTrue(v.ours().findings().get(0).location().contains("/block"), "the finding names the path: " + v.ours().findings());
    }

    /** Runs xfs_db -x with the recipe's commands; a command xfs_db could not carry out fails the test. */
    private static void applyRecipe(Path img, List<String> commands) throws Exception {
        String out = CorpusImages.xfsDb(img, commands);
        for (String bad : List.of("not found", "parsing error", "invalid", "cannot", "Unknown")) {
            assertTrue(!out.contains(bad), "xfs_db did not apply " + commands + ": " + out);
        }
    }

    /** Damage recipes: a name and the xfs_db -x commands that apply it. */
    static Stream<Arguments> recipes() {
        List<Arguments> r = new ArrayList<>();
        r.add(Arguments.of("agf-freeblks", List.of("agf 0", "write -d freeblks 1000"), Set.of("agf")));
        r.add(Arguments.of("agf-longest", List.of("agf 1", "write -d longest 7"), Set.of("agf")));
        r.add(Arguments.of("agf-btreeblks", List.of("agf 2", "write -d btreeblks 5"), Set.of("agf")));
        r.add(Arguments.of("agf-freeblks-plus-one", List.of("agf 3", "print freeblks", "write -d freeblks 12"), Set.of("agf")));
        r.add(Arguments.of("agi-count", List.of("agi 0", "write -d count 1024"), Set.of("agi")));
        r.add(Arguments.of("agi-freecount", List.of("agi 1", "write -d freecount 3"), Set.of("agi")));
        r.add(Arguments.of("agi-freecount-over-count", List.of("agi 2", "write -d freecount 99999"), Set.of("agi")));
        r.add(Arguments.of("agf-longest-over-freeblks", List.of("agf 1", "write -d longest 999999"), Set.of("agf")));
        r.add(Arguments.of("sb-icount", List.of("sb 0", "write -d icount 1"), Set.of("sb-counters")));
        r.add(Arguments.of("sb-ifree", List.of("sb 0", "write -d ifree 999"), Set.of("sb-counters")));
        r.add(Arguments.of("sb-fdblocks", List.of("sb 0", "write -d fdblocks 1000"), Set.of("sb-counters")));
        r.add(Arguments.of("bnobt-blockcount", List.of("agf 0", "addr bnoroot", "write -d recs[1].blockcount 3"), Set.of("agf", "bnobt", "cntbt")));
        r.add(Arguments.of("bnobt-startblock", List.of("agf 1", "addr bnoroot", "write -d recs[1].startblock 99"), Set.of("agf", "bnobt", "cntbt")));
        r.add(Arguments.of("cntbt-blockcount", List.of("agf 1", "addr cntroot", "write -d recs[1].blockcount 2"), Set.of("cntbt")));
        r.add(Arguments.of("cntbt-startblock", List.of("agf 2", "addr cntroot", "write -d recs[1].startblock 77"), Set.of("cntbt")));
        r.add(Arguments.of("inobt-freecount", List.of("agi 0", "addr root", "write -d recs[1].freecount 5"), Set.of("agi", "finobt", "inobt")));
        r.add(Arguments.of("inobt-free-mask", List.of("agi 0", "addr root", "write -d recs[1].free 1"), Set.of("inobt")));
        r.add(Arguments.of("finobt-freecount", List.of("agi 0", "addr free_root", "write -d recs[1].freecount 9"), Set.of("finobt")));
        r.add(Arguments.of("agfl-entry", List.of("agfl 0", "write -d bno[1] 3"), Set.of("bnobt")));
        r.add(Arguments.of("agf-crc", List.of("agf 2", "write -c freeblks 5"), Set.of("agf")));
        r.add(Arguments.of("agi-crc", List.of("agi 3", "write -c freecount 1"), Set.of("agi")));
        r.add(Arguments.of("bnobt-crc", List.of("agf 0", "addr bnoroot", "write -c recs[1].blockcount 3"), Set.of("agf", "bnobt", "cntbt")));
        r.add(Arguments.of("inobt-magic", List.of("agi 0", "addr root", "write -d magic 0"), Set.of("agi", "bnobt", "finobt", "inobt", "refcountbt", "sb-counters")));
        // the AGF's free list indexes must agree (xfs_repair: "freeblk count 4 != flcount 2"); the walk, which reads
        // flcount slots from flfirst, also sees free blocks the bnobt does not list, and past the list's end an empty slot
        r.add(Arguments.of("agf-flcount", List.of("agf 1", "write -d flcount 2"), Set.of("agf", "bnobt")));
        r.add(Arguments.of("agf-flfirst", List.of("agf 0", "write -d flfirst 1"), Set.of("agf", "agfl", "bnobt")));
        // an AG header's length is the AG's: the last AG's one block short (it is rebuilt, not trusted)
        r.add(Arguments.of("agf-length", List.of("agf 3", "write -d length 32767"), Set.of("agf")));
        r.add(Arguments.of("agi-length", List.of("agi 2", "write -d length 32767"), Set.of("agi")));
        // the corpus's real sharing (AG 0, 4 KiB blocks): [1752,4] mapped 3 times, [1756,4] twice
        r.add(Arguments.of("refcount-count", List.of("agf 0", "addr refcntroot", "write -d recs[1].refcount 2"), Set.of("refcountbt")));
        r.add(Arguments.of("refcount-missing", List.of("agf 0", "addr refcntroot", "write -d numrecs 1"), Set.of("refcountbt")));
        r.add(Arguments.of("refcount-unshared", List.of("agf 0", "addr refcntroot", "write -d recs[2].startblock 1800"), Set.of("refcountbt")));
        r.add(Arguments.of("refcount-blockcount", List.of("agf 0", "addr refcntroot", "write -d recs[2].blockcount 6"), Set.of("refcountbt")));
        r.add(Arguments.of("refcount-crc", List.of("agf 0", "addr refcntroot", "write -c recs[1].refcount 9"), Set.of("refcountbt")));
        r.add(Arguments.of("refcount-cowflag", List.of("agf 0", "addr refcntroot", "write -d recs[2].cowflag 1"), Set.of("bnobt", "refcountbt")));
        r.add(Arguments.of("agi-unlinked-garbage", List.of("agi 0", "write -d unlinked[3] 200"), Set.of("agi")));
        r.add(Arguments.of("agi-unlinked-in-use", List.of("agi 0", "write -d unlinked[4] 132"), Set.of("agi")));
        r.add(Arguments.of("agf-refcntblocks", List.of("agf 0", "write -d refcntblocks 5"), Set.of("agf")));
        // AG headers xfs_repair rebuilds (phase 5): one that does not decode, and a root pointer that leads to another
        // block (a stale refcountbt block left in free space); each found in its own header, the walks going on
        r.add(Arguments.of("agf-magic", List.of("agf 1", "write -d magicnum 0"), Set.of("agf")));
        r.add(Arguments.of("agi-magic", List.of("agi 1", "write -d magicnum 0"), Set.of("agi")));
        r.add(Arguments.of("agi-root-elsewhere", List.of("agi 1", "write -d root 5"), Set.of("agi")));
        r.add(Arguments.of("agf-bnoroot-elsewhere", List.of("agf 1", "write -d bnoroot 5"), Set.of("agf")));
        // a file's extent moved one block onto its neighbour's (the fuzz case a repair once said clean): the two files
        // share a block without the reflink flag, which xfs_repair -n wants set, beside the missing refcount record
        r.add(Arguments.of("extent-onto-neighbour", List.of("path /size-65553", "fuzz -d u3.bmx[0].startblock lastbit"),
                Set.of("bnobt", "refcountbt", "sb-counters")));
        r.add(Arguments.of("shared-without-refcount", List.of("path /size-4097", "write -d u3.bmx[0].startblock 1752"), Set.of("bnobt", "refcountbt", "sb-counters")));
        superblockRecipes().forEach(a -> r.add(Arguments.of(a.get()[0], a.get()[1], Set.of(a.get()[0].toString().startsWith("sb-primary")
                ? "sb-primary" : "sb-secondary"))));
        return r.stream();
    }

    /**
     * Damage to the primary superblock that xfs_repair's phase 1 finds (a failed check: the copies are searched for
     * and the primary would be rewritten from them; or a geometry the copies outvote) and damage to one copy while
     * the primary is sound. Each is reported under sb-primary or sb-secondary alone: the filesystem is opened on the
     * agreed superblock, so nothing else looks wrong. The default geometry has no meta_uuid feature (the corpus has
     * no geometry with one): there a nonzero sb_meta_uuid is garbage past the superblock's last field; one recipe turns the
     * feature on first (xfs_db's uuid generate, as xfs_admin -U does).
     */
    static Stream<Arguments> superblockRecipes() {
        return Stream.of(
                Arguments.of("sb-primary-magic", List.of("sb 0", "write -d magicnum 0")),
                Arguments.of("sb-primary-crc", List.of("sb 0", "write -c imax_pct 30")),
                Arguments.of("sb-primary-inopblock", List.of("sb 0", "write -d inopblock 9")),
                Arguments.of("sb-primary-agblklog", List.of("sb 0", "write -d agblklog 14")),
                Arguments.of("sb-primary-sectsize", List.of("sb 0", "write -d sectsize 1024")),
                Arguments.of("sb-primary-logsectlog", List.of("sb 0", "write -d logsectlog 9")),
                Arguments.of("sb-primary-logblocks", List.of("sb 0", "write -d logblocks 1000")),
                Arguments.of("sb-primary-meta-uuid", List.of("sb 0", "write -d meta_uuid 11111111-2222-3333-4444-555555555555")),
                // a new uuid (as xfs_admin -U) turns the meta_uuid feature on: then sb_meta_uuid is what the AG headers carry
                Arguments.of("sb-primary-meta-uuid-feature", List.of("uuid generate", "sb 0",
                        "write -d meta_uuid 11111111-2222-3333-4444-555555555555")),
                Arguments.of("sb-primary-blocksize", List.of("sb 0", "write -d blocksize 8192")),
                Arguments.of("sb-primary-fuzz-dblocks", List.of("sb 0", "fuzz -d dblocks firstbit")),
                Arguments.of("sb-primary-fuzz-agcount", List.of("sb 0", "fuzz -d agcount add")),
                Arguments.of("sb-primary-fuzz-agblocks", List.of("sb 0", "fuzz -d agblocks middlebit")),
                Arguments.of("sb-primary-fuzz-logstart", List.of("sb 0", "fuzz -d logstart lastbit")),
                Arguments.of("sb-primary-fuzz-inodesize", List.of("sb 0", "fuzz -d inodesize ones")),
                Arguments.of("sb-primary-fuzz-versionnum", List.of("sb 0", "fuzz -d versionnum firstbit")),
                Arguments.of("sb-primary-fuzz-uuid", List.of("sb 0", "fuzz -d uuid firstbit")),
                Arguments.of("sb-primary-fuzz-incompat", List.of("sb 0", "fuzz -d features_incompat lastbit")),
                Arguments.of("sb-primary-fuzz-spino-align", List.of("sb 0", "fuzz -d spino_align add")),
                // the inode numbers only the primary carries: the realtime inodes follow the root (xfs_repair's
                // calculated values), and without quotas every quota inode is 0 or NULLFSINO
                Arguments.of("sb-primary-rbmino", List.of("sb 0", "write -d rbmino 128")),
                Arguments.of("sb-primary-fuzz-rsumino", List.of("sb 0", "fuzz -d rsumino firstbit")),
                Arguments.of("sb-primary-rootino", List.of("sb 0", "write -d rootino 129")),
                Arguments.of("sb-primary-uquotino", List.of("sb 0", "write -d uquotino 131")),
                Arguments.of("sb-secondary-logblocks", List.of("sb 2", "write -d logblocks 1000")),
                // a copy mkfs made has no quota inodes or flags, and the primary's flags and features
                Arguments.of("sb-secondary-gquotino", List.of("sb 2", "write -d gquotino 131")),
                Arguments.of("sb-secondary-qflags", List.of("sb 1", "write -d qflags 1")),
                Arguments.of("sb-secondary-flags", List.of("sb 3", "write -d flags 1")),
                Arguments.of("sb-secondary-fuzz-ro-compat", List.of("sb 2", "fuzz -d features_ro_compat lastbit")),
                Arguments.of("sb-secondary-magic", List.of("sb 2", "write -d magicnum 0")),
                Arguments.of("sb-secondary-crc", List.of("sb 3", "write -c imax_pct 30")));
    }

    /**
     * A label only the primary carries, against its three copies: xfs_repair -n passes it (it compares the copies'
     * geometry only), but the copies outvote the primary, which is reported and would be rewritten from them, not
     * copied over them.
     */
    @org.junit.jupiter.api.Test
    void primaryAloneAgainstItsCopiesIsFound() throws Exception {
        Verdicts v = verdicts("sb-primary-label", List.of("sb 0", "write -d fname \"xfstage\""), "default");
        assertTrue(!v.theyFindDamage(), "xfs_repair -n misses it (if this fails, it learnt to see it: move the recipe to superblockRecipes())");
        assertEquals(List.of("sb-primary"), v.ours().findings().stream().map(f -> f.structure()).distinct().toList(), v.ours().findings().toString());
    }

    /**
     * Two of the three copies fail their checks: no geometry can be agreed on, xfs_repair -n cannot run (exit 1,
     * "could not find valid secondary superblock") and our scrub refuses to run, in one line.
     */
    @org.junit.jupiter.api.Test
    void noAgreementIsRefusedAsXfsRepairRefuses() throws Exception {
        Path img = dir.resolve("no-agreement.img");
        SparseFiles.copy(CorpusImages.image("default"), img);
        applyRecipe(img, List.of("sb 1", "write -d magicnum 0", "sb 2", "write -d magicnum 0"));
        var repair = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        assertTrue(repair.getKey() != 0 && repair.getValue().contains("could not find valid secondary superblock"), repair.getValue());
        org.xfstage.api.repair.RepairException e = org.junit.jupiter.api.Assertions.assertThrows(org.xfstage.api.repair.RepairException.class,
                () -> engine.scrub(img, ScrubOptions.all(), Progress.NONE));
        assertTrue(e.getMessage().contains("not enough superblock copies verify") && !e.getMessage().contains("\n"), e.getMessage());
        assertTrue(arrays.liveArrays().isEmpty());
    }

    /**
     * The namespace matrix ({@link NamespaceRecipes}): with {@code -Dxfstage.matrix=full} every recipe on every
     * geometry (where a recipe does not apply, it is skipped with its reason); by default each recipe on one geometry,
     * the recipes taking the seven in turn (a recipe that does not apply to its turn's geometry takes the next one it
     * applies to), so every geometry runs a seventh of the catalogue and the run costs what one geometry's would.
     */
    static Stream<Arguments> namespaceMatrix() throws Exception {
        // -Dxfstage.recipes=REGEX narrows the run to the recipes whose names match (while working on a check)
        String only = System.getProperty("xfstage.recipes", ".*");
        List<NamespaceRecipes.Recipe> all = NamespaceRecipes.all().stream().filter(r -> r.name().matches(only)).toList();
        return NamespaceRecipes.inTurn(all, 1, "full".equals(System.getProperty("xfstage.matrix"))).stream().map(Arguments::of);
    }

    /**
     * One namespace recipe on one geometry: the verdict is xfs_repair -n's (or, for damage it passes, ours alone is
     * damaged), the findings are reported under exactly the structures the recipe names for the geometry, and where the
     * recipe names a phrase, one finding says it.
     */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("namespaceMatrix")
    void namespaceVerdictAgreesWithXfsRepair(NamespaceRecipes.Recipe recipe, String geometry) throws Exception {
        NamespaceRecipes.Geometry g = NamespaceRecipes.Geometry.of(geometry);
        String why = recipe.notApplicable().apply(g);
        if (why != null) {
            System.out.printf("ORACLE %-28s on %-18s not applicable: %s%n", recipe.name(), geometry, why);
            org.junit.jupiter.api.Assumptions.abort(recipe.name() + " does not apply on " + geometry + ": " + why);
        }
        List<String> commands = g.resolve(recipe.commands());
        String name = recipe.name() + "@" + geometry;
        ScrubReport ours;
        if (recipe.verdict() == NamespaceRecipes.Verdict.AGREES) {
            ours = verdictAgreesWithXfsRepair(name, commands, geometry, recipe.structures(g));
        } else {
            Verdicts v = verdicts(name, commands, geometry);
            assertTrue(!v.theyFindDamage(), name + ": xfs_repair -n misses it (if this fails, it learnt to see it: make the recipe agree)\n"
                    + v.xfsRepairOutput());
            ours = v.ours();
            assertEquals(new TreeSet<>(recipe.structures(g)), ours.findings().stream().map(f -> f.structure())
                    .collect(Collectors.toCollection(TreeSet::new)), name + ": reported under " + ours.findings());
        }
        if (recipe.problem() != null) {
            String problem = g.resolve(recipe.problem());
            assertTrue(ours.findings().stream().anyMatch(f -> f.structure().equals(recipe.part()) && f.problem().contains(problem)),
                    name + ": a " + recipe.part() + " finding says \"" + problem + "\": " + ours.findings());
        }
    }

    /** Recipes on the rmapbt geometry: the reverse mappings themselves. */
    static Stream<Arguments> rmapRecipes() {
        return Stream.of(
                Arguments.of("rmapbt-owner", List.of("agf 1", "addr rmaproot", "write -d recs[3].owner 12345"), Set.of("rmapbt")),
                Arguments.of("rmapbt-blockcount", List.of("agf 2", "addr rmaproot", "write -d recs[6].blockcount 100"), Set.of("rmapbt")),
                Arguments.of("rmapbt-crc", List.of("agf 3", "addr rmaproot", "write -c recs[1].startblock 9"), Set.of("rmapbt")),
                Arguments.of("rmapbt-offset", List.of("agf 0", "addr rmaproot", "addr ptrs[2]", "write -d recs[9].offset 77"), Set.of("rmapbt")),
                Arguments.of("rmapbt-bmbt-flag", List.of("agf 0", "addr rmaproot", "addr ptrs[1]", "write -d recs[17].bmbtblock 0"), Set.of("rmapbt")),
                Arguments.of("rmapbt-unwritten", List.of("agf 0", "addr rmaproot", "addr ptrs[1]", "write -d recs[13].extentflag 1"), Set.of("rmapbt")),
                Arguments.of("rmapbt-node-high-key", List.of("agf 0", "addr rmaproot", "write -d keys[2].startblock_hi 1300"), Set.of("rmapbt")),
                Arguments.of("rmapbt-attr-fork", List.of("agf 0", "addr rmaproot", "addr ptrs[1]", "write -d recs[14].attrfork 1"), Set.of("rmapbt")),
                Arguments.of("rmapbt-node-pointer", List.of("agf 0", "addr rmaproot", "write -d ptrs[2] 0"), Set.of("agf", "bnobt", "rmapbt")),
                Arguments.of("agf-rmapblocks", List.of("agf 0", "write -d rmapblocks 5"), Set.of("agf")),
                // inobtcount: the AGI counts its trees' blocks
                Arguments.of("agi-iblocks-rmapbt", List.of("agi 0", "write -d ino_blocks 2"), Set.of("agi")),
                Arguments.of("agi-fblocks-rmapbt", List.of("agi 1", "write -d fino_blocks 5"), Set.of("agi")),
                Arguments.of("refcount-count-rmapbt", List.of("agf 0", "addr refcntroot", "write -d recs[2].refcount 3"), Set.of("refcountbt")),
                // AG headers: block 5 of AG 1 is a stale rmapbt leaf here
                Arguments.of("agf-magic-rmapbt", List.of("agf 1", "write -d magicnum 0"), Set.of("agf")),
                Arguments.of("agf-crc-rmapbt", List.of("agf 2", "write -c freeblks 5"), Set.of("agf")),
                Arguments.of("agi-magic-rmapbt", List.of("agi 1", "write -d magicnum 0"), Set.of("agi")),
                Arguments.of("agi-crc-rmapbt", List.of("agi 3", "write -c freecount 1"), Set.of("agi")),
                Arguments.of("agi-root-elsewhere-rmapbt", List.of("agi 1", "write -d root 5"), Set.of("agi")),
                Arguments.of("agf-bnoroot-elsewhere-rmapbt", List.of("agf 1", "write -d bnoroot 5"), Set.of("agf")));
    }

    /**
     * An AGFL whose header is damaged (magic, seqno, uuid): xfs_repair -n prints "Metadata corruption detected" but
     * exits 0 (it rebuilds the AGFL in phase 5 anyway), while the kernel's verifier would refuse the AGFL and with it
     * every allocation in the AG. We report it (the AGFL cannot be read, so its blocks look free to the bnobt check,
     * and on the rmapbt geometry unmapped to the rmapbt check), and repair rebuilds it (RepairOracleTest).
     */
    static Stream<Arguments> agflHeaderRecipes() {
        Set<String> reported = Set.of("agfl", "bnobt");
        Set<String> withRmapbt = Set.of("agfl", "bnobt", "rmapbt");
        return Stream.of(
                Arguments.of("agfl-magic", List.of("agfl 1", "write -d magicnum 0"), "default", reported),
                Arguments.of("agfl-seqno", List.of("agfl 1", "write -d seqno 3"), "default", reported),
                Arguments.of("agfl-uuid", List.of("agfl 2", "write -d uuid 01234567-89ab-cdef-0123-456789abcdef"), "default", reported),
                Arguments.of("agfl-magic-rmapbt", List.of("agfl 0", "write -d magicnum 0"), "rmapbt", withRmapbt),
                Arguments.of("agfl-seqno-rmapbt", List.of("agfl 1", "write -d seqno 3"), "rmapbt", withRmapbt),
                Arguments.of("agfl-uuid-rmapbt", List.of("agfl 2", "write -d uuid 01234567-89ab-cdef-0123-456789abcdef"), "rmapbt",
                        withRmapbt));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("agflHeaderRecipes")
    void agflHeaderDamageThatXfsRepairLetsPassIsFound(String recipe, List<String> commands, String geometry, Set<String> structures)
            throws Exception {
        Verdicts v = verdicts(recipe, commands, geometry);
        assertTrue(!v.theyFindDamage() && v.xfsRepairOutput().contains("Metadata corruption detected"),
                "xfs_repair -n sees it and lets it pass (if this fails, it learnt to fail it: move the recipe to recipes())\n"
                        + v.xfsRepairOutput());
        assertEquals(new TreeSet<>(structures), v.ours().findings().stream().map(f -> f.structure())
                .collect(Collectors.toCollection(TreeSet::new)), recipe + ": reported under " + v.ours().findings());
        assertTrue(v.ours().findings().stream().anyMatch(f -> f.structure().equals("agfl") && f.location().equals("AG headers")),
                v.ours().findings().toString());
    }

    /**
     * Damage xfs_repair -n does not report but that is real: a node key that disagrees with the first key of its
     * child (the tree still sorts, so lookups for the keys in between go to the wrong leaf). We must find it.
     */
    @org.junit.jupiter.api.Test
    void nodeKeyThatDisagreesWithItsChildIsFound() throws Exception {
        ScrubReport ours = verdicts("rmapbt-node-key", List.of("agf 0", "addr rmaproot", "write -d keys[2].startblock 7"), "rmapbt").ours();
        assertTrue(!ours.clean() && ours.findings().get(0).problem().contains("does not match its key in the parent"),
                "the node key damage is found: " + ours.findings());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rmapRecipes")
    void rmapVerdictAgreesWithXfsRepair(String recipe, List<String> commands, Set<String> structures) throws Exception {
        verdictAgreesWithXfsRepair(recipe, commands, "rmapbt", structures);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recipes")
    void verdictAgreesWithXfsRepair(String recipe, List<String> commands, Set<String> structures) throws Exception {
        verdictAgreesWithXfsRepair(recipe, commands, "default", structures);
    }

    /** The verdicts agree, and the damage is reported under the structures named (all of them, no others). */
    private ScrubReport verdictAgreesWithXfsRepair(String recipe, List<String> commands, String geometry, Set<String> structures)
            throws Exception {
        Verdicts v = verdicts(recipe, commands, geometry);
        assertEquals(v.theyFindDamage(), !v.ours().clean(), recipe + ": xfs_repair -n exit " + v.xfsRepairExit()
                + ", our findings " + v.ours().findings() + "\n" + v.xfsRepairOutput());
        assertEquals(new TreeSet<>(structures), v.ours().findings().stream().map(f -> f.structure())
                .collect(Collectors.toCollection(TreeSet::new)), recipe + ": reported under " + v.ours().findings());
        assertTrue(arrays.liveArrays().isEmpty());
        return v.ours();
    }

    /** Both verdicts on one damaged copy of a corpus image. */
    private record Verdicts(int xfsRepairExit, String xfsRepairOutput, ScrubReport ours) {
        boolean theyFindDamage() {
            return xfsRepairExit != 0;
        }
    }

    /** Damages a copy of the geometry's image with the recipe, asks xfs_repair -n and the scrub, prints the row. */
    private Verdicts verdicts(String recipe, List<String> commands, String geometry) throws Exception {
        Path img = dir.resolve(recipe + ".img");
        SparseFiles.copy(CorpusImages.image(geometry), img);
        applyRecipe(img, commands);
        var repair = CorpusImages.status(List.of(CorpusImages.tool("xfs_repair"), "-n", img.toString()));
        ScrubReport ours;
        try {
            ours = engine.scrub(img, ScrubOptions.all(), Progress.NONE);
        } catch (org.xfstage.api.repair.RepairException e) {
            throw new AssertionError(recipe + ": scrub could not run (" + e.getMessage() + "); xfs_repair -n exit "
                    + repair.getKey(), e);
        }
        System.out.printf("ORACLE %-28s xfs_repair -n: %-7s xfstage: %-7s %s%n", recipe, repair.getKey() != 0 ? "damaged" : "clean",
                ours.clean() ? "clean" : "damaged", ours.findings().isEmpty() ? "" : ours.findings().get(0));
        return new Verdicts(repair.getKey(), repair.getValue(), ours);
    }
}
