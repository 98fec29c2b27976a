package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
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
 * The device's clearing of inodes and dropping of attribute forks ({@link XfsImage#clearInode},
 * {@link XfsImage#dropAttributeFork}) on real images damaged with xfs_db -x: a cleared inode reads as free with only
 * its identity left, the root is refused; a file without its attribute fork reads clean with the data fork's blocks
 * counted; a remote symlink's headers set again only where its target proves them. The oracle runs (repair, xfs_repair -n, manifest, undo) are InodeClearOracleTest's.
 */
class InodeClearTest {
    @TempDir
    Path dir;

    private static Set<Kind> kinds(XfsDevice fs, long ino) throws Exception {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        fs.checkInode(ino, (InodeProblem p) -> out.add(p.kind()));
        return out;
    }

    @Test
    void aClearedInodeIsFreeWithOnlyItsIdentityAndTheRootIsRefused() throws Exception {
        Path img = Corpus.damagedDefault(dir, "chardev-size", List.of("path /null-dev", "write -d core.size 100"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/null-dev");
            assertTrue(kinds(fs, ino).contains(Kind.SPECIAL_SIZE));
            BlockImage b = fs.clearInode(ino);
            fs.verify(b);
            Struct core = Inode.decode(b.bytes(), fs.geometry, ino).core;
            assertEquals(0, core.get("mode"));
            assertEquals(0, core.get("size"));
            assertEquals(Inode.FMT_EXTENTS, core.get("format"));
            assertEquals(Inode.FMT_EXTENTS, core.get("aformat"));
            assertEquals(InodeChecks.NULL_AGINO, core.get("next_unlinked"));
            try (XfsDevice view = fs.withPlanned(List.of(b))) {
                assertFalse(view.checkInode(ino, p -> { }), "free on the view");
                assertEquals(null, view.fileType(ino));
            }
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.clearInode(fs.geometry.rootIno));
            assertTrue(e.getMessage().contains("never cleared"), e.getMessage());
        }
    }

    @Test
    void aFileWithoutItsAttributeForkReadsCleanWithItsDataBlocksCounted() throws Exception {
        Path img = Corpus.damagedDefault(dir, "xattr-leaf-hash", List.of("path /size-100", "attr_set -n user.a -v 3000", "attr_set -n user.b -v 5000",
                "attr_set -n user.c -v 10", "ablock 0", "write -d entries[0].hashval 5"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/size-100");
            assertTrue(kinds(fs, ino).contains(Kind.XATTR_HASH), kinds(fs, ino).toString());
            BlockImage b = fs.dropAttributeFork(ino);
            fs.verify(b);
            Struct core = Inode.decode(b.bytes(), fs.geometry, ino).core;
            assertEquals(0, core.get("forkoff"));
            assertEquals(0, core.get("anextents"));
            assertEquals(1, core.get("nblocks"), "the one data block of a 100-byte file");
            try (XfsDevice view = fs.withPlanned(List.of(b))) {
                assertEquals(Set.of(), kinds(view, ino), "reads clean");
            }
        }
    }

    @Test
    void aBtreeDataForkKeepsItsAttributeFork() throws Exception {
        Path img = Corpus.damagedDefault(dir, "fragmented-attr", List.of("path /fragmented", "attr_set -n user.x -v 10"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/fragmented");
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.dropAttributeFork(ino));
            assertTrue(e.getMessage().contains("btree"), e.getMessage());
        }
    }

    @Test
    void aRemoteSymlinkWhoseTargetProvesItsHeaderGetsItAgainAndAnotherIsRefused() throws Exception {
        Path img = Corpus.damagedDefault(dir, "symlink-owner", List.of("path /link-long", "dblock 0", "type symlink", "write -d owner 5"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/link-long");
            assertTrue(kinds(fs, ino).contains(Kind.SYMLINK_OWNER), kinds(fs, ino).toString());
            List<BlockImage> blocks = fs.rebuildSymlinkBlocks(ino);
            assertEquals(1, blocks.size());
            fs.verify(blocks.get(0));
            try (XfsDevice view = fs.withPlanned(blocks)) {
                assertEquals(Set.of(), kinds(view, ino), "reads clean");
            }
        }
        Path offset = Corpus.damagedDefault(dir, "symlink-offset", List.of("path /link-long", "dblock 0", "type symlink", "write -d offset 7"));
        try (XfsImage fs = XfsImage.open(offset, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/link-long");
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.rebuildSymlinkBlocks(ino));
            assertTrue(e.getMessage().contains("the size wants 0+"), e.getMessage());
        }
    }

    @Test
    void anInodeWhoseOnlyFaultIsItsChecksumGetsItAgain() throws Exception {
        Path img = Corpus.damagedDefault(dir, "inode-crc", List.of("path /size-4096", "write -c core.gid 7", "path /size-1", "write -c core.magic 0"));
        try (XfsImage fs = XfsImage.open(img, OpenOptions.readOnly())) {
            long ino = Corpus.lookup(fs, "/size-4096");
            BlockImage b = fs.rewriteInodeChecksum(ino);
            fs.verify(b);
            assertEquals(7, Inode.decode(b.bytes(), fs.geometry, ino).core.get("gid"), "the bytes kept");
            try (XfsDevice view = fs.withPlanned(List.of(b))) {
                assertEquals(Set.of(), kinds(view, ino), "reads clean");
            }
            long noMagic = Corpus.lookup(fs, "/size-1");
            assertThrows(XfsFormatException.class, () -> fs.rewriteInodeChecksum(noMagic), "no inode with a right checksum either");
            long root = fs.geometry.rootIno;
            XfsFormatException e = assertThrows(XfsFormatException.class, () -> fs.rewriteInodeChecksum(root));
            assertTrue(e.getMessage().contains("checksum is right"), e.getMessage());
        }
    }
}
