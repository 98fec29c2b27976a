package org.xfstage.device.internal;

import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * Decoding and verification of the superblock and the AG headers (AGF, AGI, AGFL): magic, CRC over the sector,
 * self-describing fields (seqno, uuid), and ranges. Each structure is read as one sector.
 */
final class Headers {
    static final long SB_MAGIC = 0x58465342L; // XFSB
    static final long AGF_MAGIC = 0x58414746L; // XAGF
    static final long AGI_MAGIC = 0x58414749L; // XAGI
    static final long AGFL_MAGIC = 0x5841464CL; // XAFL
    static final long NULLAGBLOCK = 0xffffffffL;
    private static final int AGFL_BNO_OFFSET = 36;

    private Headers() {
    }

    static void check(boolean ok, String what) throws XfsFormatException {
        if (!ok) {
            throw new XfsFormatException(what);
        }
    }

    /** As {@link #check(boolean, String)}, building the message only when the check fails (hot paths: per inode, per record). */
    static void check(boolean ok, java.util.function.Supplier<String> what) throws XfsFormatException {
        if (!ok) {
            throw new XfsFormatException(what.get());
        }
    }

    /**
     * Decodes and verifies a superblock from its sector with every plausibility check ({@link SuperblockChecks}): the
     * first failed check is the error. A primary must not be marked as unfinished by mkfs; copies are.
     */
    static Struct superblock(byte[] sector, String where, boolean primary) throws XfsFormatException {
        java.util.List<SuperblockChecks.Problem> problems = SuperblockChecks.problems(sector, primary);
        check(problems.isEmpty(), () -> where + ": " + problems.get(0).text());
        Struct sb = new Struct(Layouts.SB, sector, 0);
        long unknown = sb.get("features_incompat") & ~Geometry.FEAT_INCOMPAT_KNOWN;
        check(unknown == 0, () -> where + ": unsupported incompatible features 0x" + Long.toHexString(unknown));
        return sb;
    }

    static Struct agf(Image image, Geometry g, int agno) throws XfsException {
        Struct agf = agHeader(image, g, agno, 1, Layouts.AGF, AGF_MAGIC);
        String where = "AGF of AG " + agno;
        check(agf.get("versionnum") == 1, () -> where + ": bad version");
        checkLength(agf, g, agno, where);
        // freeblks, longest, count and freecount are counters: the agf and agi strategies compare them with the
        // btrees and repair them, so they are not reasons to refuse the header
        String fl = agflIndexProblem(agf.get("flfirst"), agf.get("fllast"), agf.get("flcount"), agflSize(g));
        check(fl == null, () -> where + ": " + fl);
        return agf;
    }

    /**
     * An AG header's length: the AG's as the geometry has it, agblocks or the last AG's remainder. The kernel's
     * verifier refuses another length in all but the last AG, and xfs_repair wants the exact remainder there too
     * ("bad length N for agf A, should be M"): a header that lies about it is rebuilt.
     */
    private static void checkLength(Struct h, Geometry g, int agno, String where) throws XfsFormatException {
        long length = h.get("length");
        check(length == g.agLength(agno), () -> where + ": bad length " + length + ", should be " + g.agLength(agno));
    }

    /**
     * What is wrong with the AGF's free list indexes, or null: flfirst and fllast must be slots of the AGFL, and the
     * slots from flfirst to fllast (wrapping past the last slot) must be flcount many; an empty list (flcount 0) says
     * nothing of the others. This is the kernel's xfs_agfl_needs_reset (which empties the list and leaks its blocks
     * when it fails) and what xfs_repair's scan_freelist counts ("freeblk count N != flcount C").
     */
    static String agflIndexProblem(long first, long last, long count, int size) {
        if (first >= size || last >= size || count > size) {
            return "AGFL indexes out of range (flfirst " + first + ", fllast " + last + ", flcount " + count + " of " + size + " slots)";
        }
        if (count == 0) {
            return null;
        }
        long active = last >= first ? last - first + 1 : size - first + last + 1;
        return active == count ? null
                : "AGFL indexes disagree: slots " + first + " to " + last + " hold " + active + " blocks, flcount says " + count;
    }

    static Struct agi(Image image, Geometry g, int agno) throws XfsException {
        Struct agi = agHeader(image, g, agno, 2, Layouts.AGI, AGI_MAGIC);
        String where = "AGI of AG " + agno;
        check(agi.get("versionnum") == 1, () -> where + ": bad version");
        checkLength(agi, g, agno, where);
        return agi;
    }

    static Struct agfl(Image image, Geometry g, int agno) throws XfsException {
        return agHeader(image, g, agno, 3, Layouts.AGFL, AGFL_MAGIC);
    }

