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
        long length = agf.get("length");
        check(length > 0 && length <= g.agBlocks, () -> where + ": bad length " + length);
        // freeblks, longest, count and freecount are counters: the agf and agi strategies compare them with the
        // btrees and repair them, so they are not reasons to refuse the header
        check(agf.get("flcount") <= agflSize(g) && agf.get("flfirst") < agflSize(g) && agf.get("fllast") < agflSize(g),
                () -> where + ": AGFL indexes out of range");
        return agf;
    }

    static Struct agi(Image image, Geometry g, int agno) throws XfsException {
        Struct agi = agHeader(image, g, agno, 2, Layouts.AGI, AGI_MAGIC);
        check(agi.get("versionnum") == 1, () -> "AGI of AG " + agno + ": bad version");
        return agi;
    }

    static Struct agfl(Image image, Geometry g, int agno) throws XfsException {
        return agHeader(image, g, agno, 3, Layouts.AGFL, AGFL_MAGIC);
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
     * A new AGFL sector holding {@code blocks} in slots 0..n-1 and NULLAGBLOCK in the rest (the AGF then says flfirst
     * 0, fllast n-1, flcount n).
     */
    static byte[] agflWith(Struct old, Geometry g, long[] blocks) throws XfsFormatException {
        check(blocks.length <= agflSize(g), () -> "AGFL: " + blocks.length + " blocks do not fit " + agflSize(g) + " slots");
        byte[] b = old.encode(0, g.sectorSize); // header fields as they are
        java.util.Arrays.fill(b, AGFL_BNO_OFFSET, g.sectorSize, (byte) 0xff);
        for (int i = 0; i < blocks.length; i++) {
            int at = AGFL_BNO_OFFSET + 4 * i;
            b[at] = (byte) (blocks[i] >>> 24);
            b[at + 1] = (byte) (blocks[i] >>> 16);
            b[at + 2] = (byte) (blocks[i] >>> 8);
            b[at + 3] = (byte) blocks[i];
        }
        Struct s = new Struct(Layouts.AGFL, b, 0);
        s.set("lsn", 0);
        return s.encode(0, g.sectorSize);
    }

    static boolean sameUuid(Struct s, Geometry g) {
        Layout l = s.layout;
        return s.get(l.uuid0) == g.metaUuid0 && s.get(l.uuid1) == g.metaUuid1;
    }
}
