package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.ReadSink;
import org.xfstage.api.device.XfsDevice;

/**
 * A recording view of the device ({@link XfsImage#recordingReads}) tells its sink of the superblock choice's reads before
 * anything else (every later decoding depends on them), then of every read its readers make, views made from it
 * included, and reads the same as the device it was made from.
 */
class RecordingReadsTest {

    /** The (offset, length) pairs told, in order. */
    private static final class Told implements ReadSink {
        final List<long[]> reads = new ArrayList<>();

        @Override
        public synchronized void read(long offset, int length) {
            reads.add(new long[] {offset, length});
        }

        synchronized boolean covers(long offset, int length) {
            return reads.stream().anyMatch(r -> r[0] <= offset && offset + length <= r[0] + r[1]);
        }
    }

    @Test
    void theSuperblockChoiceFirstThenEveryReadOfTheViewAndOfViewsMadeFromIt() throws Exception {
        try (XfsImage fs = XfsImage.open(CorpusImages.image("default"), OpenOptions.readOnly())) {
            Told told = new Told();
            XfsDevice rec = fs.recordingReads(told);
            assertNotNull(rec);
            assertTrue(told.covers(0, 512), "the primary superblock, read when the choice was made, told first: " + told.reads.size());
            int atOpen = told.reads.size();
            long root = fs.geometry.rootIno;
            assertEquals(fs.info(), rec.info(), "reads as the device does");
            assertEquals(fs.fileType(root), rec.fileType(root));
            assertTrue(told.covers(fs.geometry.inodeOffset(root), fs.geometry.inodeSize), "the root inode's read told");
            assertTrue(told.reads.size() > atOpen);

            // a plan made on the view reads through it: a view of it records, its own superblock choice included
            BlockImage same = new BlockImage(fs.geometry.inodeOffset(root), fs.image.read(fs.geometry.inodeOffset(root),
                    fs.geometry.inodeSize), "the root inode as it is");
            int before = told.reads.size();
            try (XfsDevice view = rec.withPlanned(List.of(same))) {
                assertTrue(told.reads.size() > before, "the view's superblock choice told");
                assertEquals(fs.fileType(root), view.fileType(root));
            }
            int after = told.reads.size();
            try (XfsDevice plain = fs.withPlanned(List.of())) {
                plain.fileType(root);
            }
            fs.fileType(root);
            assertEquals(after, told.reads.size(), "the device and views made from it, not from the recording view, tell nothing");
            assertFalse(told.covers(fs.image.size() - 1, 1), "nothing read that was not");
        }
    }
}
