package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;

/**
 * The bulk loader makes trees our own verified walk reads back, including node levels: 3000 records of a bnobt, an
 * inobt or a refcountbt (two-level trees on 4 KiB blocks) written into the free space of a throwaway copy and walked.
 */
class BulkLoadTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = BtreeType.class, names = {"BNO", "INO", "REFCOUNT"})
    void multiLevelTreeReadsBackRecordForRecord(BtreeType type) throws Exception {
        Path img = dir.resolve("bulk.img");
        Files.copy(DeviceCorpusTest.image("default"), img, StandardCopyOption.REPLACE_EXISTING);
        int agno = 3; // nearly empty: one long free extent
        List<long[]> records = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            int free = i % 64; // inode chunks: sparse-inode record fields, free inodes at the bottom of the mask
            records.add(switch (type) {
                case BNO -> new long[] {20_000 + 2L * i, 1};
                case REFCOUNT -> new long[] {20_000 + 4L * i, 2, 2 + i % 3, 0};
                default -> new long[] {64L * (i + 1), 0, 64, free, (1L << free) - 1};
            });
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.forWriting())) {
            int need = fs.btreeBlocksNeeded(type, records.size());
            assertTrue(need > 2, "more than one leaf and a root: " + need);
            long[] blocks = new long[need];
            for (int i = 0; i < need; i++) {
                blocks[i] = 10_000 + i; // free blocks of AG 3, away from the records
            }
            XfsDevice.BulkLoad tree = fs.bulkLoad(agno, type, records, blocks);
            assertEquals(2, tree.levels());
            for (BlockImage b : tree.blocks()) {
                fs.verify(b);
            }
            List<BlockImage> all = new ArrayList<>(tree.blocks());
            all.add(switch (type) {
                case BNO -> fs.updateHeader(HeaderKind.AGF, agno, Map.of("bno_root", tree.root(), "bno_level", (long) tree.levels()));
                case REFCOUNT -> fs.updateHeader(HeaderKind.AGF, agno, Map.of("refcount_root", tree.root(), "refcount_level",
                        (long) tree.levels(), "refcount_blocks", (long) tree.blocks().size()));
                default -> fs.updateHeader(HeaderKind.AGI, agno, Map.of("root", tree.root(), "level", (long) tree.levels()));
            });
            fs.commit(all, dir.resolve("bulk.undo"));
        }
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            List<long[]> back = new ArrayList<>();
            long blocks = fs.walkBtree(agno, type, back::add);
            assertEquals(records.size(), back.size());
            for (int i = 0; i < records.size(); i++) {
                assertArrayEquals(records.get(i), back.get(i), "record " + i);
            }
            assertEquals(fs.btreeBlocksNeeded(type, records.size()), blocks);
        }
    }
}
