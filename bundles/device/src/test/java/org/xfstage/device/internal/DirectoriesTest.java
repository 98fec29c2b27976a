package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectoryProblem.Kind;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.staging.Progress;

/**
 * The verifying directory reader: on the clean corpus (every form, every geometry) no problem; on copies damaged with
 * xfs_db -x, the damage reported as the kind it is; the name hash against known values.
 */
class DirectoriesTest {
    @TempDir
    Path dir;

    static Stream<String> geometries() {
        return Corpus.GEOMETRIES.keySet().stream();
    }

    /** What a walk reported. */
    static final class Collected implements DirectorySink {
        final List<DirectoryEntry> entries = new ArrayList<>();
        final List<DirectoryProblem> problems = new ArrayList<>();
        final Map<Long, String> paths = new HashMap<>();
        final Map<Long, FileType> children = new HashMap<>();

        @Override
        public void directory(long ino, String path) {
            paths.put(ino, path);
        }

        @Override
        public void entry(DirectoryEntry entry) {
            entries.add(entry);
        }

        @Override
        public void problem(DirectoryProblem problem) {
            problems.add(problem);
        }

        @Override
        public void child(long ino, FileType type) {
            children.put(ino, type);
        }

        long entriesOf(String path) {
            long ino = paths.entrySet().stream().filter(e -> e.getValue().equals(path)).findFirst().orElseThrow().getKey();
            return entries.stream().filter(e -> e.directory() == ino).count();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void cleanDirectoriesOfEveryFormHaveNoProblems(String geometry) throws Exception {
        Path img = DeviceCorpusTest.image(geometry);
        Collected c = new Collected();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            fs.directoryTree(Progress.NONE, c);
        }
        assertEquals(List.of(), c.problems, geometry);
        assertEquals(1 + 3, c.entriesOf("/sf"), "short form: .. and 3 entries");
        assertEquals(2 + 30, c.entriesOf("/block"));
        assertEquals(2 + 300, c.entriesOf("/leaf"));
        assertEquals(2 + 3000, c.entriesOf("/node"));
        assertTrue(c.children.values().stream().noneMatch(t -> t == null), "every named inode is in use");
        for (DirectoryEntry e : c.entries) {
            if (!e.isDotDot() || e.offset() >= 0) {
                assertTrue(e.offset() >= 64, e.toString());
            }
        }
    }

    /**
     * On an ASCII case-insensitive filesystem made by mkfs.xfs -p, names with bytes in the Latin-1 capitals' range
     * carry the hash of an ASCII-only fold (older xfsprogs), not the one libxfs uses now: both are consistent.
     */
    @Test
    void caseInsensitiveNamesHashedEitherWayAreClean() throws Exception {
        Path img = Corpus.image("ascii-ci-v1", Corpus.mixedCaseTree(), List.of("-n", "version=ci"));
        Collected c = new Collected();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            assertTrue(fs.info().features().contains("ascii-ci"));
            fs.directoryTree(Progress.NONE, c);
        }
        assertEquals(List.of(), c.problems);
        assertEquals(2 + 300, c.entriesOf("/Dir-300"));
        byte[] name = c.entries.stream().filter(e -> e.nameString().startsWith("Entry-7-")).findFirst().orElseThrow().name();
        assertTrue(DirHash.hash(name, 0, name.length, true) != DirHash.hashAsciiOnly(name, 0, name.length),
                "the names exercise both folds");
    }

