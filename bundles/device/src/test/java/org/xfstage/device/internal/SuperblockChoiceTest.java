package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.SuperblockVerdict;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * The superblock vote: which superblock an image is opened on when the primary or its copies are damaged, as
 * xfs_repair's phase 1 chooses it. Damage is made in the sectors directly (fields set, the CRC recomputed unless the
 * CRC is the damage), on copies of the corpus's default image: four AGs of 128 MiB.
 */
class SuperblockChoiceTest {
    @TempDir
    Path dir;

    private Path copyOf(String geometry, String name) throws Exception {
        Path img = dir.resolve(name);
        SparseFiles.copy(DeviceCorpusTest.image(geometry), img);
        return img;
    }

    private static long agOffset(Path img, int agno) throws Exception {
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            return agno == 0 ? 0 : fs.geometry.agBlockOffset(agno, 0);
        }
    }

    private static byte[] read(Path img, long offset, int length) throws Exception {
        try (FileChannel c = FileChannel.open(img)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            c.read(b, offset);
            return b.array();
        }
    }

    private static void write(Path img, long offset, byte[] bytes) throws Exception {
        try (FileChannel c = FileChannel.open(img, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    /** Sets a superblock field in the sector at {@code offset}, recomputing the CRC (xfs_db write -d). */
    private static void setField(Path img, long offset, String field, long value) throws Exception {
        byte[] sector = read(img, offset, 512);
        Layouts.SB.get(field).put(sector, 0, value);
        Checksums.update(sector, 0, 512, Layouts.SB.crcOffset);
        write(img, offset, sector);
    }

    private static SuperblockVerdict verdict(Path img) throws Exception {
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            return fs.superblockChoice();
        }
    }

    private static String refusal(Path img) {
        XfsException e = assertThrows(XfsException.class, () -> XfsImage.open(img, OpenOptions.readOnly()).close());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    static Stream<String> geometries() {
        return DeviceCorpusTest.geometries();
    }

    /** No check may fail on what mkfs makes: on every corpus geometry the primary is trusted and every copy agrees. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void cleanImagesTrustThePrimaryAndEveryCopyAgrees(String geometry) throws Exception {
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image(geometry), OpenOptions.readOnly())) {
            SuperblockVerdict v = fs.superblockChoice();
            int copies = fs.geometry.agCount - 1;
            assertEquals(new SuperblockVerdict(List.of(), List.of(), copies, copies, copies, 0, Map.of()), v);
            assertTrue(v.primaryValid() && v.primaryTrusted());
            assertEquals(fs.agreedSuperblockIdentity(), fs.superblockIdentity(0));
            assertThrows(XfsFormatException.class, fs::primarySuperblockFromAgreed, "a trusted primary is not rewritten");
        }
    }

    /**
     * A primary that fails one check: the image opens on the copy in AG 1, the verdict says what is wrong, and the
     * primary the encoder makes from the copy (copy_sb: the primary's inode numbers, version bits and counters
     * kept) is the undamaged primary byte for byte.
     */
    static Stream<Arguments> primaryDamage() {
        return Stream.of(
                Arguments.of("magicnum", 0L, "no XFS superblock magic"),
                Arguments.of("inopblock", 9L, "bad inode size"),
                Arguments.of("agblklog", 14L, "agblklog 14 does not match"),
                Arguments.of("sectsize", 1024L, "bad sector size"),
                Arguments.of("blocksize", 8192L, "bad block size"),
                Arguments.of("logsectlog", 9L, "bad log/data device sector size"),
                Arguments.of("meta_uuid0", 0x1111222233334444L, "garbage past its last field"),
                Arguments.of("inprogress", 1L, "unfinished by mkfs"),
                Arguments.of("dblocks", 131073L, "do not add up"),
                // the inode numbers only the primary carries: put back where mkfs put them, as xfs_repair resets them
                Arguments.of("rbmino", 128L, "not the three consecutive inodes"),
                Arguments.of("rootino", 129L, "not the three consecutive inodes"),
                Arguments.of("uquotino", 131L, "uquotino 131 without the quota feature"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("primaryDamage")
    void primaryThatFailsACheckIsOutvotedAndRewrittenFromTheCopy(String field, long value, String problem) throws Exception {
        Path img = copyOf("default", field + ".img");
        byte[] clean = read(img, 0, 512);
        setField(img, 0, field, value);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            SuperblockVerdict v = fs.superblockChoice();
            assertFalse(v.primaryValid());
            assertFalse(v.primaryTrusted());
            assertTrue(v.primaryProblems().get(0).contains(problem), v.primaryProblems().toString());
            assertEquals(1, v.sourceAg(), "the lowest agreeing copy");
            assertEquals(3, v.agreeingCopies());
            assertEquals(4, fs.geometry.agCount);
            assertEquals(32768, fs.geometry.agBlocks);
            BlockImage primary = fs.primarySuperblockFromAgreed();
            assertEquals(0, primary.offset());
            assertArrayEquals(clean, primary.bytes(), "copy_sb gives back the undamaged primary");
            fs.verify(primary);
            assertThrows(XfsFormatException.class, () -> fs.secondarySuperblockFromPrimary(2), "an untrusted primary is never copied");
            assertThrows(XfsFormatException.class, () -> fs.updateHeader(HeaderKind.SUPERBLOCK, 0, Map.of()),
                    "nor its counters set before it is rewritten");
        }
    }

    /** A bad CRC alone: the primary is not trusted, xfs_repair's first check. */
    @Test
    void primaryWithABadChecksumIsOutvoted() throws Exception {
        Path img = copyOf("default", "crc.img");
        byte[] clean = read(img, 0, 512);
        write(img, 127, new byte[] {30}); // imax_pct, CRC left as it was
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            assertEquals(List.of("checksum mismatch"), fs.superblockChoice().primaryProblems());
            assertArrayEquals(clean, fs.primarySuperblockFromAgreed().bytes());
        }
    }

    /**
     * A primary that passes every check but is outvoted on the geometry (logblocks) or alone against every copy in
     * a field they share (the label, meta_uuid): the copies win, and the verdict names the fields.
     */
    @Test
    void plausiblePrimaryThatDisagreesWithEveryCopyIsOutvoted() throws Exception {
        for (Map.Entry<String, Long> damage : Map.of("logblocks", 1000L, "fname0", 0x78667374L << 32, "uuid1", 42L).entrySet()) {
            Path img = copyOf("default", damage.getKey() + ".img");
            byte[] clean = read(img, 0, 512);
            long was = Layouts.SB.get(damage.getKey()).get(clean, 0);
            setField(img, 0, damage.getKey(), damage.getValue());
            try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
                SuperblockVerdict v = fs.superblockChoice();
                assertTrue(v.primaryValid(), damage + ": " + v);
                assertFalse(v.primaryTrusted(), damage + ": " + v);
                assertEquals(List.of(new SuperblockVerdict.Disagreement(new HeaderField(HeaderKind.SUPERBLOCK, damage.getKey()),
                        damage.getValue(), was, 3)), v.disagreements());
                assertArrayEquals(clean, fs.primarySuperblockFromAgreed().bytes(), damage.getKey());
            }
        }
    }

    /**
     * On a filesystem with a metadata uuid (the corpus has none: xfs_admin -U gives a copy one), sb_meta_uuid is what
     * every AG header carries: a primary alone with another is outvoted, and the headers are checked against the
     * copies' one.
     */
    @Test
    void primaryMetaUuidIsOutvotedWhereTheFeatureIsOn() throws Exception {
        Path img = copyOf("default", "meta-uuid.img");
        Corpus.requireXfsprogs();
        Corpus.run(List.of(Corpus.tool("xfs_admin"), "-U", "generate", img.toString()));
        byte[] clean = read(img, 0, 512);
        assertTrue(verdict(img).primaryTrusted());
        setField(img, 0, "meta_uuid1", 42);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            SuperblockVerdict v = fs.superblockChoice();
            assertTrue(v.primaryValid() && !v.primaryTrusted(), v.toString());
            assertEquals(List.of("sb_meta_uuid1"), v.disagreements().stream().map(d -> d.field().toString()).toList());
            assertTrue((fs.geometry.incompat & Geometry.FEAT_INCOMPAT_META_UUID) != 0);
            fs.info(); // every AG header checked against the copies' metadata uuid
            assertArrayEquals(clean, fs.primarySuperblockFromAgreed().bytes());
        }
    }

    /**
     * A copy alone against the primary and the other copies: the primary is trusted; the copy is reported when it
     * fails a check, and rewritten from the primary (a sound copy keeps its own counters; a broken one is made anew).
     */
    @Test
    void copyThatDisagreesIsTheOddOneOut() throws Exception {
        Path img = copyOf("default", "copy.img");
        long ag2 = agOffset(img, 2);
        byte[] cleanCopy = read(img, ag2, 512);
        setField(img, ag2, "logblocks", 1000);
        setField(img, agOffset(img, 3), "magicnum", 0);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            SuperblockVerdict v = fs.superblockChoice();
            assertTrue(v.primaryTrusted(), v.toString());
            assertEquals(2, v.validCopies());
            assertEquals(1, v.agreeingCopies());
            assertEquals(Map.of(3, "no XFS superblock magic (XFSB)"), v.badCopies());
            assertEquals(1000L, fs.superblockIdentity(2).get(new HeaderField(HeaderKind.SUPERBLOCK, "logblocks")));
            assertArrayEquals(cleanCopy, fs.secondarySuperblockFromAgreed(2).bytes(), "a sound copy: only the identity is set");
            BlockImage fresh = fs.secondarySuperblockFromAgreed(3);
            fs.verify(fresh);
            Struct made = new Struct(Layouts.SB, fresh.bytes(), 0);
            assertEquals(1, made.get("inprogress"), "marked as a copy");
            assertEquals(0, made.get("icount"));
            assertEquals(fs.agreedSuperblockIdentity().get(new HeaderField(HeaderKind.SUPERBLOCK, "uuid0")), made.get("uuid0"));
        }
    }

    /** Two AGs: the primary and its one copy must agree; a label only on the primary is then the copy's problem. */
    @Test
    void withOneCopyATieKeepsThePrimary() throws Exception {
        Path img = dir.resolve("two.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(400L << 20);
        }
        Corpus.requireXfsprogs();
        Corpus.run(List.of(Corpus.tool("mkfs.xfs"), "-q", "-f", "-d", "agcount=2", img.toString()));
        setField(img, 0, "fname0", 0x78667374L << 32);
        assertTrue(verdict(img).primaryTrusted(), "one copy against the primary in the label: not enough to outvote it");
        setField(img, 0, "logblocks", 1000);
        assertTrue(refusal(img).contains("only two AGs and their superblocks disagree"), refusal(img));
        assertTrue(Corpus.status(List.of(Corpus.tool("xfs_repair"), "-n", img.toString())).getKey() != 0, "xfs_repair -n refuses too");
        setField(img, 0, "magicnum", 0);
        SuperblockVerdict v = verdict(img);
        assertEquals(1, v.sourceAg(), "a primary that fails a check: the copy found by the search decides, as in xfs_repair");
    }

    /** Fewer than agcount/2 copies verify: no agreement, the image is refused as xfs_repair refuses it. */
    @Test
    void tooFewSoundCopiesIsNoAgreement() throws Exception {
        Path img = copyOf("default", "copies.img");
        setField(img, agOffset(img, 1), "magicnum", 0);
        setField(img, agOffset(img, 2), "magicnum", 0);
        String why = refusal(img);
        assertTrue(why.contains("not enough superblock copies verify"), why);
        assertTrue(Corpus.status(List.of(Corpus.tool("xfs_repair"), "-n", img.toString())).getKey() != 0);
    }

    /** Copies that vote for two geometries equally: xfs_repair takes the one it saw last, and so do we. */
    @Test
    void aTieGoesToTheGeometrySeenLast() throws Exception {
        Path img = copyOf("default", "tie.img");
        setField(img, agOffset(img, 2), "logblocks", 1000);
        setField(img, agOffset(img, 3), "logblocks", 1000);
        SuperblockVerdict v = verdict(img);
        assertEquals(2, v.sourceAg(), "primary and AG 1 (2 votes) against AGs 2 and 3 (2 votes): the later geometry");
        assertEquals(List.of(new SuperblockVerdict.Disagreement(new HeaderField(HeaderKind.SUPERBLOCK, "logblocks"), 16384, 1000, 2)),
                v.disagreements());
    }

    /**
     * A primary zeroed whole (no magic, no geometry to step by): the search finds the copies at the AG size mkfs
     * would choose (2 GiB, 16 AGs: the copy of AG 4 lies at mkfs's default 512 MiB) and opens on AG 1's.
     */
    @Test
    void zeroedPrimaryIsFoundAgainByTheSearch() throws Exception {
        Path img = copyOf("agcount16", "zeroed.img");
        write(img, 0, new byte[512]);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            SuperblockVerdict v = fs.superblockChoice();
            assertEquals(1, v.sourceAg());
            assertEquals(15, v.agreeingCopies());
            assertEquals(16, fs.geometry.agCount);
            Struct made = new Struct(Layouts.SB, fs.primarySuperblockFromAgreed().bytes(), 0);
            assertEquals(0, made.get("icount"), "no counters to keep: sb-counters sets them");
            assertEquals(128, made.get("rootino"), "the copies' root");
        }
    }

    /** AGs of a size mkfs would not choose: only the brute-force pass (1 MiB steps from 16 MiB) finds a copy. */
    @Test
    void bruteForcePassFindsCopiesOfAnUnusualAgSize() throws Exception {
        Path img = dir.resolve("five.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(600L << 20);
        }
        Corpus.requireXfsprogs();
        Corpus.run(List.of(Corpus.tool("mkfs.xfs"), "-q", "-f", "-d", "agcount=5", img.toString()));
        assertEquals(120L << 20, agOffset(img, 1), "120 MiB AGs: no multiple of mkfs's 150 or 75 MiB");
        write(img, 0, new byte[512]);
        SuperblockVerdict v = verdict(img);
        assertEquals(1, v.sourceAg());
        assertEquals(4, v.agreeingCopies());
    }

    /** mkfs's default AG sizes, as xfs_repair guesses them (calc_default_ag_geometry). */
    @Test
    void defaultAgSizesAreMkfsOnes() {
        assertEquals(32768, SuperblockChoice.defaultAgBlocks(12, 131072, false), "512 MiB: 4 AGs");
        assertEquals(38400, SuperblockChoice.defaultAgBlocks(12, 153600, false), "600 MiB: 4 AGs");
        assertEquals(19200, SuperblockChoice.defaultAgBlocks(12, 153600, true), "600 MiB striped: 8 AGs");
        assertEquals((1L << 28) - 1, SuperblockChoice.defaultAgBlocks(12, 5L << 28, false), "5 TiB: the largest AGs");
        assertEquals(6401, SuperblockChoice.defaultAgBlocks(12, 25601, false), "100 MiB: rounded up");
    }

    /** Every check of §2 on its own: each field damaged alone, the primary found to fail. */
    @Test
    void everyCheckFailsOnItsField() throws Exception {
        byte[] clean = read(DeviceCorpusTest.image("default"), 0, 512);
        assertEquals(List.of(), SuperblockChecks.problems(clean, true));
        List<String> missed = new ArrayList<>();
        Object[][] damage = {{"versionnum", 0xb4a5L | 0x0200}, {"features2", 0x18aL | 0x1}, {"agcount", 5L}, {"agblocks", 32767L},
                {"rextsize", 0L}, {"rblocks", 10L}, {"inoalignmt", 4L}, {"spino_align", 2L}, {"imax_pct", 101L}, {"unit", 8L},
                {"dirblklog", 5L}, {"shared_vn", 1L}, {"qflags", 0x10L}, {"flags", 1L}, {"bad_features2", 0L}, {"logsunit", 100L},
                {"logblocks", 0L}, {"inodelog", 8L}, {"inodesize", 300L}, {"sectlog", 10L}, {"blocklog", 11L}, {"rsumino", 5L},
                {"gquotino", 7L}, {"pquotino", 1L << 40}};
        for (Object[] d : damage) {
            byte[] s = clean.clone();
            Layouts.SB.get((String) d[0]).put(s, 0, (Long) d[1]);
            Checksums.update(s, 0, 512, Layouts.SB.crcOffset);
            if (SuperblockChecks.problems(s, true).isEmpty()) {
                missed.add((String) d[0]);
            }
        }
        assertEquals(List.of(), missed, "damage no check notices");
    }

    /**
     * A copy mkfs made (inprogress set) has no quota inodes or flags: xfs_repair warns of each ("non-null user quota
     * inode field in superblock 1"); 0 and NULLFSINO are both none. The root and realtime inodes of a copy are not
     * checked: mkfs leaves them NULLFSINO in some.
     */
    @Test
    void copyMadeByMkfsHasNoQuotaInodesOrFlags() throws Exception {
        byte[] clean = read(DeviceCorpusTest.image("default"), 32768L * 4096, 512);
        assertEquals(List.of(), SuperblockChecks.problems(clean, false));
        Object[][] cases = {{"uquotino", 0L, true}, {"gquotino", -1L, true}, {"pquotino", 131L, false}, {"uquotino", 1L, false},
                {"qflags", 1L, false}, {"rbmino", 0L, true}, {"rootino", -1L, true}};
        for (Object[] c : cases) {
            byte[] s = clean.clone();
            Layouts.SB.get((String) c[0]).put(s, 0, (Long) c[1]);
            Checksums.update(s, 0, 512, Layouts.SB.crcOffset);
            List<SuperblockChecks.Problem> p = SuperblockChecks.problems(s, false);
            assertEquals(c[2], p.isEmpty(), c[0] + " " + c[1] + ": " + p);
            assertTrue(SuperblockChecks.votes(p), "it still votes on the geometry: " + p);
        }
    }
}
