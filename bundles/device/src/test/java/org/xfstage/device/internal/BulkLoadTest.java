package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;

/**
 * The bulk loader makes trees our own verified walk reads back, including node levels: 3000 records of a bnobt, an
 * inobt, a refcountbt or an rmapbt (two-level trees on 4 KiB blocks; the rmapbt's high keys checked by the walk)
 * written into the free space of a throwaway copy and walked; given more blocks than it needs at the least, it
 * spreads the records and keeps every block but the root at least half full.
 */
class BulkLoadTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = BtreeType.class, names = {"BNO", "INO", "REFCOUNT", "RMAP"})
    void multiLevelTreeReadsBackRecordForRecord(BtreeType type) throws Exception {
        loadAndReadBack(type, 0);
    }

    @ParameterizedTest
    @EnumSource(value = BtreeType.class, names = {"BNO", "RMAP"})
    void aTreeGivenMoreBlocksSpreadsItsRecordsAndStaysHalfFull(BtreeType type) throws Exception {
        loadAndReadBack(type, 3);
    }

    private void loadAndReadBack(BtreeType type, int extraBlocks) throws Exception {
        Path img = dir.resolve("bulk.img");
        SparseFiles.copy(DeviceCorpusTest.image(type == BtreeType.RMAP ? "rmapbt" : "default"), img);
        int agno = 3; // nearly empty: one long free extent
        List<long[]> records = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            int free = i % 64; // inode chunks: sparse-inode record fields, free inodes at the bottom of the mask
            records.add(switch (type) {
                case BNO -> new long[] {20_000 + 2L * i, 1};
                case REFCOUNT -> new long[] {20_000 + 4L * i, 2, 2 + i % 3, 0};
                // the first record reaches furthest: every high key on its path is its end, not the last record's
                case RMAP -> new long[] {20_000 + 2L * i, i == 0 ? 9_000 : 2, 500 + i % 5, 8L * i, i % 3 == 0 ? 1 : i % 3 == 1 ? 2 : 4};
                default -> new long[] {64L * (i + 1), 0, 64, free, (1L << free) - 1};
            });
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.forWriting())) {
            int need = fs.btreeBlocksNeeded(type, records.size()) + extraBlocks;
            assertTrue(need > 2, "more than one leaf and a root: " + need);
            assertTrue(fs.btreeFits(type, records.size(), need));
            assertTrue(!fs.btreeFits(type, records.size(), 2 * records.size()), "not with blocks less than half full");
            long[] blocks = new long[need];
            for (int i = 0; i < need; i++) {
                blocks[i] = 10_000 + i; // free blocks of AG 3, away from the records
            }
            XfsDevice.BulkLoad tree = fs.bulkLoad(agno, tree(type), typed(type, records), blocks);
            assertEquals(2, tree.levels());
            for (BlockImage b : tree.blocks()) {
                fs.verify(b);
            }
            List<BlockImage> all = new ArrayList<>(tree.blocks());
            all.add(switch (type) {
                case BNO -> fs.updateHeader(HeaderKind.AGF, agno, Map.of(HeaderField.root(type), tree.root(), HeaderField.level(type), (long) tree.levels()));
                case REFCOUNT, RMAP -> fs.updateHeader(HeaderKind.AGF, agno, Map.of(HeaderField.root(type), tree.root(),
                        HeaderField.level(type), (long) tree.levels(), HeaderField.blocks(type), (long) tree.blocks().size()));
                default -> fs.updateHeader(HeaderKind.AGI, agno, Map.of(HeaderField.root(type), tree.root(), HeaderField.level(type),
                        (long) tree.levels()));
            });
            byte[] before = Files.readAllBytes(img);
            try (XfsDevice view = fs.withPlanned(all)) { // the planned tree is there to read before it is written
                List<long[]> seen = new ArrayList<>();
                view.walkBtree(agno, tree(type), r -> seen.add(Records.fields(type, r)));
                assertEquals(records.size(), seen.size());
                assertArrayEquals(records.get(records.size() - 1), seen.get(seen.size() - 1));
            }
            assertArrayEquals(before, Files.readAllBytes(img), "a view writes nothing");
            fs.commit(all, dir.resolve("bulk.undo"));
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            List<long[]> back = new ArrayList<>();
            int perLeaf = (fs.geometry.blockSize - Btrees.SBLOCK_HDR) / Btrees.shape(type).recLen();
            long blocks = fs.walkBtree(agno, tree(type), r -> back.add(Records.fields(type, r)));
            assertEquals(records.size(), back.size());
            for (int i = 0; i < records.size(); i++) {
                assertArrayEquals(records.get(i), back.get(i), "record " + i);
            }
            assertEquals(fs.btreeBlocksNeeded(type, records.size()) + extraBlocks, blocks);
            List<Integer> counts = leafCounts(fs, agno, type);
            assertTrue(counts.stream().allMatch(n -> n >= perLeaf / 2 && n <= perLeaf), "leaves at least half full: " + counts);
            assertEquals(records.size(), counts.stream().mapToInt(Integer::intValue).sum());
        }
    }

    /** A streamed load that announces another record count than its iterator gives is refused, not truncated or padded. */
    @Test
    void aStreamedLoadMustGiveTheCountItAnnounces() throws Exception {
        try (XfsImage fs = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
            List<long[]> records = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                records.add(new long[] {20_000 + 2L * i, 1});
            }
            long[] one = {10_000};
            assertEquals(1, fs.bulkLoad(3, tree(BtreeType.BNO), 10, typed(BtreeType.BNO, records).iterator(), one).blocks().size());
            XfsException fewer = assertThrows(XfsException.class, () -> fs.bulkLoad(3, tree(BtreeType.BNO), 11, typed(BtreeType.BNO, records).iterator(), one));
            assertTrue(fewer.getMessage().contains("fewer records than the 11 announced"), fewer.getMessage());
            XfsException more = assertThrows(XfsException.class, () -> fs.bulkLoad(3, tree(BtreeType.BNO), 9, typed(BtreeType.BNO, records).iterator(), one));
            assertTrue(more.getMessage().contains("more records than the 9 announced"), more.getMessage());
        }
    }

    /** The typed tree of a type, for records handled generically. */
    @SuppressWarnings("unchecked")
    private static Btree<Object> tree(BtreeType type) {
        return (Btree<Object>) Btree.of(type);
    }

    /** Field arrays as the api's typed records. */
    private static List<Object> typed(BtreeType type, List<long[]> records) {
        return records.stream().map(r -> Records.typed(tree(type), r)).toList();
    }

    /** Records in each leaf of a tree, as our walk finds them. */
    private static List<Integer> leafCounts(XfsImage fs, int agno, BtreeType type) throws Exception {
        List<Integer> counts = new ArrayList<>();
        new Btrees(fs.image, fs.geometry).walk(agno, type, r -> { }, h -> {
            if (h.get("level") == 0) {
                counts.add((int) h.get("numrecs"));
            }
        });
        return counts;
    }
}
