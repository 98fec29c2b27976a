package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.device.internal.CorpusImages;
import org.xfstage.device.internal.SparseFiles;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The record for plans staged by the scrub's own walk from the first damage on, completed by a walk of only the
 * directories before it (LateWalkRecord), is the record a walk of the whole tree stages: the same records in the same
 * order, the same bytes behind them. On real images damaged by xfs_db.
 */
class LateWalkRecordTest {
    @TempDir
    Path dir;
    private XFileFactoryImpl xfiles;
    private XfArrayFactoryImpl arrays;
    private XfBlobFactoryImpl blobs;

    @BeforeEach
    void staging() {
        xfiles = XFileFactoryImpl.standalone(1L << 30, 1L << 31);
        arrays = new XfArrayFactoryImpl(xfiles);
        blobs = new XfBlobFactoryImpl(xfiles);
    }

    @AfterEach
    void stop() {
        arrays.deactivate();
        xfiles.deactivate();
    }

    @Test
    void aHashOutOfOrderMidWalkGivesTheWholeWalksRecord() throws Exception {
        sameAsTheWholeWalk(damaged("default", "/leaf", "write -d lents[5].hashval 0"));
    }

    @Test
    void aDamagedLargeDirectoryOnSmallBlocksGivesTheWholeWalksRecord() throws Exception {
        sameAsTheWholeWalk(damaged("b1024", "/leaf", "write -d lents[3].hashval 0"));
    }

    @Test
    void aTreeTheReaderFindsNoDamageInStagesNothing() throws Exception {
        try (XfsDevice d = new XfsDeviceServiceImpl().open(CorpusImages.image("default"), OpenOptions.readOnly());
                XfArray links = arrays.create("links", LinkCountRecord.SIZE)) {
            LateWalkRecord late = new LateWalkRecord(arrays, blobs, "test");
            d.directoryTree(Progress.NONE, new WholeWalk.Tee(new LinkCounter(links, null, null), List.of(late)));
            assertFalse(late.finish(), "nothing staged for plans where the reader reports no problem");
            assertFalse(late.complete(d, Progress.NONE));
            late.close();
        }
    }

    /** The scrub's walk (link counts, and the late record beside them), completed, against a whole walk's record. */
    private void sameAsTheWholeWalk(Path img) throws Exception {
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly());
                XfArray links = arrays.create("links", LinkCountRecord.SIZE);
                XfArray whole = arrays.create("whole", DirectoryWalkRecord.SIZE);
                XfBlob wholeBytes = blobs.create("whole");
                LateWalkRecord late = new LateWalkRecord(arrays, blobs, "test")) {
            d.directoryTree(Progress.NONE, new WholeWalk.Tee(new LinkCounter(links, null, null), List.of(late)));
            assertTrue(late.complete(d, Progress.NONE), "the record completed from the directories before the damage");
            LinkCounter all = new LinkCounter(null, whole, wholeBytes);
            d.directoryTree(Progress.NONE, all);
            all.finish();

            XfArray part = late.walked();
            assertNotNull(part);
            long directories = 0;
            DirectoryWalkRecord r = new DirectoryWalkRecord();
            for (long i = r.loadNext(whole, 0); i >= 0; i = r.loadNext(whole, i + 1)) {
                directories += r.kind() == DirectoryWalkRecord.Kind.DIRECTORY ? 1 : 0;
            }
            assertTrue(late.directoriesBefore() > 0 && late.directoriesBefore() < directories, "the walk for plans reads "
                    + late.directoriesBefore() + " of the " + directories + " directories");
            assertEquals(whole.length(), part.length(), "records");
            byte[] a = new byte[DirectoryWalkRecord.SIZE];
            byte[] b = new byte[DirectoryWalkRecord.SIZE];
            for (long i = 0; i < whole.length(); i++) {
                assertFalse(part.isNull(i), "record " + i + " staged");
                whole.load(i, a);
                part.load(i, b);
                assertArrayEquals(wholeBytes.load(cookie(a)), late.told().load(cookie(b)), "the bytes of record " + i);
                assertArrayEquals(withoutCookie(a), withoutCookie(b), "record " + i);
            }
        }
    }

    /** The record's cookie (big-endian u64 at byte 32: DirectoryWalkRecord's layout), which differs between blobs. */
    private static long cookie(byte[] rec) {
        return java.nio.ByteBuffer.wrap(rec).getLong(32);
    }

    private static byte[] withoutCookie(byte[] rec) {
        byte[] c = rec.clone();
        Arrays.fill(c, 32, 40, (byte) 0);
        return c;
    }

    /** A copy of the corpus image of {@code geometry} with {@code write} done in {@code path}'s first leaf block. */
    private Path damaged(String geometry, String path, String write) throws Exception {
        Path img = dir.resolve(geometry + ".img");
        SparseFiles.copy(CorpusImages.image(geometry), img);
        long blockSize;
        try (XfsDevice d = new XfsDeviceServiceImpl().open(img, OpenOptions.readOnly())) {
            blockSize = d.info().blockSize();
        }
        List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db"), "-x", "-c", "path " + path, "-c",
                "dblock " + (1L << 35) / blockSize, "-c", write, img.toString()));
        CorpusImages.run(cmd);
        return img;
    }
}
