package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsFormatException;

/**
 * Why an inode does not decode, every rule its bytes break of those {@link Inode#decode} and
 * {@link Inode#checkedType} stop at, in the order xfs_repair's process_dinode_int meets them: the checksum, the magic and
 * the version (which it sets right in place), then its own number, the uuid, a negative size, a mode of no type or a
 * data fork format the type may not have, a fork offset past the inode (which it answers by clearing the inode).
 * All of them, not the first: a repair must know whether setting the header right is enough.
 * <p>
 * Only read when decoding failed (a walk reads every inode, and most decode): the cost is one more read of the inode.
 */
final class InodeDecodeProblems {
    private static final int MAGIC = 0x494E;

    private InodeDecodeProblems() {
    }

    /** The rules the inode's bytes {@code raw} break; empty when it decodes (or the bytes are no inode's size). */
    static List<InodeProblem> of(byte[] raw, Geometry g, long ino) {
        List<InodeProblem> out = new ArrayList<>();
        if (raw.length != g.inodeSize) {
            return out;
        }
        Struct core = new Struct(Layouts.DINODE, raw, 0);
        if (!core.crcValid(0, g.inodeSize)) {
            out.add(InodeProblem.of(ino, Kind.CORE_CRC, -1, -1));
        }
        if (core.get("magic") != MAGIC) {
            out.add(InodeProblem.of(ino, Kind.CORE_MAGIC, core.get("magic"), MAGIC));
        }
        if (core.get("version") != 3) {
            out.add(InodeProblem.of(ino, Kind.CORE_VERSION, core.get("version"), 3));
        }
        if (core.get("ino") != ino) {
            out.add(InodeProblem.of(ino, Kind.CORE_INUMBER, core.get("ino"), ino));
        }
        if (!Headers.sameUuid(core, g)) {
            out.add(InodeProblem.of(ino, Kind.CORE_UUID, -1, -1));
        }
        if (core.get("size") < 0) {
            out.add(InodeProblem.of(ino, Kind.SIZE_NEGATIVE, core.get("size"), -1));
        }
        int mode = (int) core.get("mode");
        if (mode != 0) {
            Inode typed = withHeaderRight(raw, g, ino);
            if (typed != null) {
                try {
                    typed.type();
                    try {
                        typed.checkedType();
                    } catch (XfsFormatException e) {
                        out.add(InodeProblem.of(ino, Kind.FORMAT_TYPE, typed.format, mode));
                    }
                } catch (XfsFormatException e) {
                    out.add(InodeProblem.of(ino, Kind.MODE_TYPE, mode, -1));
                }
            }
        }
        long literal = (g.inodeSize - Inode.CORE_SIZE) / 8;
        if (core.get("forkoff") > literal) {
            out.add(InodeProblem.of(ino, Kind.FORKOFF, core.get("forkoff"), literal));
        }
        return out;
    }

    /**
     * The inode as it decodes once its checksum, magic, version, number, uuid and size are taken as right: the type and
     * format rules are then checked on the mode and format it holds. Null when its fork offset is past the inode.
     */
    private static Inode withHeaderRight(byte[] raw, Geometry g, long ino) {
        Struct s = new Struct(Layouts.DINODE, raw.clone(), 0);
        s.set("magic", MAGIC);
        s.set("version", 3);
        s.set("ino", ino);
        s.set("uuid0", g.metaUuid0);
        s.set("uuid1", g.metaUuid1);
        if (s.get("size") < 0) {
            s.set("size", 0L);
        }
        try {
            return Inode.decode(s.encode(0, g.inodeSize), g, ino);
        } catch (XfsFormatException e) {
            return null;
        }
    }
}
