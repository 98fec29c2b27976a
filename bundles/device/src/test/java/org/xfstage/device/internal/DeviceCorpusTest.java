package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.staging.Progress;

/** On every corpus geometry: the manifest equals the source tree, info agrees with xfs_db, headers round-trip. */
class DeviceCorpusTest {
    static final String VERSION = "-v4";

    static Stream<String> geometries() {
        return Corpus.GEOMETRIES.keySet().stream();
    }

    static Path image(String geometry) throws Exception {
        return Corpus.image(geometry + VERSION, Corpus.fullTree(), Corpus.GEOMETRIES.get(geometry));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void manifestEqualsTheSourceTree(String geometry) throws Exception {
        Path img = image(geometry);
        Map<String, ManifestEntry> got = new TreeMap<>();
        Map<String, ManifestEntry> expected;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            fs.manifest(true, Progress.NONE, e -> got.put(e.path(), e));
            expected = Corpus.expected(Corpus.fullTree(), fs.geometry.blockSize);
            assertEquals(2, Inode.read(fs.image, fs.geometry, got.get("/holey").inode()).extents(fs.image, fs.geometry).size(),
                    "/holey has two extents around its hole");
            assertEquals(Inode.FMT_EXTENTS, Inode.read(fs.image, fs.geometry, got.get("/link-long").inode()).format, "a remote symlink");
            Inode fragmented = Inode.read(fs.image, fs.geometry, got.get("/fragmented").inode());
            assertEquals(Inode.FMT_BTREE, fragmented.format, "/fragmented is in bmbt format");
            assertEquals(56, fragmented.extents(fs.image, fs.geometry).size());
        }
        assertEquals(expected.keySet(), got.keySet(), "the same paths");
        for (ManifestEntry want : expected.values()) {
            ManifestEntry have = got.get(want.path());
            assertEquals(want.type(), have.type(), want.path());
            assertEquals(want.mode(), have.mode(), "mode of " + want.path());
            assertEquals(want.linkTarget(), have.linkTarget(), "target of " + want.path());
            assertEquals(want.sha256(), have.sha256(), "content of " + want.path());
            if (want.size() >= 0) {
                assertEquals(want.size(), have.size(), "size of " + want.path());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void infoAgreesWithXfsDb(String geometry) throws Exception {
        Path img = image(geometry);
        FsInfo info;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            info = fs.info();
        }
        Map<String, Long> sb = xfsDb(img, List.of("sb 0", "p blocksize sectsize inodesize agcount agblocks dblocks logblocks icount ifree fdblocks"));
        assertEquals(sb.get("blocksize"), (long) info.blockSize());
        assertEquals(sb.get("sectsize"), (long) info.sectorSize());
        assertEquals(sb.get("inodesize"), (long) info.inodeSize());
        assertEquals(sb.get("agcount"), (long) info.agCount());
        assertEquals(sb.get("agblocks"), info.agBlocks());
        assertEquals(sb.get("dblocks"), info.dataBlocks());
        assertEquals(sb.get("logblocks"), info.logBlocks());
        assertEquals(sb.get("icount"), info.icount());
        assertEquals(sb.get("ifree"), info.ifree());
        assertEquals(sb.get("fdblocks"), info.fdblocks());
        for (FsInfo.AgInfo ag : info.ags()) {
            Map<String, Long> agf = xfsDb(img, List.of("agf " + ag.agno(), "p length freeblks longest"));
            Map<String, Long> agi = xfsDb(img, List.of("agi " + ag.agno(), "p count freecount"));
            assertEquals(agf.get("length"), ag.length(), "AG " + ag.agno());
            assertEquals(agf.get("freeblks"), ag.freeBlocks(), "AG " + ag.agno());
            assertEquals(agf.get("longest"), ag.longest(), "AG " + ag.agno());
            assertEquals(agi.get("count"), ag.inodes(), "AG " + ag.agno());
            assertEquals(agi.get("freecount"), ag.freeInodes(), "AG " + ag.agno());
        }
        assertTrue(info.features().contains("crc"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void headersAndInodesEncodeBackByteForByte(String geometry) throws Exception {
        Path img = image(geometry);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Geometry g = fs.geometry;
            int checked = 0;
            for (int agno = 0; agno < g.agCount; agno++) {
                byte[] sector = fs.image.read(g.agBlockOffset(agno, 0), g.sectorSize);
                Struct sb = Headers.superblock(sector, "sb " + agno, agno == 0);
                assertArrayEquals(sector, sb.encode(0, g.sectorSize), "superblock of AG " + agno);
                for (Struct s : List.of(Headers.agf(fs.image, g, agno), Headers.agi(fs.image, g, agno), Headers.agfl(fs.image, g, agno))) {
                    assertArrayEquals(s.raw(), s.encode(0, g.sectorSize), s.layout.name + " of AG " + agno);
                    checked++;
                }
            }
            Btrees btrees = new Btrees(fs.image, g);
            List<Struct> blocks = new ArrayList<>();
            for (int agno = 0; agno < g.agCount; agno++) {
                for (org.xfstage.api.device.BtreeType t : org.xfstage.api.device.BtreeType.values()) {
                    boolean present = switch (t) {
                        case FINO -> g.hasFinobt();
                        case RMAP -> g.featureNames().contains("rmapbt");
                        case REFCOUNT -> g.featureNames().contains("reflink");
                        default -> true;
                    };
                    if (present) {
                        btrees.walk(agno, t, r -> { }, blocks::add);
                    }
                }
            }
            List<ManifestEntry> entries = new ArrayList<>();
            fs.manifest(false, Progress.NONE, entries::add);
            for (ManifestEntry e : entries) {
                Inode inode = Inode.read(fs.image, g, e.inode());
                assertArrayEquals(inode.core.raw(), inode.core.encode(0, g.inodeSize), "inode " + e.inode());
                checked++;
                if (inode.format == Inode.FMT_EXTENTS && e.type() == FileType.DIRECTORY) {
                    long leafStart = Contents.DIR2_LEAF_OFFSET >> g.blockLog;
                    for (Inode.Extent x : inode.extents(fs.image, g)) {
                        for (long b = 0; b < x.count(); b++) {
                            byte[] raw = fs.image.read(g.fsbOffset(x.startBlock() + b), g.blockSize);
                            Layout layout = x.startOff() + b < leafStart ? Layouts.DIR3_DATA
                                    : Inode.u32(raw, 0) == 0x58444633L ? Layouts.DIR3_FREE : Layouts.DA3_NODE;
                            if (g.dirBlockSize == g.blockSize) { // a multi-block directory block has one CRC over all of it
                                blocks.add(new Struct(layout, raw, 0));
                            }
                        }
                    }
                }
            }
            for (Struct block : blocks) {
                assertArrayEquals(block.raw(), block.encode(0, block.raw().length), block.layout.name);
                assertTrue(block.crcValid(0, block.raw().length), block.layout.name + " CRC");
                checked++;
            }
            assertTrue(checked > 3300, "checked " + checked + " structures");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void everyDirectoryFormIsInTheCorpus(String geometry) throws Exception {
        Path img = image(geometry);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Map<String, Long> ino = new HashMap<>();
            fs.manifest(false, Progress.NONE, e -> {
                if (e.type() == FileType.DIRECTORY) {
                    ino.put(e.path(), e.inode());
                }
            });
            Geometry g = fs.geometry;
            assertEquals(Inode.FMT_LOCAL, Inode.read(fs.image, g, ino.get("/sf")).format, "short form");
            long leafStart = Contents.DIR2_LEAF_OFFSET >> g.blockLog;
            assertEquals(1, dataBlocks(fs, ino.get("/block"), leafStart, false), "block form: one directory block");
            assertEquals(0, dataBlocks(fs, ino.get("/block"), leafStart, true), "block form: no leaf");
            assertTrue(dataBlocks(fs, ino.get("/leaf"), leafStart, true) >= 1, "leaf form has a leaf");
            assertTrue(dataBlocks(fs, ino.get("/node"), leafStart, true) >= 3, "node form has a node and leaves");
        }
    }

    /** Directory blocks mapped below (false) or at and above (true) the leaf offset. */
    private static long dataBlocks(XfsImage fs, long ino, long leafStart, boolean leafSpace) throws Exception {
        long n = 0;
        for (Inode.Extent e : Inode.read(fs.image, fs.geometry, ino).extents(fs.image, fs.geometry)) {
            for (long b = e.startOff(); b < e.startOff() + e.count(); b++) {
                if ((b >= leafStart) == leafSpace) {
                    n++;
                }
            }
        }
        return n / (fs.geometry.dirBlockSize / fs.geometry.blockSize);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void btreeWalksAgreeWithTheAgCounters(String geometry) throws Exception {
        Path img = image(geometry);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Geometry g = fs.geometry;
            long inodesInUse = 0;
            long sharedBlocks = 0;
            for (int agno = 0; agno < g.agCount; agno++) {
                Struct agf = Headers.agf(fs.image, g, agno);
                Struct agi = Headers.agi(fs.image, g, agno);
                long[] free = new long[2];
                fs.walkBtree(agno, org.xfstage.api.device.Btree.BNO, r -> free[0] += r.length());
                long[] longest = new long[1];
                fs.walkBtree(agno, org.xfstage.api.device.Btree.CNT, r -> {
                    free[1] += r.length();
                    longest[0] = Math.max(longest[0], r.length());
                });
                assertEquals(agf.get("freeblks"), free[0], "bnobt of AG " + agno);
                assertEquals(agf.get("freeblks"), free[1], "cntbt of AG " + agno);
                assertEquals(agf.get("longest"), longest[0], "cntbt longest of AG " + agno);
                long[] ino = new long[2];
                fs.walkBtree(agno, org.xfstage.api.device.Btree.INO, r -> {
                    ino[0] += r.count();
                    ino[1] += r.freecount();
                    assertEquals(r.freecount(), Long.bitCount(r.free() & ~holes(r.holemask())), "freecount matches the free mask");
                });
                assertEquals(agi.get("count"), ino[0], "inobt count of AG " + agno);
                assertEquals(agi.get("freecount"), ino[1], "inobt freecount of AG " + agno);
                inodesInUse += ino[0] - ino[1];
                if (g.hasFinobt()) {
                    long[] fino = new long[1];
                    fs.walkBtree(agno, org.xfstage.api.device.Btree.FINO, r -> fino[0] += r.freecount());
                    assertEquals(agi.get("freecount"), fino[0], "finobt holds every free inode of AG " + agno);
                }
                // blocks shared by n owners appear n times in the rmapbt: refcountbt says how many extra times
                long[] extraOwners = new long[1];
                if (g.featureNames().contains("reflink")) {
                    fs.walkBtree(agno, org.xfstage.api.device.Btree.REFCOUNT, r -> extraOwners[0] += (r.refcount() - 1) * r.length());
                    sharedBlocks += extraOwners[0];
                }
                if (g.featureNames().contains("rmapbt")) {
                    long[] mapped = new long[1];
                    fs.walkBtree(agno, org.xfstage.api.device.Btree.RMAP, r -> mapped[0] += r.length());
                    assertEquals(agf.get("length") - agf.get("freeblks"), mapped[0] - extraOwners[0],
                            "rmapbt maps every block of AG " + agno + " that is not free space (AGFL blocks included, as OWN_AG)");
                }
            }
            long[] files = new long[1];
            fs.manifest(false, Progress.NONE, e -> files[0]++);
            long hidden = 0; // the realtime bitmap and summary inodes are allocated but not in the directory tree
            for (String meta : List.of("rbmino", "rsumino", "uquotino", "gquotino", "pquotino")) {
                long ino = fs.superblock.get(meta);
                hidden += ino != 0 && ino != -1L ? 1 : 0;
            }
            assertEquals(inodesInUse - hidden, files[0], "every other inode in use is reachable from the root");
            // /shared-b shares all 32 KiB of /shared-a, /shared-c its first 16 KiB
            assertEquals(g.featureNames().contains("reflink") ? (48L << 10) / g.blockSize : 0, sharedBlocks,
                    "the corpus fixture's real sharing is in the refcountbt");
        }
    }

    /** The inodes a sparse-chunk holemask marks as not allocated (each bit covers 4 inodes). */
    private static long holes(long holemask) {
        long m = 0;
        for (int i = 0; i < 16; i++) {
            if ((holemask & (1L << i)) != 0) {
                m |= 0xFL << (4 * i);
            }
        }
        return m;
    }

    @org.junit.jupiter.api.Test
    void multiLevelInodeBtreesWalkWithKeysAndSiblingsChecked() throws Exception {
        // 80,000 inodes over 4 AGs: about 310 chunk records per AG, more than a 4 KiB inobt leaf holds (252)
        Path img = Corpus.image("inodes80k-v1", Corpus.manyInodes(80, 1000), List.of("-i", "maxpct=50"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long multiLevel = 0;
            for (int agno = 0; agno < fs.geometry.agCount; agno++) {
                long[] n = new long[2];
                long blocks = fs.walkBtree(agno, org.xfstage.api.device.Btree.INO, r -> {
                    n[0] += r.count();
                    n[1] += r.freecount();
                });
                Struct agi = Headers.agi(fs.image, fs.geometry, agno);
                assertEquals(agi.get("count"), n[0], "inodes of AG " + agno);
                assertEquals(agi.get("freecount"), n[1], "free inodes of AG " + agno);
                if (agi.get("level") > 1) {
                    multiLevel++;
                    assertTrue(blocks > 2, "a two-level tree has a root and several leaves");
                }
            }
            assertTrue(multiLevel > 0, "at least one AG has a two-level inobt");
            long[] files = new long[1];
            fs.manifest(false, Progress.NONE, e -> files[0]++);
            assertEquals(80_000 + 80 + 1, files[0]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void corpusImagesAreCleanForXfsRepair(String geometry) throws Exception {
        var r = Corpus.status(List.of(Corpus.tool("xfs_repair"), "-n", image(geometry).toString()));
        assertEquals(0, r.getKey(), r.getValue());
    }

    /** Runs xfs_db -r with commands and parses its "name = value" lines. */
    static Map<String, Long> xfsDb(Path img, List<String> commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Corpus.tool("xfs_db"), "-r"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(img.toString());
        Map<String, Long> out = new HashMap<>();
        for (String line : Corpus.run(cmd).split("\n")) {
            String[] kv = line.split(" = ");
            if (kv.length == 2 && kv[1].trim().matches("\\d+")) {
                out.put(kv[0].trim(), Long.parseLong(kv[1].trim()));
            }
        }
        return out;
    }

    /** An inode with a new link count verifies; the same bytes with one byte changed (CRC no longer matching) do not. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void updatedInodesVerifyAndDamagedOnesDoNot(String geometry) throws Exception {
        try (XfsImage fs = XfsImage.open(image(geometry), OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/deep/a/b/leaf-file");
            org.xfstage.api.device.BlockImage b = fs.updateInode(ino, Map.of(org.xfstage.api.device.InodeField.NLINK, 7L));
            assertEquals(fs.geometry.inodeOffset(ino), b.offset());
            fs.verify(b);
            assertEquals(7, Inode.decode(b.bytes(), fs.geometry, ino).nlink);
            byte[] bad = b.bytes().clone();
            bad[200] ^= 1;
            var e = org.junit.jupiter.api.Assertions.assertThrows(org.xfstage.api.device.XfsException.class,
                    () -> fs.verify(new org.xfstage.api.device.BlockImage(b.offset(), bad, b.what())));
            assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        }
    }

    /**
     * The chunk geometry is what xfs_db says the superblock holds (sb_inoalignmt, sb_spino_align, sb_inopblock), and
     * the probe tells an inode in use, a free inode of a chunk, and what is not an inode (a file's data block, a
     * number past the filesystem) apart, as the inobt and the files' extents say.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void chunkGeometryComesFromTheSuperblockAndTheProbeReadsOneInode(String geometry) throws Exception {
        Path img = image(geometry);
        Map<String, Long> sb = xfsDb(img, List.of("sb 0", "p inopblock inoalignmt spino_align"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            org.xfstage.api.device.InodeChunkGeometry chunks = fs.inodeChunkGeometry();
            assertEquals(sb.get("inopblock"), (long) chunks.inodesPerBlock());
            assertEquals(sb.get("inoalignmt") * sb.get("inopblock"), chunks.chunkAlignment());
            // every corpus geometry is made with sparse inodes (the mkfs default): an allocation is sb_spino_align blocks
            assertTrue(fs.info().features().contains("sparse"));
            assertEquals(sb.get("spino_align") * sb.get("inopblock"), chunks.allocationUnit());

            assertEquals(org.xfstage.api.device.InodeProbe.IN_USE, fs.probeInode(fs.geometry.rootIno));
            List<org.xfstage.api.device.InodeChunk> ag0 = new ArrayList<>();
            fs.walkBtree(0, org.xfstage.api.device.Btree.INO, ag0::add);
            org.xfstage.api.device.InodeChunk withFree = ag0.stream().filter(c -> c.freecount() > 0).findFirst().orElseThrow();
            int free = Long.numberOfTrailingZeros(withFree.free());
            assertEquals(org.xfstage.api.device.InodeProbe.FREE, fs.probeInode(fs.inodeNumber(0, withFree.startino() + free)));
            // the first data block of a file holds no inode: the inode numbers of that block probe as none
            long file = Corpus.lookup(fs, "/deep/a/b/leaf-file");
            long fsb = Inode.read(fs.image, fs.geometry, file).extents(fs.image, fs.geometry).get(0).startBlock();
            long agbno = fsb & ((1L << fs.geometry.agBlkLog) - 1);
            long agno = fsb >>> fs.geometry.agBlkLog;
            assertEquals(org.xfstage.api.device.InodeProbe.NONE, fs.probeInode(fs.inodeNumber((int) agno, agbno * chunks.inodesPerBlock())));
            assertEquals(org.xfstage.api.device.InodeProbe.NONE, fs.probeInode(fs.inodeNumber(fs.geometry.agCount, 0)), "past the last AG");
        }
    }
}
