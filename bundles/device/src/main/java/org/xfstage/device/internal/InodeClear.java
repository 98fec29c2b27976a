package org.xfstage.device.internal;

import java.util.EnumSet;
import java.util.Set;

import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * What xfs_repair does to an inode too broken to trust, and to an attribute fork it cannot read (repair/dinode.c of
 * xfsprogs 6.1).
 * <p>
 * {@link #clear}: clear_dinode: the core zeroed but for the magic, the version, the inode number and the uuid
 * (clear_dinode_core), both fork formats EXTENTS, di_next_unlinked NULLAGINO (clear_dinode_unlinked), the whole fork
 * area zeroed. The generation is kept (xfs_repair draws a random one; the kernel draws its own when it hands the inode
 * out again, so either serves, and keeping it makes the plan the same on every run). Mode zero makes the inode free:
 * its blocks, the inode btrees' masks, the counters and the entries naming it are other plans' work.
 * <p>
 * {@link #dropAttributes}: clear_dinode_attr: no attribute fork (forkoff 0, aformat EXTENTS, anextents 0, its bytes
 * zeroed) and di_nblocks without the fork's blocks; the blocks it mapped become leaked space that the free-space
 * rebuild gives back. A data fork in btree format is refused: its root's pointers lie where the fork's size puts
 * them, and a fork that grows would move them.
 * <p>
 * The root, the realtime inodes and the quota inodes are never cleared: the superblock names them, and a filesystem
 * without them is not one xfs_repair leaves either (it makes them anew, which this does not).
 */
final class InodeClear {
    /** The rules of an attribute fork, and of the core about it, that dropping the fork leaves no more to break. */
    private static final Set<Kind> ATTRIBUTE_RULES = EnumSet.of(Kind.FORKOFF, Kind.AFORMAT, Kind.ANEXTENTS, Kind.NBLOCKS);

    private final InodeChecks checks;
    private final Geometry g;
    private final long[] reserved;

    InodeClear(InodeChecks checks, Struct superblock) {
        this.checks = checks;
        this.g = checks.g;
        this.reserved = new long[] {g.rootIno, superblock.get("rbmino"), superblock.get("rsumino"), superblock.get("uquotino"),
            superblock.get("gquotino"), superblock.get("pquotino")};
    }

    /** The bytes of inode {@code ino} cleared (CRC set); {@code raw} is what it holds now, readable or not. */
    byte[] clear(long ino, byte[] raw) throws XfsException {
        refuseReserved(ino);
        byte[] out = new byte[g.inodeSize];
        Struct s = new Struct(Layouts.DINODE, out, 0);
        long gen = 0;
        try {
            gen = Inode.decode(raw, g, ino).core.get("gen");
        } catch (XfsFormatException e) {
            // a core that does not read keeps no generation: zero, as the kernel finds a chunk's never-used inodes
        }
        s.set("magic", 0x494E);
        s.set("version", 3);
        s.set("format", Inode.FMT_EXTENTS);
        s.set("aformat", Inode.FMT_EXTENTS);
        s.set("gen", gen);
        s.set("next_unlinked", InodeChecks.NULL_AGINO);
        s.set("ino", ino);
        s.set("uuid0", g.metaUuid0);
        s.set("uuid1", g.metaUuid1);
        byte[] encoded = s.encode(0, g.inodeSize);
        Inode back = Inode.decode(encoded, g, ino);
        if (back.mode != 0) {
            throw bad(ino, "cleared, it does not read as free");
        }
        return encoded;
    }

    /** The bytes of {@code inode} without its attribute fork, di_nblocks set to what the data fork maps (CRC set). */
    byte[] dropAttributes(Inode inode) throws XfsException {
        long ino = inode.ino;
        refuseReserved(ino);
        if (inode.mode == 0) {
            throw bad(ino, "is free: it has no attribute fork to drop");
        }
        inode.checkedType();
        if (inode.format == Inode.FMT_BTREE) {
            throw bad(ino, "its data fork is a btree whose root moves with the fork offset: the attribute fork is not dropped in place");
        }
        Set<Kind> before = problems(inode);
        byte[] b = inode.core.raw().clone();
        Struct s = new Struct(Layouts.DINODE, b, 0);
        int forkoff = (int) s.get("forkoff") * 8;
        if (forkoff > 0 && Inode.CORE_SIZE + forkoff < g.inodeSize) {
            java.util.Arrays.fill(b, Inode.CORE_SIZE + forkoff, g.inodeSize, (byte) 0);
        }
        boolean large = (s.get("flags2") & InodeChecks.DIFLAG2_NREXT64) != 0;
        s.set("forkoff", 0);
        s.set("aformat", Inode.FMT_EXTENTS);
        s.set(large ? "nextents" : "anextents", 0);
        // the blocks the data fork maps, counted by the verifying read of the inode without the attribute fork
        Inode without = Inode.decode(s.encode(0, g.inodeSize), g, ino);
        long[] nblocks = {-1};
        checks.check(without, (fsb, count, startOff, attr, bmbt, unwritten) -> { }, p -> {
            if (p.kind() == Kind.NBLOCKS) {
                nblocks[0] = p.expected();
            }
        });
        if (nblocks[0] >= 0) {
            s.set("nblocks", nblocks[0]);
        }
        byte[] out = s.encode(0, g.inodeSize);
        for (Kind k : problems(Inode.decode(out, g, ino))) {
            if (k.structure() == InodeProblem.Structure.XATTR || (ATTRIBUTE_RULES.contains(k) && !before.contains(k))) {
                throw bad(ino, "without its attribute fork it still breaks '" + k + "'");
            }
            if (!before.contains(k)) {
                throw bad(ino, "dropping its attribute fork would break '" + k + "'");
            }
        }
        return out;
    }

    void refuseReserved(long ino) throws XfsFormatException {
        for (long r : reserved) {
            if (r == ino) {
                throw bad(ino, "is the root, a realtime or a quota inode, which the superblock names: never cleared");
            }
        }
    }

    private Set<Kind> problems(Inode inode) throws XfsException {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        checks.check(inode, (fsb, count, startOff, attr, bmbt, unwritten) -> { }, (InodeProblem p) -> out.add(p.kind()));
        return out;
    }

    private static XfsFormatException bad(long ino, String what) {
        return new XfsFormatException("inode " + ino + ": " + what);
    }
}
