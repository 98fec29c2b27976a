package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;

import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * Inode btree records of one AG staged in an xfarray (24-byte records: startino u32, holemask u16, count u8,
 * freecount u8, free u64, 8 bytes of 0xff padding so no record is null), in tree order.
 */
final class InodeChunks {
    static final int RECORD = 24;

    private InodeChunks() {
    }

    static XfArray stage(ScrubContext ctx, int agno, BtreeType type, boolean onlyWithFree) throws XfsException, StagingException {
        XfArray a = ctx.arrays().create("scrub " + type.name().toLowerCase() + "bt of AG " + agno, RECORD);
        ByteBuffer rec = ByteBuffer.allocate(RECORD);
        StagingException[] failure = {null};
        try {
            ctx.device().walkBtree(agno, type, r -> {
                if (onlyWithFree && r[3] == 0) {
                    return;
                }
                rec.clear();
                rec.putInt((int) r[0]).putShort((short) r[1]).put((byte) r[2]).put((byte) r[3]).putLong(r[4]).putLong(-1L).flip();
                try {
                    a.append(rec);
                } catch (StagingException e) {
                    failure[0] = e;
                }
            });
        } catch (XfsException | RuntimeException e) {
            a.close();
            throw e;
        }
        if (failure[0] != null) {
            a.close();
            throw failure[0];
        }
        return a;
    }

    static long startino(ByteBuffer r) {
        return r.getInt(0) & 0xffffffffL;
    }

    static long holemask(ByteBuffer r) {
        return r.getShort(4) & 0xffff;
    }

    static int count(ByteBuffer r) {
        return r.get(6) & 0xff;
    }

    static int freecount(ByteBuffer r) {
        return r.get(7) & 0xff;
    }

    static long free(ByteBuffer r) {
        return r.getLong(8);
    }

    /** The inodes of the chunk that are holes (not allocated), one bit each: a holemask bit covers 4 inodes. */
    static long holes(long holemask) {
        long m = 0;
        for (int i = 0; i < 16; i++) {
            if ((holemask & (1L << i)) != 0) {
                m |= 0xFL << (4 * i);
            }
        }
        return m;
    }
}