    /**
     * The AGF of an AG for a walk: decoded and verified, or, when it fails its checks (a bad magic or checksum, a
     * seqno or uuid of another), the fields its sector holds all the same, as xfs_repair reads a header it is about
     * to rebuild. Nothing in it is verified then: a caller checks every field it uses (a root pointer must lead to a
     * root of its tree, AGFL indexes must be in range), and the header itself is reported by its own check.
     */
    static Struct salvagedAgf(Image image, Geometry g, int agno) throws XfsException {
        try {
            return agf(image, g, agno);
        } catch (XfsFormatException e) {
            return new Struct(Layouts.AGF, image.read(g.agBlockOffset(agno, 0) + g.sectorSize, g.sectorSize), 0);
        }
    }

    /** The AGI of an AG for a walk, as {@link #salvagedAgf} reads the AGF. */
    static Struct salvagedAgi(Image image, Geometry g, int agno) throws XfsException {
        try {
            return agi(image, g, agno);
        } catch (XfsFormatException e) {
            return new Struct(Layouts.AGI, image.read(g.agBlockOffset(agno, 0) + 2L * g.sectorSize, g.sectorSize), 0);
        }
    }

    /**
     * A new AG header sector (AGF or AGI) from nothing but the geometry: zeroed, with the magic, version 1, seqno,
     * the AG's length and the filesystem's metadata uuid; the caller sets the rest and encodes it (which sets the
     * CRC). The lsn is 0, as xfs_repair leaves the headers it rebuilds.
     */
    static Struct freshAgHeader(Geometry g, int agno, Layout layout, long magic) {
        Struct h = new Struct(layout, new byte[g.sectorSize], 0);
        h.set("magicnum", magic);
        h.set("versionnum", 1);
        h.set("seqno", agno);
        h.set("length", g.agLength(agno));
        h.set("uuid0", g.metaUuid0);
        h.set("uuid1", g.metaUuid1);
        return h;
    }

    /**
     * Reads sector {@code sector} of an AG (1 AGF, 2 AGI, 3 AGFL) and checks what every AG header has: magic, CRC
     * over the sector, seqno and uuid.
     */
    private static Struct agHeader(Image image, Geometry g, int agno, int sector, Layout layout, long magic) throws XfsException {
        return agHeader(image.read(g.agBlockOffset(agno, 0) + (long) sector * g.sectorSize, g.sectorSize), g, agno, layout, magic);
    }

    /** Verifies the bytes of an AG header sector (as read, or as a repair would write them). */
    static Struct agHeader(byte[] bytes, Geometry g, int agno, Layout layout, long magic) throws XfsException {
        String where = layout.name + " of AG " + agno;
        Struct h = new Struct(layout, bytes, 0);
        check(h.get("magicnum") == magic, () -> where + ": bad magic");
        check(h.crcValid(0, g.sectorSize), () -> where + ": checksum mismatch");
        check(h.get("seqno") == agno, () -> where + ": seqno " + h.get("seqno"));
        check(sameUuid(h, g), () -> where + ": uuid is not this filesystem's");
        return h;
    }

    /** Slots in an AGFL: (sector size - header) / 4. */
    static int agflSize(Geometry g) {
        return (g.sectorSize - AGFL_BNO_OFFSET) / 4;
    }

    /** The AGFL entry in slot {@code i}. */
    static long agflEntry(Struct agfl, int i) {
        byte[] b = agfl.raw();
        int at = AGFL_BNO_OFFSET + 4 * i;
        return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    /**
     * A new AGFL sector for AG {@code agno} holding {@code blocks} in slots 0..n-1 and NULLAGBLOCK in the rest (the AGF
     * then says flfirst 0, fllast n-1, flcount n).
     */
    static byte[] agflWith(Geometry g, int agno, long[] blocks) throws XfsFormatException {
        check(blocks.length <= agflSize(g), () -> "AGFL: " + blocks.length + " blocks do not fit " + agflSize(g) + " slots");
        // a header of its own from the geometry: the old sector may be what is damaged (magic, seqno, uuid)
        Struct header = new Struct(Layouts.AGFL, new byte[g.sectorSize], 0);
        header.set("magicnum", AGFL_MAGIC);
        header.set("seqno", agno);
        header.set("uuid0", g.metaUuid0);
        header.set("uuid1", g.metaUuid1);
        byte[] b = header.encode(0, g.sectorSize);
        java.util.Arrays.fill(b, AGFL_BNO_OFFSET, g.sectorSize, (byte) 0xff);
        for (int i = 0; i < blocks.length; i++) {
            int at = AGFL_BNO_OFFSET + 4 * i;
            b[at] = (byte) (blocks[i] >>> 24);
            b[at + 1] = (byte) (blocks[i] >>> 16);
            b[at + 2] = (byte) (blocks[i] >>> 8);
            b[at + 3] = (byte) blocks[i];
        }
        return new Struct(Layouts.AGFL, b, 0).encode(0, g.sectorSize); // the lsn stays 0, as xfs_repair leaves it
    }

    static boolean sameUuid(Struct s, Geometry g) {
        Layout l = s.layout;
        return s.get(l.uuid0) == g.metaUuid0 && s.get(l.uuid1) == g.metaUuid1;
    }
}
