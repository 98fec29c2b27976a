package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.xfstage.api.device.BlockAllocator;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.SalvagedEntry;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * A free inode of an existing chunk made a new short-form directory, as xfs_repair makes /lost+found (mk_orphanage,
 * libxfs_dir_ialloc): mode S_IFDIR|0755, owned by root, one link per name (2, and one per subdirectory), the data
 * fork short form, no attribute fork, every timestamp the time it is made. The core is written whole, not kept from
 * the free inode (which holds what its last file left: sizes, flags, extent counts); only the generation is kept when
 * the free core reads as one of this filesystem's, as the kernel keeps it when it reuses an inode. The body is laid
 * out by {@link DirectoryRebuild}, on a view with the new core, which reads the directory back.
 * <p>
 * Whether the inode btrees list the inode as free is the caller's to prove (the scrub's inode map): here the inode
 * must be an inode number of this filesystem whose core is free (mode zero) or all zero bytes. The inode btrees,
 * the AGI and the superblock counters the new inode changes are other plans' work.
 */
final class NewDirectory {
    /** S_IFDIR | 0755. */
    static final int MODE = 0x4000 | 0755;
    private static final int MAGIC = 0x494E;
    /** NULLAGINO: the end of an unlinked list (an inode on none). */
    private static final long NULL_AGINO = 0xFFFFFFFFL;
    /** The entries of a short-form directory at most (its count is one byte): more are refused before being held. */
    private static final int MAX_ENTRIES = 255;
    private static final long NANOS = 1_000_000_000L;
    /** XFS_BIGTIME_EPOCH_OFFSET: bigtime counts nanoseconds from the earliest 32-bit time. */
    private static final long BIGTIME_EPOCH_OFFSET = 1L << 31;

    private final XfsImage fs;
    private final Geometry g;

    NewDirectory(XfsImage fs) {
        this.fs = fs;
        this.g = fs.geometry;
    }

    BlockImage make(long ino, long parent, Iterator<SalvagedEntry> entries, long nowMillis) throws XfsException {
        List<BlockImage> out = make(ino, parent, entries, nowMillis, null);
        return out.get(0);
    }

    /**
     * The new directory, growing into directory blocks from {@code more} when its entries do not fit the inode (null:
     * refused then): the inode first, then its blocks.
     */
    List<BlockImage> make(long ino, long parent, Iterator<SalvagedEntry> entries, long nowMillis, BlockAllocator more)
            throws XfsException {
        String what = "new directory inode " + ino;
        check(fs.inodeNumbers.validForEntry(ino), what + ": not an inode number of this filesystem");
        check(ino != parent && ino != g.rootIno, what + ": it cannot be the root or its own parent");
        byte[] raw = fs.image.read(g.inodeOffset(ino), g.inodeSize);
        long gen;
        if (allZero(raw)) {
            gen = 0;
        } else {
            Inode old;
            try {
                old = Inode.decode(raw, g, ino);
            } catch (XfsFormatException e) {
                throw new XfsFormatException(what + ": its core is neither readable nor zero (" + e.getMessage() + "): not used", "directory");
            }
            check(old.mode == 0, what + ": it is in use (mode 0" + Integer.toOctalString(old.mode) + ")");
            gen = old.core.get("gen");
        }
        List<SalvagedEntry> held = new ArrayList<>();
        long subdirs = 0;
        while (entries.hasNext()) {
            check(held.size() < (more == null ? MAX_ENTRIES : DirectoryRebuild.MAX_ENTRIES), what + ": more than " + held.size()
                    + " entries do not fit a " + (more == null ? "short-form directory" : "directory made in one repair"));
            SalvagedEntry e = entries.next();
            held.add(e);
            if (e.type() == FileType.DIRECTORY) {
                subdirs++;
            }
        }
        byte[] core = new byte[g.inodeSize];
        Struct s = new Struct(Layouts.DINODE, core, 0);
        long flags2 = 0;
        if ((g.incompat & Geometry.FEAT_INCOMPAT_BIGTIME) != 0) {
            flags2 |= InodeChecks.DIFLAG2_BIGTIME;
        }
        if ((g.incompat & Geometry.FEAT_INCOMPAT_NREXT64) != 0) {
            flags2 |= InodeChecks.DIFLAG2_NREXT64;
        }
        long time = timestamp(nowMillis, (flags2 & InodeChecks.DIFLAG2_BIGTIME) != 0);
        s.set("magic", MAGIC);
        s.set("mode", MODE);
        s.set("version", 3);
        s.set("format", Inode.FMT_LOCAL);
        s.set("nlink", 2 + subdirs);
        s.set("atime", time);
        s.set("mtime", time);
        s.set("ctime", time);
        s.set("crtime", time);
        // no attribute fork: its format is extents (what xfs_repair expects of an inode without one)
        s.set("aformat", Inode.FMT_EXTENTS);
        s.set("gen", gen);
        s.set("next_unlinked", NULL_AGINO);
        s.set("changecount", 1);
        s.set("flags2", flags2);
        s.set("ino", ino);
        s.set("uuid0", g.metaUuid0);
        s.set("uuid1", g.metaUuid1);
        BlockImage fresh = new BlockImage(g.inodeOffset(ino), s.encode(0, g.inodeSize), "inode " + ino + " (new directory)");
        XfsImage view = (XfsImage) fs.withPlanned(List.of(fresh));
        List<BlockImage> body = new DirectoryRebuild(view).rebuild(ino, parent, held.iterator(), more);
        List<BlockImage> out = new ArrayList<>();
        for (BlockImage b : body) {
            if (b.offset() == fresh.offset()) {
                out.add(0, new BlockImage(fresh.offset(), b.bytes(), "inode " + ino + " (new " + (body.size() == 1 ? "short-form " : "")
                        + "directory)"));
            } else {
                out.add(b);
            }
        }
        check(!out.isEmpty() && out.get(0).offset() == fresh.offset() && (more != null || body.size() == 1),
                what + ": its entries do not fit the inode (short form)");
        return out;
    }

    /** An inode timestamp: bigtime nanoseconds from the 32-bit epoch's start, else seconds above nanoseconds. */
    static long timestamp(long millis, boolean bigtime) {
        long sec = Math.floorDiv(millis, 1000);
        long nsec = Math.floorMod(millis, 1000) * 1_000_000L;
        return bigtime ? (sec + BIGTIME_EPOCH_OFFSET) * NANOS + nsec : (sec << 32) | nsec;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static void check(boolean ok, String what) throws XfsFormatException {
        if (!ok) {
            throw new XfsFormatException(what, "directory");
        }
    }
}
