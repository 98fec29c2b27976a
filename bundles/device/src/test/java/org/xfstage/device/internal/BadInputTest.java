package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsException;

/** Every kind of bad input gets one clear line (an XfsException), never another exception, never a hang. */
class BadInputTest {
    @TempDir
    Path dir;

    private String refusal(Path p, OpenOptions o) {
        XfsException e = assertThrows(XfsException.class, () -> XfsImage.open(p, o).close());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private String refusal(Path p) {
        return refusal(p, OpenOptions.readOnly());
    }

    private Path copyOfDefault(String name) throws Exception {
        Path img = dir.resolve(name);
        SparseFiles.copy(DeviceCorpusTest.image("default"), img);
        return img;
    }

    private static void write(Path img, long offset, byte[] bytes) throws Exception {
        try (FileChannel c = FileChannel.open(img, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    @Test
    void missingDirectoryEmptyAndRandomFiles() throws Exception {
        assertTrue(refusal(dir.resolve("nope.img")).endsWith("nope.img: no such file or device"));
        assertTrue(refusal(dir).contains("is a directory"));
        Path empty = Files.createFile(dir.resolve("empty.img"));
        assertTrue(refusal(empty).contains("not an XFS filesystem"), refusal(empty));
        Path random = dir.resolve("random.img");
        byte[] noise = new byte[1 << 20];
        new Random(1).nextBytes(noise);
        Files.write(random, noise);
        assertTrue(refusal(random).contains("not an XFS filesystem"), refusal(random));
    }

    @Test
    void truncatedImage() throws Exception {
        Path img = copyOfDefault("truncated.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(100L << 20);
        }
        assertTrue(refusal(img).contains("image is truncated"), refusal(img));
    }

    /**
     * A primary that claims 2^31 AGs (256 PiB), consistent and with its CRC: its copies past the end of the image are
     * not read (nothing is allocated per AG it claims), too few of them verify to back it, and the copies it does
     * locate agree on the real geometry, so the image opens on them (xfs_repair on a device does the same; on an
     * image file it dies on the short read).
     */
    @Test
    void superblockThatClaimsAHugeFilesystemIsNotAMemoryBomb() throws Exception {
        Path img = copyOfDefault("bomb.img");
        byte[] sector = readSector(img);
        long agblocks = Layouts.SB.get("agblocks").get(sector, 0);
        Layouts.SB.get("agcount").put(sector, 0, 0x7fffffffL);
        Layouts.SB.get("dblocks").put(sector, 0, 0x7fffffffL * agblocks); // consistent: 2^31 AGs, 256 PiB
        Checksums.update(sector, 0, 512, Layouts.SB.crcOffset); // a well-formed lie, CRC and all
        write(img, 0, sector);
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            assertEquals(4, fs.info().agCount());
            assertEquals(1, fs.superblockChoice().sourceAg());
        }
        // and with no copy to agree on, the claim is refused as a truncated image
        for (int agno = 1; agno < 4; agno++) {
            write(img, agno * agblocks * 4096, new byte[4]);
        }
        String why = refusal(img);
        assertTrue(why.contains("image is truncated"), why);
    }

    private static byte[] readSector(Path img) throws Exception {
        try (FileChannel c = FileChannel.open(img)) {
            ByteBuffer b = ByteBuffer.allocate(512);
            c.read(b, 0);
            return b.array();
        }
    }

    /**
     * A primary with a bad CRC opens on its copies (SuperblockChoiceTest has the vote); one whose copies are bad too
     * is refused, naming what is wrong with the primary. v4 is refused.
     */
    @Test
    void badSuperblockChecksumAndV4() throws Exception {
        Path img = copyOfDefault("crc.img");
        write(img, 108, new byte[] {1, 2, 3}); // the label: only the CRC notices
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            assertEquals(java.util.List.of("checksum mismatch"), fs.superblockChoice().primaryProblems());
        }
        long agBytes = 32768L * 4096;
        for (int agno = 1; agno < 4; agno++) {
            write(img, agno * agBytes + 108, new byte[] {1, 2, 3});
        }
        String why = refusal(img);
        assertTrue(why.contains("primary superblock: checksum mismatch, and no superblock copy is agreed on"), why);
        Path v4 = dir.resolve("v4.img");
        try (RandomAccessFile f = new RandomAccessFile(v4.toFile(), "rw")) {
            f.setLength(512L << 20);
        }
        Corpus.requireXfsprogs();
        Corpus.run(List.of(Corpus.tool("mkfs.xfs"), "-q", "-f", "-m", "crc=0", v4.toString()));
        assertTrue(refusal(v4).contains("XFS v4 (without metadata checksums) is not supported"), refusal(v4));
    }

    @Test
    void mountedFilesystemIsRefused() throws Exception {
        Path img = copyOfDefault("mounted.img");
        Path mountinfo = dir.resolve("mountinfo");
        Files.writeString(mountinfo, "22 1 7:0 / /srv/data rw,relatime shared:1 - xfs " + img.toRealPath() + " rw,attr2\n");
        String why = refusal(img, new OpenOptions(false, false, mountinfo));
        assertTrue(why.contains("is mounted on /srv/data"), why);
    }

    @Test
    void secondWriterIsRefusedNotQueued() throws Exception {
        Path img = copyOfDefault("locked.img");
        try (XfsImage first = XfsImage.open(img, OpenOptions.forWriting())) {
            String why = refusal(img, OpenOptions.forWriting());
            assertTrue(why.contains("already open") || why.contains("in use"), why);
            assertTrue(first.info().agCount() > 0);
        }
        XfsImage.open(img, OpenOptions.forWriting()).close(); // released on close
    }

    /**
     * A second open refused in this JVM leaves the first one's lock in place: another process still cannot open the
     * image, not even to read. (POSIX locks belong to the process: had the refused open made a descriptor of the file
     * and closed it, the first open's lock would be gone.)
     */
    @Test
    void aRefusedSecondOpenKeepsTheFirstOnesLock() throws Exception {
        Path img = copyOfDefault("kept.img");
        try (XfsImage first = XfsImage.open(img, OpenOptions.forWriting())) {
            assertEquals(3, openInAnotherProcess(img), "locked against other processes");
            String why = refusal(img, OpenOptions.readOnly());
            assertTrue(why.contains("already open in this container"), why);
            assertEquals(3, openInAnotherProcess(img), "still locked after a refused second open");
        }
        assertEquals(0, openInAnotherProcess(img), "released on close");
    }

    private static int openInAnotherProcess(Path img) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), ReadOnlyOpen.class.getName(), img.toString()).inheritIO().start();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        return p.exitValue();
    }

    /** Opens an image read-only in its own JVM: exit 0 when it could, 3 when it was refused. */
    public static final class ReadOnlyOpen {
        public static void main(String[] args) {
            try (XfsImage fs = XfsImage.open(Path.of(args[0]), OpenOptions.readOnly())) {
                System.exit(0);
            } catch (org.xfstage.api.device.XfsException e) {
                System.exit(3);
            }
        }
    }

    @Test
    void dirtyLogIsRefusedAsXfsRepairDoes() throws Exception {
        Path img = copyOfDefault("dirty.img");
        long logStart;
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            logStart = fs.geometry.fsbOffset(fs.geometry.logStart);
        }
        // the first log record is mkfs's unmount record: clear its op header's UNMOUNT flag (byte 9 of the next sector)
        byte[] op = new byte[1];
        write(img, logStart + 512 + 9, op);
        String why = refusal(img);
        assertTrue(why.contains("log needs recovery"), why);
        var repair = Corpus.status(List.of(Corpus.tool("xfs_repair"), "-n", img.toString()));
        assertTrue(repair.getKey() != 0, "xfs_repair -n also finds the log dirty:\n" + repair.getValue());
        try (XfsImage fs = XfsImage.open(img, new OpenOptions(false, true, OpenOptions.PROC_MOUNTINFO))) {
            assertEquals(4, fs.info().agCount(), "allowDirtyLog opens it for reading");
        }
    }

    /** With allowedPaths set, only images under them open; a symlink from inside to outside is resolved and refused. */
    @Test
    void pathsOutsideTheAllowListAreRefusedBeforeTheyAreOpened() throws Exception {
        Path inside = Files.createDirectories(dir.resolve("allowed"));
        Path outside = Files.createDirectories(dir.resolve("elsewhere"));
        Path good = Files.copy(DeviceCorpusTest.image("default"), inside.resolve("ok.img"));
        Path bad = Files.copy(DeviceCorpusTest.image("default"), outside.resolve("no.img"));
        Path sneaky = Files.createSymbolicLink(inside.resolve("link.img"), bad);
        XfsDeviceServiceImpl service = new XfsDeviceServiceImpl();
        service.configure(new XfsDeviceServiceImpl.Config() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return XfsDeviceServiceImpl.Config.class;
            }

            @Override
            public String[] allowedPaths() {
                return new String[] {inside.toString(), ""};
            }
        });
        try (var d = service.open(good, OpenOptions.readOnly())) {
            assertEquals(4, d.info().agCount());
        }
        for (Path p : List.of(bad, sneaky)) {
            XfsException e = assertThrows(XfsException.class, () -> service.open(p, OpenOptions.readOnly()).close());
            assertTrue(e.getMessage().contains("not under an allowed path"), e.getMessage());
        }
        XfsException missing = assertThrows(XfsException.class, () -> service.open(inside.resolve("none.img"), OpenOptions.readOnly()));
        assertTrue(missing.getMessage().endsWith("no such file or device"), missing.getMessage());
        // a path whose real path cannot be resolved (here a symlink loop) is refused, not opened
        Path loop = Files.createSymbolicLink(inside.resolve("loop.img"), inside.resolve("loop.img"));
        XfsException unresolved = assertThrows(XfsException.class, () -> service.open(loop, OpenOptions.readOnly()).close());
        assertTrue(unresolved.getMessage().contains("real path cannot be resolved"), unresolved.getMessage());
    }
}
