package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;

/**
 * What an AG header rebuild needs of the device, on copies of corpus images damaged with xfs_db -x: an AGF or AGI
 * that does not decode is still walked from its pointers (and reported by header()); a root pointer that leads to
 * another block is replaced by the one block a search proves, and never by an old tree's root; new headers and AGFLs
 * are made from the geometry and the given fields alone.
 */
class AgHeaderRebuildTest {
    @TempDir
    Path dir;

    /** A copy of a corpus image with xfs_db -x commands applied. */
    private Path damaged(String geometry, String... commands) throws Exception {
        Path img = dir.resolve(geometry + "-" + commands.length + "-" + System.nanoTime() + ".img");
        Corpus.damagedCopy(DeviceCorpusTest.image(geometry), img, List.of(commands));
        return img;
    }

    /** The trees of an AG on this filesystem. */
    private static List<BtreeType> trees(XfsImage fs) throws Exception {
        List<BtreeType> out = new ArrayList<>();
        for (BtreeType t : BtreeType.values()) {
            if (fs.info().hasTree(t)) {
                out.add(t);
            }
        }
        return out;
    }

    /** Every tree's blocks and the static space of an AG, as the scrub's walk sees them. */
    private static Map<String, Object> walked(XfsImage fs, int agno) throws Exception {
        Map<String, Object> out = new HashMap<>();
        for (BtreeType t : trees(fs)) {
            Set<Long> blocks = new TreeSet<>();
            fs.walkBtree(agno, Btree.of(t), r -> { }, blocks::add);
            out.put(t.treeName(), blocks);
        }
        List<String> space = new ArrayList<>();
        fs.staticSpace(agno, (agbno, len, use) -> space.add(agbno + "+" + len + " " + use));
        out.put("static", space);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"default", "rmapbt"})
    void anAgfAndAgiThatDoNotDecodeAreStillWalkedFromTheirPointers(String geometry) throws Exception {
        Map<String, Object> clean;
        long length;
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image(geometry), OpenOptions.readOnly())) {
            clean = walked(fs, 1);
            length = fs.info().ags().get(1).length();
        }
        Path img = damaged(geometry, "agf 1", "write -d magicnum 0", "agi 1", "write -c freecount 1");
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            assertEquals(length, fs.info().ags().get(1).length(), "info() still answers, with the AG's length");
            XfsFormatException agf = assertThrows(XfsFormatException.class, () -> fs.header(HeaderKind.AGF, 1));
            assertTrue(agf.getMessage().contains("AGF of AG 1: bad magic"), agf.getMessage());
            XfsFormatException agi = assertThrows(XfsFormatException.class, () -> fs.header(HeaderKind.AGI, 1));
            assertTrue(agi.getMessage().contains("AGI of AG 1: checksum mismatch"), agi.getMessage());
            assertThrows(XfsFormatException.class, () -> fs.updateHeader(HeaderKind.AGF, 1, Map.of()), "only made new");
            assertEquals(clean, walked(fs, 1), "the same trees and AGFL as on the clean image");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"default", "rmapbt"})
    void aRootPointerToAnotherBlockIsReplacedByTheRootTheSearchProves(String geometry) throws Exception {
        Map<HeaderField, Long> agf;
        Map<HeaderField, Long> agi;
        Map<String, Object> clean;
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image(geometry), OpenOptions.readOnly())) {
            agf = fs.header(HeaderKind.AGF, 1);
            agi = fs.header(HeaderKind.AGI, 1);
            clean = walked(fs, 1);
            for (BtreeType t : trees(fs)) {
                long root = (t == BtreeType.INO || t == BtreeType.FINO ? agi : agf).get(HeaderField.root(t));
                assertEquals(root, fs.btreeRoot(1, t).block(), t + ": the header's pointer when it is a root");
                List<XfsDevice.BtreeRoot> candidates = fs.findBtreeRoots(1, t);
                assertTrue(candidates.stream().anyMatch(c -> c.block() == root), t + " root among the candidates");
                // one block asked about gives what the search of the whole AG gives for it, and nothing elsewhere
                for (long b = 0; b < fs.info().ags().get(1).length(); b++) {
                    long block = b;
                    XfsDevice.BtreeRoot expected = candidates.stream().filter(c -> c.block() == block).findFirst().orElse(null);
                    assertEquals(expected, fs.rootCandidate(1, t, b), t + " block " + b);
                }
            }
        }
        // each pointer names the other tree's root: a block with the wrong magic
        long bnoRoot = agf.get(HeaderField.root(BtreeType.BNO));
        long inoRoot = agi.get(HeaderField.root(BtreeType.INO));
        Path bno = damaged(geometry, "agf 1", "write -d bnoroot " + inoRoot);
        try (XfsImage fs = XfsImage.open(bno, OpenOptions.readOnly())) {
            assertEquals(new XfsDevice.BtreeRoot(bnoRoot, agf.get(HeaderField.level(BtreeType.BNO)).intValue()), fs.btreeRoot(1, BtreeType.BNO));
            assertEquals(inoRoot, fs.header(HeaderKind.AGF, 1).get(HeaderField.root(BtreeType.BNO)), "the header says what it says");
            assertEquals(clean, walked(fs, 1), "the walks start from the proven root");
        }
        Path ino = damaged(geometry, "agi 1", "write -d root " + bnoRoot);
        try (XfsImage fs = XfsImage.open(ino, OpenOptions.readOnly())) {
            assertEquals(inoRoot, fs.btreeRoot(1, BtreeType.INO).block());
            assertEquals(clean, walked(fs, 1), "the walks start from the proven root");
        }
        // the inobt's search tells old trees by the bnobt's free extents, read only from the bnobt's own pointer: with
        // that pointer wrong too, one search would lean on another, so the inobt's root is not guessed
        Path both = damaged(geometry, "agf 1", "write -d bnoroot " + inoRoot, "agi 1", "write -d root " + bnoRoot);
        try (XfsImage fs = XfsImage.open(both, OpenOptions.readOnly())) {
            assertEquals(bnoRoot, fs.btreeRoot(1, BtreeType.BNO).block(), "the cntbt tells the bnobt's old roots");
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.btreeRoot(1, BtreeType.INO));
            assertTrue(e.getMessage().endsWith("the bnobt cannot be walked to tell an old tree's blocks from the one in use"), e.getMessage());
        }
    }

    @Test
    void anOldTreeIsNeverTakenForTheRootEvenWhenItIsTheOnlyWholeOne() throws Exception {
        long root;
        List<XfsDevice.BtreeRoot> candidates;
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
            root = fs.header(HeaderKind.AGF, 1).get(HeaderField.root(BtreeType.BNO));
            candidates = fs.findBtreeRoots(1, BtreeType.BNO);
        }
        assertTrue(candidates.size() > 1, "the corpus keeps mkfs's first bnobt root beside the one in use: " + candidates);
        for (int i = 1; i < candidates.size(); i++) {
            assertTrue(candidates.get(i - 1).levels() >= candidates.get(i).levels(), "tallest first: " + candidates);
        }
        // the root in use loses its magic, and the AGF points elsewhere: only the old roots look like roots now
        Path img = damaged("default", "agf 1", "addr bnoroot", "write -d magic 0", "agf 1", "write -d bnoroot 0");
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            assertTrue(fs.findBtreeRoots(1, BtreeType.BNO).stream().noneMatch(c -> c.block() == root));
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.btreeRoot(1, BtreeType.BNO));
            assertTrue(e.getMessage().contains("no other block heads a whole tree of it"), e.getMessage());
            assertThrows(XfsFormatException.class, () -> fs.walkBtree(1, Btree.BNO, r -> { }));
        }
    }

    @Test
    void aRootThatIsDamagedStaysTheRootAndItsWalkSaysWhy() throws Exception {
        long root;
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
            root = fs.header(HeaderKind.AGF, 1).get(HeaderField.root(BtreeType.BNO));
        }
        // a one-level tree whose root now says it is a node: no search, no other block put in its place
        Path img = damaged("default", "agf 1", "addr bnoroot", "write -d level 1");
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            assertEquals(new XfsDevice.BtreeRoot(root, 1), fs.btreeRoot(1, BtreeType.BNO));
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.walkBtree(1, Btree.BNO, r -> { }));
            assertTrue(e.getMessage().contains("block " + root + ": level 1, expected 0"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"default", "rmapbt", "b1024"})
    void newHeadersMadeFromTheFieldsOfEveryAgReadBackAsThoseFields(String geometry) throws Exception {
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image(geometry), OpenOptions.readOnly())) {
            for (int agno = 0; agno < fs.geometry.agCount; agno++) {
                for (HeaderKind kind : List.of(HeaderKind.AGF, HeaderKind.AGI)) {
                    Map<HeaderField, Long> old = fs.header(kind, agno);
                    Map<HeaderField, Long> fields = new HashMap<>();
                    old.forEach((f, v) -> {
                        if (settable(fs, f)) {
                            fields.put(f, v);
                        }
                    });
                    BlockImage made = fs.newHeader(kind, agno, fields);
                    fs.verify(made);
                    try (XfsDevice view = fs.withPlanned(List.of(made))) {
                        Map<HeaderField, Long> back = view.header(kind, agno);
                        for (HeaderField f : old.keySet()) {
                            if (!f.name().equals("lsn") && !f.name().equals("crc") && !f.name().equals("newino")) {
                                assertEquals(old.get(f), back.get(f), f + " of AG " + agno + " on " + geometry);
                            }
                        }
                    }
                }
            }
        }
    }

    /** What the device fills in itself in a new header; a strategy gives the rest. */
    private static final Set<String> FILLED_IN = Set.of("magicnum", "versionnum", "seqno", "length", "uuid0", "uuid1", "lsn", "crc",
            "spare_2", "pad32", "newino", "dirino");

    /** The fields a new header takes. */
    private static boolean settable(XfsImage fs, HeaderField f) {
        return !FILLED_IN.contains(f.name()) && !f.name().matches("spare\\d+");
    }

    @Test
    void aNewHeaderNeedsEveryFieldTheFilesystemsFeaturesUse() throws Exception {
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image("rmapbt"), OpenOptions.readOnly())) {
            Map<HeaderField, Long> fields = new HashMap<>(fs.header(HeaderKind.AGF, 0));
            fields.keySet().removeIf(f -> !settable(fs, f));
            fields.remove(HeaderField.root(BtreeType.RMAP));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fs.newHeader(HeaderKind.AGF, 0, fields));
            assertTrue(e.getMessage().contains("rmap_root"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> fs.newHeader(HeaderKind.SUPERBLOCK, 0, Map.of()));
            assertThrows(IllegalArgumentException.class, () -> fs.newHeader(HeaderKind.AGI, 0, Map.of(HeaderField.AGF_FREEBLKS, 1L)));
        }
    }

    @Test
    void anAgflWhoseHeaderIsDamagedIsRebuiltWithAHeaderOfItsOwn() throws Exception {
        Path img = damaged("default", "agfl 1", "write -d magicnum 0", "agfl 2", "write -d uuid 01234567-89ab-cdef-0123-456789abcdef");
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            for (int agno : new int[] {1, 2}) {
                int ag = agno;
                assertThrows(XfsFormatException.class, () -> fs.staticSpace(ag, (b, l, u) -> { }));
                List<Long> listed = new ArrayList<>();
                try (XfsImage clean = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
                    clean.staticSpace(agno, (b, l, u) -> {
                        if (u == SpaceUse.AGFL) {
                            listed.add(b);
                        }
                    });
                }
                BlockImage agfl = fs.rebuildAgfl(agno, listed.stream().mapToLong(Long::longValue).toArray());
                fs.verify(agfl);
                try (XfsImage clean = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
                    // as it was before the damage, but for the lsn (24-31; a rebuilt AGFL has none) and so the CRC
                    byte[] was = clean.image.read(agfl.offset(), fs.geometry.sectorSize);
                    assertArrayEquals(java.util.Arrays.copyOfRange(was, 0, 24), java.util.Arrays.copyOfRange(agfl.bytes(), 0, 24),
                            "magic, seqno and uuid of AG " + agno);
                    assertArrayEquals(java.util.Arrays.copyOfRange(was, 36, was.length),
                            java.util.Arrays.copyOfRange(agfl.bytes(), 36, was.length), "the slots of AG " + agno);
                }
            }
        }
    }
}
