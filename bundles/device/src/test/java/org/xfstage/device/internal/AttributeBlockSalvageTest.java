package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;

/**
 * {@link AttributeBlockSalvage} on a leaf whose bytes are garbage: whatever the leaf holds, the salvage either keeps
 * what reads in blocks that verify and read clean, or refuses with one line (an {@link XfsFormatException}); it never
 * throws anything else and its loops end (bounded by the block). The leaf is /size-100's, made by xfs_db attr_set on
 * the default corpus image; its header (magic, place, uuid, owner) is kept so that the salvage reads the entries.
 */
class AttributeBlockSalvageTest {
    @TempDir
    Path dir;

    /** Fuzzed leaves tried; each is one write and one salvage of a 4 KiB block (a few milliseconds). */
    private static final int ROUNDS = 300;
    /** The leaf header the fuzz leaves alone: blkinfo through the free map (xfs_attr3_leaf_hdr). */
    private static final int KEEP = 56;

    @Test
    void aLeafOfGarbageIsSalvagedIntoBlocksThatReadCleanOrRefusedInOneLine() throws Exception {
        Path img = Corpus.damagedDefault(dir, "xattr-leaf", List.of("path /size-100", "attr_set -n user.a -v 3000",
                "attr_set -n user.b -v 5000", "attr_set -n user.c -v 10"));
        long ino;
        long leafAt;
        byte[] clean;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            ino = Corpus.lookup(fs, "/size-100");
            Inode inode = Inode.read(fs.image, fs.geometry, ino);
            leafAt = fs.geometry.fsbOffset(inode.forkExtents(fs.image, fs.geometry, true, b -> { }).get(0).startBlock());
            clean = fs.image.read(leafAt, fs.geometry.blockSize);
        }
        Random random = new Random(18);
        int kept = 0;
        int refused = 0;
        for (int round = 0; round < ROUNDS; round++) {
            byte[] b = clean.clone();
            if (round % 2 == 0) { // a few bytes changed: entries partly readable
                for (int i = 0; i < 1 + random.nextInt(16); i++) {
                    b[KEEP + random.nextInt(b.length - KEEP)] = (byte) random.nextInt(256);
                }
            } else { // all garbage past the header
                byte[] noise = new byte[b.length - KEEP];
                random.nextBytes(noise);
                System.arraycopy(noise, 0, b, KEEP, noise.length);
                b[56] = 0; // a count below 256 entries, so that some land in the block
            }
            try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
                f.seek(leafAt);
                f.write(b);
            }
            try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
                List<BlockImage> out;
                try {
                    out = fs.salvageAttributeBlocks(ino);
                } catch (XfsFormatException e) {
                    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
                    refused++;
                    continue;
                }
                for (BlockImage x : out) {
                    fs.verify(x);
                }
                try (XfsDevice view = fs.withPlanned(out)) {
                    Set<Kind> left = EnumSet.noneOf(Kind.class);
                    view.checkInode(ino, (InodeProblem p) -> left.add(p.kind()));
                    assertEquals(Set.of(), left, "round " + round + ": the salvaged fork reads clean: " + out.get(0).what());
                }
                kept++;
            }
        }
        System.out.printf("ATTRIBUTE SALVAGE FUZZ %d rounds: %d salvaged, %d refused%n", ROUNDS, kept, refused);
        assertTrue(kept > 0 && refused > 0, "both ends met: " + kept + " salvaged, " + refused + " refused");
    }
}
