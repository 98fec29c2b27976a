package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.OpenOptions;

/**
 * The verifying inode reader on real images: every inode of every clean corpus image (sparse files, blocks past
 * EOF, shared blocks, a bmbt file, remote symlinks) reports nothing, and each damage made with xfs_db -x is reported
 * as the rule it breaks, on the inode it was made in. xfs_repair -n must call every damaged image damaged too (so a
 * test cannot pass by inventing a rule), and every attribute image made clean with xfs_db attr_set clean.
 */
class InodeChecksTest {
    @TempDir
    Path dir;

    static Stream<String> geometries() {
        return Corpus.GEOMETRIES.keySet().stream();
    }

    /** Every problem of every inode in every inode chunk of the image. */
    static List<InodeProblem> everyInode(Path img) throws Exception {
        List<InodeProblem> out = new ArrayList<>();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            for (int agno = 0; agno < fs.geometry.agCount; agno++) {
                int a = agno;
                List<Long> inodes = new ArrayList<>();
                fs.walkBtree(agno, Btree.INO, c -> {
                    for (int i = 0; i < InodeChunk.INODES; i++) {
                        if (!c.isHole(i)) {
                            inodes.add(fs.inodeNumber(a, c.startino() + i));
                        }
                    }
                });
                for (long ino : inodes) {
                    fs.checkInode(ino, out::add);
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void cleanImagesReportNothing(String geometry) throws Exception {
        List<InodeProblem> found = everyInode(DeviceCorpusTest.image(geometry));
        assertEquals(List.of(), found.stream().map(p -> "inode " + p.ino() + ": " + p.describe()).toList(),
                "no false alarm on a clean " + geometry + " image");
    }

    /** A copy of a corpus image with xfs_db -x commands applied; fails when xfs_db did not apply them. */
    private Path damaged(String geometry, List<String> commands) throws Exception {
        Path img = dir.resolve(geometry + "-" + Math.abs(commands.hashCode()) + ".img");
        String out = Corpus.damagedCopy(DeviceCorpusTest.image(geometry), img, commands);
        for (String bad : List.of("not found", "parsing error", "invalid", "cannot", "Unknown")) {
            assertTrue(!out.contains(bad), "xfs_db did not apply " + commands + ": " + out);
        }
        return img;
    }

    private static long ino(Path img, String path) throws Exception {
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            return Corpus.lookup(fs, path);
        }
    }

    private static int xfsRepairN(Path img) throws Exception {
        return Corpus.status(List.of(Corpus.tool("xfs_repair"), "-n", img.toString())).getKey();
    }

    /** Damage recipes: geometry, path of the inode damaged, xfs_db commands, the kinds it must report. */
    static Stream<Arguments> damage() {
        return Stream.of(
                Arguments.of("default", "/size-100", List.of("write -d core.nblocks 5"), Set.of(Kind.NBLOCKS)),
                Arguments.of("default", "/deep", List.of("write -d core.nblocks 3"), Set.of(Kind.NBLOCKS)),
                Arguments.of("default", "/fragmented", List.of("write -d core.nextents 50"), Set.of(Kind.NEXTENTS)),
                Arguments.of("default", "/size-65553", List.of("write -d core.naextents 1"), Set.of(Kind.ANEXTENTS)),
                Arguments.of("default", "/size-65553", List.of("write -d core.aformat 1"), Set.of(Kind.AFORMAT)),
                Arguments.of("default", "/size-65553", List.of("write -d core.extsize 16"), Set.of(Kind.EXTSIZE)),
                Arguments.of("default", "/size-65553", List.of("write -d v3.cowextsize 16"), Set.of(Kind.COWEXTSIZE)),
                Arguments.of("default", "/deep", List.of("write -d v3.reflink 1"), Set.of(Kind.FLAGS2_REFLINK_TYPE)),
                Arguments.of("noreflink-nofinobt", "/size-4096", List.of("write -d v3.reflink 1"), Set.of(Kind.FLAGS2_REFLINK_FEATURE)),
                Arguments.of("noreflink-nofinobt", "/size-4096", List.of("write -d v3.cowextsz 1", "write -d v3.cowextsize 4"),
                        Set.of(Kind.FLAGS2_COWEXTSIZE_FEATURE, Kind.COWEXTSIZE)),
                Arguments.of("default", "/pipe", List.of("write -d v3.dax 1"), Set.of(Kind.FLAGS2_DAX)),
                Arguments.of("default", "/size-4096", List.of("write -d v3.nrext64 1"), Set.of(Kind.FLAGS2_NREXT64, Kind.ANEXTENTS, Kind.NBLOCKS)),
                Arguments.of("default", "/size-4096", List.of("write -d v3.flags2 0x108"), Set.of(Kind.FLAGS2_UNKNOWN)),
                Arguments.of("default", "/size-4096", List.of("write -d core.rtinherit 1"), Set.of(Kind.FLAGS_DIRECTORY_ONLY)),
                Arguments.of("default", "/size-4096", List.of("write -d core.realtime 1"), Set.of(Kind.FLAGS_REALTIME)),
                Arguments.of("default", "/deep", List.of("write -d core.extsz 1", "write -d core.extsize 4"),
                        Set.of(Kind.FLAGS_FILE_ONLY, Kind.EXTSIZE)),
                Arguments.of("default", "/size-4096", List.of("write -d core.newrtbm 1"), Set.of(Kind.FLAGS_NEWRTBM)),
                Arguments.of("default", "/size-4096", List.of("write -d core.onlink 5"), Set.of(Kind.ONLINK)),
                Arguments.of("default", "/size-4096", List.of("write -d next_unlinked 5"), Set.of(Kind.NEXT_UNLINKED)),
                Arguments.of("default", "/size-4096", List.of("write -d next_unlinked 136"), Set.of(Kind.NEXT_UNLINKED_SET)),
                Arguments.of("default", "/block", List.of("write -d core.size 100"), Set.of(Kind.SIZE_FORMAT)),
                Arguments.of("default", "/node", List.of("write -d core.size 34359738369"), Set.of(Kind.DIRECTORY_SIZE)),
                Arguments.of("default", "/null-dev", List.of("write -d core.size 10"), Set.of(Kind.SPECIAL_SIZE)),
                Arguments.of("default", "/holey", List.of("write -d u3.bmx[1].startblock 9999999"), Set.of(Kind.EXTENT_START)),
                Arguments.of("default", "/holey", List.of("write -d u3.bmx[1].startoff 10"), Set.of(Kind.EXTENT_ORDER)),
                Arguments.of("default", "/holey", List.of("write -d u3.bmx[0].blockcount 0"), Set.of(Kind.EXTENT_ZERO_LENGTH, Kind.NBLOCKS)),
                Arguments.of("default", "/size-65553", List.of("write -d u3.bmx[0].extentflag 0"), Set.of()),
                // bits above the 32-bit AG number: XFS_FSB_TO_AGNO drops them, the kernel and xfs_repair read the block
                Arguments.of("default", "/size-65553", List.of("fuzz -d u3.bmx[0].startblock firstbit"), Set.of()),
                Arguments.of("default", "/fragmented", List.of("fuzz -d u3.bmbt.ptrs[1] firstbit"), Set.of()),
                Arguments.of("default", "/link-long", List.of("write -d u3.bmx[0].extentflag 1"), Set.of(Kind.EXTENT_UNWRITTEN)),
                Arguments.of("default", "/fragmented", List.of("addr u3.bmbt.ptrs[1]", "write -d level 1"), Set.of(Kind.BMBT_LEVEL)),
                Arguments.of("default", "/fragmented", List.of("addr u3.bmbt.ptrs[1]", "write -c lsn 7"), Set.of(Kind.BMBT_CRC)),
                Arguments.of("default", "/fragmented", List.of("addr u3.bmbt.ptrs[1]", "write -d owner 5"), Set.of(Kind.BMBT_OWNER)),
                Arguments.of("default", "/fragmented", List.of("addr u3.bmbt.ptrs[1]", "write -d recs[3].startoff 1"), Set.of(Kind.EXTENT_ORDER)),
                Arguments.of("default", "/fragmented", List.of("write -d u3.bmbt.keys[1].startoff 3"), Set.of(Kind.BMBT_KEY)),
                Arguments.of("default", "/fragmented", List.of("addr u3.bmbt.ptrs[1]", "write -d rightsib 77"), Set.of(Kind.BMBT_SIBLING)),
                Arguments.of("default", "/link-long", List.of("write -d core.size 1024"), Set.of(Kind.SYMLINK_LENGTH)),
                Arguments.of("default", "/link-long", List.of("write -d core.size 100"), Set.of(Kind.SYMLINK_BYTES)),
                Arguments.of("default", "/link-long", List.of("dblock 0", "type symlink", "write -c lsn 7"), Set.of(Kind.SYMLINK_CRC)),
                Arguments.of("default", "/link-long", List.of("dblock 0", "type symlink", "write -d bytes 10"), Set.of(Kind.SYMLINK_BYTES)),
                Arguments.of("default", "/link-short", List.of("write -d core.size 300"), Set.of(Kind.SYMLINK_NUL)),
                Arguments.of("default", "/link-short", List.of("write -d core.size 400"), Set.of(Kind.SYMLINK_FORMAT)));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("damage")
    void damageIsReportedAsTheRuleItBreaks(String geometry, String path, List<String> commands, Set<Kind> kinds) throws Exception {
        List<String> all = new ArrayList<>(List.of("path " + path));
        all.addAll(commands);
        Path img = damaged(geometry, all);
        long ino = ino(img, path);
        List<InodeProblem> found = everyInode(img);
        assertEquals(new TreeSet<>(kinds), found.stream().map(InodeProblem::kind).collect(Collectors.toCollection(TreeSet::new)),
                "reported: " + found.stream().map(p -> "inode " + p.ino() + ": " + p.describe()).toList());
        assertTrue(found.stream().allMatch(p -> p.ino() == ino), "on inode " + ino + " only: " + found);
        assertEquals(kinds.isEmpty() ? 0 : 1, xfsRepairN(img) == 0 ? 0 : 1, "xfs_repair -n agrees that " + commands
                + (kinds.isEmpty() ? " is clean" : " is damage"));
    }

    /**
     * A forkoff of 1 on a file with one extent leaves its data fork 8 bytes, too small for the record: the kernel's
     * xfs_dinode_verify_fork refuses the inode; xfs_repair -n reads the record anyway and passes it. We report it.
     */
    @Test
    void aDataForkTooSmallForItsExtentsIsFoundThoughXfsRepairMissesIt() throws Exception {
        Path img = damaged("default", List.of("path /size-65553", "write -d core.forkoff 1"));
        List<InodeProblem> found = everyInode(img);
        assertEquals(List.of(Kind.TOO_MANY_EXTENTS), found.stream().map(InodeProblem::kind).toList(), found.toString());
        assertEquals(0, xfsRepairN(img), "xfs_repair -n misses it (if this fails, it learnt to see it)");
    }

    /**
     * A startblock with a bit set above the 32 bits of AG number XFS_FSB_TO_AGNO keeps: the kernel and xfs_repair -n
     * read the block the low bits name and call it clean; the inode check agrees, and the mappings (what the rmapbt
     * check compares) are those of the clean file, not an error.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("highBits")
    void aBlockNumberWithBitsAboveTheAgNumberMapsTheBlockTheKernelReads(String path, String field) throws Exception {
        Path clean = DeviceCorpusTest.image("default");
        long ino = ino(clean, path);
        Path img = damaged("default", List.of("path " + path, "fuzz -d " + field + " firstbit"));
        assertEquals(0, xfsRepairN(img), "xfs_repair -n reads the low bits");
        assertEquals(List.of(), everyInode(img));
        assertEquals(mappings(clean, ino), mappings(img, ino));
    }

    /** An extent's 52-bit startblock, and a bmbt root pointer's 64 bits (its first bit is the sign of a Java long). */
    static Stream<Arguments> highBits() {
        return Stream.of(Arguments.of("/size-65553", "u3.bmx[0].startblock"), Arguments.of("/fragmented", "u3.bmbt.ptrs[1]"));
    }

    private static List<String> mappings(Path img, long ino) throws Exception {
        List<String> out = new ArrayList<>();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            fs.inodeMappings(ino, (agno, m) -> out.add(agno + ":" + m));
        }
        return out;
    }

    /** xfs_db commands that give /size-100 attributes of one form, consistent (xfs_repair -n calls them clean). */
    static List<String> attributes(String form) {
        List<String> c = new ArrayList<>(List.of("path /size-100"));
        switch (form) {
            case "short" -> c.addAll(List.of("attr_set -n user.x -v 10", "attr_set -n user.yy -v 5"));
            // a local value, a remote one of two blocks, a local one of 3000 bytes: one leaf block
            case "leaf" -> c.addAll(List.of("attr_set -n user.a -v 3000", "attr_set -n user.b -v 5000", "attr_set -n user.c -v 10"));
            case "node" -> {
                for (int i = 1; i <= 40; i++) { // 400-byte values: nine to a leaf, eight leaves under one node
                    c.add("attr_set -n user.attribute-" + i + " -v 400");
                }
            }
            default -> throw new IllegalArgumentException(form);
        }
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attributeForms")
    void consistentAttributesReportNothing(String form) throws Exception {
        Path img = damaged("default", attributes(form));
        assertEquals(0, xfsRepairN(img), "xfs_db made " + form + " attributes xfs_repair -n calls clean");
        assertEquals(List.of(), everyInode(img).stream().map(p -> "inode " + p.ino() + ": " + p.describe()).toList());
    }

    static Stream<String> attributeForms() {
        return Stream.of("short", "leaf", "node");
    }

    /**
     * Attribute damage: form, xfs_db commands on /size-100 after the attributes are made, the kinds reported, and
     * whether xfs_repair 6.1 -n sees it. It does not see three that the kernel refuses: two namespace bits on one
     * short-form entry (libxfs 6.10's xfs_attr_check_namespace), a leaf's bad CRC (it counts it as a repair and
     * rewrites the block, silently), and a remote value block holding another part of the value than its header
     * says (the kernel's xfs_attr3_rmt_hdr_ok on read).
     */
    static Stream<Arguments> attributeDamage() {
        return Stream.of(
                Arguments.of("short", List.of("write -d a.sfattr.hdr.totsize 100"), Set.of(Kind.XATTR_SF_SIZE), true),
                Arguments.of("short", List.of("write -d a.sfattr.list[0].namelen 0"), Set.of(Kind.XATTR_SF_ENTRY), true),
                Arguments.of("short", List.of("write -d a.sfattr.hdr.count 3"), Set.of(Kind.XATTR_SF_ENTRY), true),
                Arguments.of("short", List.of("write -d a.sfattr.list[1].root 1", "write -d a.sfattr.list[1].secure 1"),
                        Set.of(Kind.XATTR_FLAGS), false),
                Arguments.of("leaf", List.of("ablock 0", "write -d hdr.usedbytes 5"), Set.of(Kind.XATTR_USEDBYTES), true),
                Arguments.of("leaf", List.of("ablock 0", "write -d entries[0].hashval 5"), Set.of(Kind.XATTR_HASH), true),
                Arguments.of("leaf", List.of("ablock 0", "write -d hdr.info.owner 5"), Set.of(Kind.XATTR_OWNER), true),
                Arguments.of("leaf", List.of("ablock 0", "write -d entries[1].incomplete 1"), Set.of(Kind.XATTR_FLAGS), true),
                Arguments.of("leaf", List.of("ablock 0", "write -c hdr.info.lsn 7"), Set.of(Kind.XATTR_CRC), false),
                Arguments.of("leaf", List.of("ablock 1", "write -c hdr.lsn 7"), Set.of(Kind.XATTR_REMOTE_CRC), true),
                Arguments.of("leaf", List.of("ablock 1", "write -d hdr.offset 8"), Set.of(Kind.XATTR_REMOTE_CHUNK), false),
                Arguments.of("node", List.of("ablock 0", "write -d btree[1].hashval 5"), Set.of(Kind.XATTR_NODE_KEY), true),
                Arguments.of("node", List.of("ablock 0", "write -d hdr.level 3"), Set.of(Kind.XATTR_NODE), true),
                Arguments.of("node", List.of("ablock 2", "write -d hdr.info.hdr.back 7"), Set.of(Kind.XATTR_SIBLING), true));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("attributeDamage")
    void attributeDamageIsReported(String form, List<String> commands, Set<Kind> kinds, boolean xfsRepairSeesIt) throws Exception {
        List<String> all = new ArrayList<>(attributes(form));
        all.addAll(commands);
        Path img = damaged("default", all);
        long ino = ino(img, "/size-100");
        List<InodeProblem> found = everyInode(img);
        assertEquals(new TreeSet<>(kinds), found.stream().map(InodeProblem::kind).collect(Collectors.toCollection(TreeSet::new)),
                "reported: " + found.stream().map(p -> "inode " + p.ino() + ": " + p.describe()).toList());
        assertTrue(found.stream().allMatch(p -> p.ino() == ino && p.attrFork()), "on the attribute fork of inode " + ino + ": " + found);
        assertEquals(xfsRepairSeesIt, xfsRepairN(img) != 0, "xfs_repair -n on " + commands);
    }

    @Test
    void attributeNameHashMatchesTheKernel() {
        // test vectors of namespace-facts.md §3
        assertEquals(0x2e, XattrChecks.hash(".".getBytes(), 0, 1));
        assertEquals(0x172e, XattrChecks.hash("..".getBytes(), 0, 2));
        assertEquals(0x0c38b1e4, XattrChecks.hash("abcd".getBytes(), 0, 4));
        assertEquals(0x021aa60c, XattrChecks.hash("lost+found".getBytes(), 0, 10));
        assertEquals(0x9d168f12, XattrChecks.hash("hello.txt".getBytes(), 0, 9));
    }
}
