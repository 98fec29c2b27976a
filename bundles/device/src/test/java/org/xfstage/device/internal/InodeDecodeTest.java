package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
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
 * Why an inode does not decode, as the verifying read reports it before it throws ({@link InodeDecodeProblems}), and
 * the header set right in place ({@link XfsImage#rewriteInodeHeader}), on real images damaged with xfs_db -x: every
 * rule the bytes break is named (a repair must know whether the header is all), and a header is only set right on an
 * inode that then decodes; a directory's size is set only where its blocks prove it
 * ({@link XfsImage#directorySizeFromBlocks}). The repairs against xfs_repair -n are UndecodableInodeOracleTest's.
 */
class InodeDecodeTest {
    @TempDir
    Path dir;

    /** The problems a verifying read reports of {@code ino}, which must throw. */
    private static List<InodeProblem> undecodable(XfsDevice fs, long ino) throws Exception {
        List<InodeProblem> out = new ArrayList<>();
        assertThrows(XfsFormatException.class, () -> fs.checkInode(ino, out::add));
        return out;
    }

    private static Set<Kind> kinds(List<InodeProblem> problems) {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        problems.forEach(p -> out.add(p.kind()));
        return out;
    }

    @Test
    void eachRuleThatStopsTheDecodingIsNamedWithItsValues() throws Exception {
        Path img = Corpus.damagedDefault(dir, "undecodable", List.of("path /size-4096", "write -d v3.inumber 5", "path /size-100",
                "write -d core.size -- -1", "path /null-dev", "write -d core.format 2", "path /link-long",
                "write -d core.format 3", "path /size-1", "write -d v3.uuid 01234567-89ab-cdef-0123-456789abcdef"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long number = Corpus.lookup(fs, "/size-4096");
            List<InodeProblem> p = undecodable(fs, number);
            assertEquals(Set.of(Kind.CORE_INUMBER), kinds(p));
            assertEquals(5, p.get(0).found());
            assertEquals(number, p.get(0).expected());
            assertEquals(Set.of(Kind.SIZE_NEGATIVE), kinds(undecodable(fs, Corpus.lookup(fs, "/size-100"))));
            List<InodeProblem> dev = undecodable(fs, Corpus.lookup(fs, "/null-dev"));
            assertEquals(Set.of(Kind.FORMAT_TYPE), kinds(dev));
            assertEquals(2, dev.get(0).found());
            assertEquals(020000, dev.get(0).expected() & 0170000, "the mode is said: a character device's");
            assertEquals(Set.of(Kind.FORMAT_TYPE), kinds(undecodable(fs, Corpus.lookup(fs, "/link-long"))));
            assertEquals(Set.of(Kind.CORE_UUID), kinds(undecodable(fs, Corpus.lookup(fs, "/size-1"))));
            long number2 = number;
            assertThrows(XfsFormatException.class, () -> fs.rewriteInodeHeader(number2), "a header right already is not written");
        }
    }

    @Test
    void aHeaderIsSetRightOnlyWhereTheInodeThenDecodes() throws Exception {
        Path img = Corpus.damagedDefault(dir, "header", List.of("path /size-4096", "write -d core.magic 0", "path /size-100",
                "write -d core.version 2", "path /size-1", "write -d core.magic 0", "write -d v3.inumber 5"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long magic = Corpus.lookup(fs, "/size-4096");
            List<InodeProblem> p = undecodable(fs, magic);
            assertEquals(Set.of(Kind.CORE_MAGIC), kinds(p), "xfs_db wrote the checksum of the bytes as damaged");
            assertEquals(0, p.get(0).found());
            BlockImage b = fs.rewriteInodeHeader(magic);
            fs.verify(b);
            long version = Corpus.lookup(fs, "/size-100");
            // xfs_db computes no checksum for what it takes as a v2 inode: both are set right
            assertEquals(Set.of(Kind.CORE_VERSION, Kind.CORE_CRC), kinds(undecodable(fs, version)));
            BlockImage v = fs.rewriteInodeHeader(version);
            try (XfsDevice view = fs.withPlanned(List.of(b, v))) {
                assertEquals(Set.of(), kinds(readClean(view, magic)), "reads clean, its data as before");
                assertEquals(Set.of(), kinds(readClean(view, version)));
            }
            long both = Corpus.lookup(fs, "/size-1");
            assertEquals(Set.of(Kind.CORE_MAGIC, Kind.CORE_INUMBER), kinds(undecodable(fs, both)), "all of them, not the first");
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.rewriteInodeHeader(both));
            assertTrue(e.getMessage().contains("records itself as inode 5"), e.getMessage());
        }
    }

    private static List<InodeProblem> readClean(XfsDevice fs, long ino) throws Exception {
        List<InodeProblem> out = new ArrayList<>();
        assertTrue(fs.checkInode(ino, out::add), "in use");
        return out;
    }

    /**
     * A directory's size proven by its blocks: the extent map must end where a directory form ends and the directory
     * must read whole without a fault with that size; a map cut short by the extent count proves nothing, nor does a
     * size that is right already.
     */
    @Test
    void aDirectorysSizeIsProvenByItsBlocksOnlyWhereTheyReadAsOneForm() throws Exception {
        long leafSize;
        long blockSize;
        try (XfsImage clean = XfsImage.open(DeviceCorpusTest.image("default"), OpenOptions.readOnly())) {
            leafSize = Inode.read(clean.image, clean.geometry, Corpus.lookup(clean, "/leaf")).size;
            blockSize = Inode.read(clean.image, clean.geometry, Corpus.lookup(clean, "/block")).size;
        }
        Path img = Corpus.damagedDefault(dir, "dir-sizes", List.of("path /leaf", "write -d core.size 300", "path /block", "write -d core.size 100"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long leaf = Corpus.lookup(fs, "/leaf");
            BlockImage b = fs.directorySizeFromBlocks(leaf);
            fs.verify(b);
            assertEquals(leafSize, Inode.decode(b.bytes(), fs.geometry, leaf).size, "the end of the last data block");
            long block = Corpus.lookup(fs, "/block");
            assertEquals(blockSize, Inode.decode(fs.directorySizeFromBlocks(block).bytes(), fs.geometry, block).size);
            try (XfsDevice view = fs.withPlanned(List.of(b))) {
                assertEquals(Set.of(), kinds(readClean(view, leaf)), "reads clean");
                XfsFormatException e = assertThrows(XfsFormatException.class, () -> view.directorySizeFromBlocks(leaf));
                assertTrue(e.getMessage().contains("already"), e.getMessage());
            }
        }
        Path cut = Corpus.damagedDefault(dir, "dir-nextents", List.of("path /leaf", "write -d core.nextents 2"));
        try (XfsImage fs = XfsImage.open(cut, OpenOptions.readOnly())) {
            long leaf = Corpus.lookup(fs, "/leaf");
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.directorySizeFromBlocks(leaf));
            assertTrue(e.getMessage().contains("no directory form"), e.getMessage());
        }
    }
}