    /** Damage recipes: name, geometry, directory, xfs_db -x commands (from the directory's inode), the kind expected. */
    static Stream<Arguments> damage() {
        return Stream.of(
                Arguments.of("sf-count-high", "default", "/sf", List.of("write -d u3.sfdir3.hdr.count 4"), Kind.SHORT_FORM),
                Arguments.of("sf-count-low", "default", "/sf", List.of("write -d u3.sfdir3.hdr.count 2"), Kind.SIZE),
                Arguments.of("sf-i8count", "default", "/sf", List.of("write -d u3.sfdir3.hdr.i8count 1"), Kind.SHORT_FORM),
                Arguments.of("sf-parent-invalid", "default", "/sf", List.of("write -d u3.sfdir3.hdr.parent.i4 0"), Kind.INODE_NUMBER),
                Arguments.of("sf-offset-order", "default", "/sf", List.of("write -d u3.sfdir3.list[1].offset 0x10"), Kind.SHORT_FORM),
                Arguments.of("sf-name-slash", "default", "/sf", List.of("write -d u3.sfdir3.list[1].name \"entry/00001-with-a-longer-name\""), Kind.NAME),
                Arguments.of("block-name", "default", "/block", List.of("dblock 0", "write -d bu[3].name \"Xntry-00001-with-a-longer-name\""), Kind.HASH),
                Arguments.of("block-name-slash", "default", "/block", List.of("dblock 0", "write -d bu[3].name \"entry/00001-with-a-longer-name\""), Kind.NAME),
                Arguments.of("block-inumber", "default", "/block", List.of("dblock 0", "write -d bu[3].inumber 5"), Kind.INODE_NUMBER),
                Arguments.of("block-ftype", "default", "/block", List.of("dblock 0", "write -d bu[3].filetype 12"), Kind.FILE_TYPE),
                Arguments.of("block-tag", "default", "/block", List.of("dblock 0", "write -d bu[3].tag 0x70"), Kind.ENTRY),
                Arguments.of("block-dot", "default", "/block", List.of("dblock 0", "write -d bu[0].inumber 128"), Kind.DOT_ENTRIES),
                Arguments.of("block-bestfree", "default", "/block", List.of("dblock 0", "write -d bhdr.bestfree[0].length 0x800"), Kind.BESTFREE),
                Arguments.of("block-leaf-hash", "default", "/block", List.of("dblock 0", "write -d bleaf[3].hashval 0x7bd71625"), Kind.HASH),
                Arguments.of("block-leaf-address", "default", "/block", List.of("dblock 0", "write -d bleaf[3].address 0x91"), Kind.LEAF_ADDRESS),
                Arguments.of("block-stale", "default", "/block", List.of("dblock 0", "write -d btail.stale 1"), Kind.LEAF_COUNT),
                Arguments.of("block-crc", "default", "/block", List.of("dblock 0", "write -c bu[3].inumber 655491"), Kind.HEADER),
                Arguments.of("block-size", "default", "/block", List.of("write -d core.size 8192"), Kind.SIZE),
                Arguments.of("leaf-dotdot-self", "default", "/leaf", List.of("dblock 0", "write -d du[1].inumber 786560"), Kind.DOT_ENTRIES),
                Arguments.of("leaf-data-magic", "default", "/leaf", List.of("dblock 1", "write -d dhdr.hdr.magic 0x58444234"), Kind.HEADER),
                Arguments.of("leaf-hash-order", "default", "/leaf", List.of("dblock 8388608", "write -d lents[2].hashval 0x1000"), Kind.HASH_ORDER),
                Arguments.of("leaf-bests", "default", "/leaf", List.of("dblock 8388608", "write -d lbests[1] 0x20"), Kind.LEAF_BESTS),
                Arguments.of("leaf-bestcount", "default", "/leaf", List.of("dblock 8388608", "write -d ltail.bestcount 3"), Kind.LEAF_BESTS),
                Arguments.of("leaf-trash", "default", "/leaf", List.of("dblock 8388608", "write -d lents[100].address 0x12345"), Kind.LEAF_ADDRESS),
                Arguments.of("leaf-pad", "default", "/leaf", List.of("dblock 8388608", "write -d lhdr.pad 7"), Kind.HEADER),
                Arguments.of("leaf-size", "default", "/leaf", List.of("write -d core.size 12288"), Kind.SIZE),
                Arguments.of("leaf-size-local", "default", "/leaf", List.of("write -d core.size 300"), Kind.FORMAT),
                Arguments.of("node-key", "default", "/node", List.of("dblock 8388608", "write -d nbtree[3].hashval 0x7b9fb6e0"), Kind.NODE),
                Arguments.of("node-pointer", "default", "/node", List.of("dblock 8388608", "write -d nbtree[3].before 8388610"), Kind.NODE),
                Arguments.of("node-leaf-stale", "default", "/node", List.of("dblock 8388609", "write -d lhdr.stale 2"), Kind.LEAF_COUNT),
                Arguments.of("free-bests", "default", "/node", List.of("dblock 16777216", "write -d fbests[5] 0x20"), Kind.FREE_INDEX),
                Arguments.of("free-nused", "default", "/node", List.of("dblock 16777216", "write -d fhdr.nused 35"), Kind.FREE_INDEX),
                Arguments.of("free-nvalid", "default", "/node", List.of("dblock 16777216", "write -d fhdr.nvalid 30"), Kind.FREE_INDEX),
                Arguments.of("n8192-node-key", "n8192", "/node", List.of("dblock 8388608", "write -d nbtree[1].hashval 0x7bdf06a0"), Kind.NODE),
                Arguments.of("n8192-free-bests", "n8192", "/node", List.of("dblock 16777216", "write -d fbests[2] 0x30"), Kind.FREE_INDEX),
                Arguments.of("n8192-block-leaf-hash", "n8192", "/block", List.of("dblock 0", "write -d bleaf[3].hashval 7"), Kind.HASH),
                Arguments.of("b1024-leaf-name", "b1024", "/leaf", List.of("dblock 0", "write -d du[3].name \"Xntry-00001-with-a-longer-name\""), Kind.HASH),
                Arguments.of("b1024-free-nused", "b1024", "/node", List.of("dblock 67108864", "write -d fhdr.nused 3"), Kind.FREE_INDEX));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damage")
    void damageIsReportedAsWhatItIs(String name, String geometry, String path, List<String> commands, Kind expected) throws Exception {
        Path img = dir.resolve(name + ".img");
        SparseFiles.copy(DeviceCorpusTest.image(geometry), img);
        long ino;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            ino = Corpus.lookup(fs, path);
        }
        List<String> cmd = new ArrayList<>(List.of(Corpus.tool("xfs_db"), "-x", "-c", "inode " + ino));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(img.toString());
        String out = Corpus.run(cmd);
        assertTrue(!out.contains("not found") && !out.contains("parsing error") && !out.contains("unable"), "xfs_db applied " + commands + ": " + out);
        Collected c = new Collected();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            fs.directory(ino, c);
        }
        assertTrue(c.problems.stream().anyMatch(p -> p.kind() == expected && p.directory() == ino), name + ": " + c.problems);
    }

    /**
     * The walk tells each directory and each named inode with the link count it read, so that one walk can count links
     * and check directories (the engine's): the same inodes and counts as the manifest's walk reads.
     */
    @Test
    void theWalkTellsTheLinkCountOfEveryInodeItReaches() throws Exception {
        Map<Long, Long> told = new HashMap<>();
        Map<Long, Long> manifest = new HashMap<>();
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
            fs.directoryTree(Progress.NONE, new DirectorySink() {
                @Override
                public void entry(DirectoryEntry entry) {
                }

                @Override
                public void problem(DirectoryProblem problem) {
                }

                @Override
                public void directory(long ino, String path, long nlink) {
                    told.put(ino, nlink);
                }

                @Override
                public void child(long ino, FileType type, long nlink) {
                    told.put(ino, nlink);
                }
            });
            fs.manifest(false, Progress.NONE, e -> manifest.put(e.inode(), (long) e.nlink()));
        }
        assertTrue(manifest.size() > 3000, "the corpus tree: " + manifest.size());
        assertEquals(manifest, told);
    }

    @Test
    void theNameHashIsXfsDaHashname() {
        assertEquals(0x2e, hash("."));
        assertEquals(0x172e, hash(".."));
        assertEquals(0x61, hash("a"));
        assertEquals(0x0c38b1e4, hash("abcd"));
        assertEquals(0x021aa60c, hash("lost+found"));
        assertEquals(0x9d168f12, hash("hello.txt"));
    }

    @Test
    void theCaseInsensitiveHashFoldsAsciiAndLatin1Letters() {
        byte[] upper = "Hello.TXT".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(hash("hello.txt"), DirHash.hash(upper, 0, upper.length, true));
        byte[] latin = {(byte) 0xC9, (byte) 0xD7}; // E acute folds, the multiplication sign does not
        byte[] folded = {(byte) 0xE9, (byte) 0xD7};
        assertEquals(DirHash.hash(folded, 0, 2, false), DirHash.hash(latin, 0, 2, true));
        assertTrue(DirHash.hash(upper, 0, upper.length, false) != hash("hello.txt"));
    }

    private static int hash(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return DirHash.hash(b, 0, b.length, false);
    }
}
