package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsException;

/**
 * The verifying inode reader on damage at random (a fixed seed): inodes, a bmbt block, a remote symlink block and
 * attribute leaf, node and remote value blocks, half of them with their CRC recomputed so that the rules behind it
 * are reached. Checking every inode ends with problems or an XfsException, never another exception, never a hang;
 * and the damage is noticed often enough to show the fuzz reaches the checks.
 */
class InodeFuzzTest {
    private static final int ROUNDS = 1000;

    @TempDir
    Path dir;

    @Test
    void damagedInodesAndTheirBlocksNeverEscapeAsAnythingButProblemsOrFormatErrors() throws Exception {
        Path img = dir.resolve("fuzz.img");
        SparseFiles.copy(DeviceCorpusTest.image("default"), img);
        // attributes in all three forms, on three files
        List<String> cmd = new ArrayList<>(List.of(Corpus.tool("xfs_db"), "-x"));
        for (String form : List.of("short", "leaf", "node")) {
            List<String> made = InodeChecksTest.attributes(form);
            made.set(0, "path /size-" + switch (form) {
                case "short" -> "1";
                case "leaf" -> "100";
                default -> "4095";
            });
            for (String c : made) {
                cmd.add("-c");
                cmd.add(c);
            }
        }
        cmd.add(img.toString());
        Corpus.run(cmd);
        List<FuzzTest.Region> regions = regions(img);
        Random rnd = new Random(2027);
        int noticed = 0;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int round = 0; round < ROUNDS; round++) {
                FuzzTest.Region r = regions.get(rnd.nextInt(regions.size()));
                ByteBuffer original = ByteBuffer.allocate(r.length());
                ch.read(original, r.offset());
                byte[] damaged = original.array().clone();
                for (int i = 1 + rnd.nextInt(6); i > 0; i--) {
                    damaged[rnd.nextInt(damaged.length)] = (byte) rnd.nextInt(256);
                }
                if (rnd.nextBoolean()) {
                    Checksums.update(damaged, 0, damaged.length, r.crcAt());
                }
                ch.write(ByteBuffer.wrap(damaged), r.offset());
                String label = "round " + round + " (" + r.what() + ")";
                int[] found = {0};
                assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                    try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
                        for (long ino : inodes(fs)) {
                            try {
                                fs.checkInode(ino, p -> found[0]++);
                            } catch (XfsException e) {
                                found[0]++;
                            }
                        }
                    } catch (RuntimeException | Error e) {
                        throw new AssertionError(label + " escaped as " + e, e);
                    }
                }, label + " did not end");
                if (found[0] > 0) {
                    noticed++;
                }
                ch.write(ByteBuffer.wrap(original.array()), r.offset());
            }
        }
        assertTrue(noticed > ROUNDS / 2, "only " + noticed + " of " + ROUNDS + " damaged images were noticed");
    }

    private static List<Long> inodes(XfsImage fs) throws Exception {
        List<Long> out = new ArrayList<>();
        for (int agno = 0; agno < fs.geometry.agCount; agno++) {
            int a = agno;
            fs.walkBtree(agno, org.xfstage.api.device.Btree.INO, c -> {
                for (int i = 0; i < org.xfstage.api.device.InodeChunk.INODES; i++) {
                    if (!c.isHole(i)) {
                        out.add(fs.inodeNumber(a, c.startino() + i));
                    }
                }
            });
        }
        return out;
    }

    /** The inodes in use that own something worth damaging, and the blocks they map that have a header. */
    private static List<FuzzTest.Region> regions(Path img) throws Exception {
        List<FuzzTest.Region> out = new ArrayList<>();
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            Geometry g = fs.geometry;
            for (String path : List.of("/size-1", "/size-100", "/size-4095", "/fragmented", "/link-long", "/link-short",
                    "/holey", "/node", "/sf", "/pipe", "/null-dev")) {
                long ino = Corpus.lookup(fs, path);
                out.add(new FuzzTest.Region(path + " inode", g.inodeOffset(ino), g.inodeSize, 100));
                Inode inode = Inode.read(fs.image, g, ino);
                for (boolean attr : new boolean[] {false, true}) {
                    if (attr && path.equals("/size-1")) {
                        continue; // short form: in the inode
                    }
                    List<Long> bmbt = new ArrayList<>();
                    for (Inode.Extent e : inode.forkExtents(fs.image, g, attr, bmbt::add)) {
                        if (attr || path.equals("/link-long")) {
                            for (long b = 0; b < e.count(); b++) {
                                out.add(new FuzzTest.Region(path + (attr ? " attribute block " : " target block ") + (e.startOff() + b),
                                        g.fsbOffset(e.startBlock() + b), g.blockSize, 12));
                            }
                        }
                    }
                    for (long b : bmbt) {
                        out.add(new FuzzTest.Region(path + " bmbt block", g.fsbOffset(b), g.blockSize, 64));
                    }
                }
            }
        }
        return out;
    }
}
