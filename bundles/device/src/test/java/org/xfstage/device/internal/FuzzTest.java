package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.staging.Progress;

/**
 * Thousands of metadata blocks damaged at random (fixed seeds), half of them with the CRC recomputed so that the
 * structural checks behind it are reached: opening, info and a full manifest end normally or with an
 * XfsException, never with another exception, and each within a time bound; the verifying walk of every directory
 * ends normally too.
 */
class FuzzTest {
    private static final int ROUNDS = 3000;
    private static final DirectorySink IGNORE = new DirectorySink() {
        @Override
        public void entry(DirectoryEntry entry) {
        }

        @Override
        public void problem(DirectoryProblem problem) {
        }
    };

    @TempDir
    Path dir;

    /** A metadata region: where it is, how long, and where its CRC sits in it (-1: none). */
    record Region(String what, long offset, int length, int crcAt) {
    }

    @Test
    void damagedMetadataNeverEscapesAsAnythingButAFormatError() throws Exception {
        Path img = dir.resolve("fuzz.img");
        SparseFiles.copy(Corpus.image("small-v1", Corpus.smallTree(), List.of()), img);
        List<Region> regions = regions(img);
        Random rnd = new Random(4242);
        int formatErrors = 0;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int round = 0; round < ROUNDS; round++) {
                Region r = regions.get(rnd.nextInt(regions.size()));
                ByteBuffer original = ByteBuffer.allocate(r.length());
                ch.read(original, r.offset());
                byte[] damaged = original.array().clone();
                int flips = 1 + rnd.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    damaged[rnd.nextInt(damaged.length)] = (byte) rnd.nextInt(256);
                }
                if (r.crcAt() >= 0 && rnd.nextBoolean()) {
                    Checksums.update(damaged, 0, damaged.length, r.crcAt());
                }
                ch.write(ByteBuffer.wrap(damaged), r.offset());
                String label = "round " + round + " (" + r.what() + ")" + changed(original.array(), damaged);
                boolean[] formatError = {false};
                assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                    try (XfsImage fs = XfsImage.open(img, new OpenOptions(false, true, OpenOptions.PROC_MOUNTINFO))) {
                        fs.directoryTree(Progress.NONE, IGNORE); // damage is reported to the sink, never thrown
                        fs.info();
                        fs.manifest(true, Progress.NONE, e -> { });
                    } catch (XfsException expected) {
                        formatError[0] = true;
                    } catch (RuntimeException | Error e) {
                        throw new AssertionError(label + " escaped as " + e, e);
                    }
                }, label + " took too long");
                if (formatError[0]) {
                    formatErrors++;
                }
                ch.write(ByteBuffer.wrap(original.array()), r.offset());
            }
        }
        if (formatErrors < ROUNDS / 2) {
            fail("only " + formatErrors + " of " + ROUNDS + " damaged images were noticed: the fuzz is not reaching the decoders");
        }
    }

    private static String changed(byte[] before, byte[] after) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < before.length; i++) {
            if (before[i] != after[i]) {
                b.append(" @").append(i).append(':').append(before[i] & 0xff).append("->").append(after[i] & 0xff);
            }
        }
        return b.toString();
    }

    /** Superblocks, AG headers, every inode, every directory and bmbt block of the small image. */
    private static List<Region> regions(Path img) throws Exception {
        List<Region> out = new ArrayList<>();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Geometry g = fs.geometry;
            for (int agno = 0; agno < g.agCount; agno++) {
                long base = g.agBlockOffset(agno, 0);
                out.add(new Region("sb " + agno, base, g.sectorSize, Layouts.SB.crcOffset));
                out.add(new Region("agf " + agno, base + g.sectorSize, g.sectorSize, Layouts.AGF.crcOffset));
                out.add(new Region("agi " + agno, base + 2L * g.sectorSize, g.sectorSize, Layouts.AGI.crcOffset));
                out.add(new Region("agfl " + agno, base + 3L * g.sectorSize, g.sectorSize, Layouts.AGFL.crcOffset));
            }
            List<long[]> inodes = new ArrayList<>();
            fs.manifest(false, Progress.NONE, e -> inodes.add(new long[] {e.inode(), e.type() == FileType.DIRECTORY ? 1 : 0}));
            for (long[] i : inodes) {
                out.add(new Region("inode " + i[0], g.inodeOffset(i[0]), g.inodeSize, Layouts.DINODE.crcOffset));
                if (i[1] == 1) {
                    Inode d = Inode.read(fs.image, g, i[0]);
                    for (Inode.Extent e : d.extents(fs.image, g)) {
                        for (long b = 0; b < e.count(); b++) {
                            // dir3 data/block/free blocks keep their CRC at 4, leaf and node blocks at 12
                            boolean leafSpace = e.startOff() + b >= (Contents.DIR2_LEAF_OFFSET >> g.blockLog);
                            out.add(new Region("dir block of " + i[0], g.fsbOffset(e.startBlock() + b), g.blockSize,
                                    leafSpace ? Layouts.DA3_NODE.crcOffset : Layouts.DIR3_DATA.crcOffset));
                        }
                    }
                }
            }
        }
        return out;
    }
}
