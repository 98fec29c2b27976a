package org.xfstage.strategies.space;

import java.nio.ByteBuffer;

import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/** Free-space extents of one AG staged in an xfarray (8-byte records: start u32, length u32), in tree order. */
final class Extents {
    private Extents() {
    }

    /** The records of the bnobt or cntbt of an AG, staged; the caller closes the array. */
    static XfArray stage(ScrubContext ctx, int agno, BtreeType type, long[] blocks) throws XfsException, StagingException {
        XfArray a = ctx.arrays().create("scrub " + type.name().toLowerCase() + "bt of AG " + agno, 8);
        ByteBuffer rec = ByteBuffer.allocate(8);
        StagingException[] failure = {null};
        try {
            long n = ctx.device().walkBtree(agno, type, r -> {
                rec.clear();
                rec.putInt((int) r[0]).putInt((int) r[1]).flip();
                try {
                    a.append(rec);
                } catch (StagingException e) {
                    failure[0] = e;
                }
            });
            if (blocks != null) {
                blocks[0] = n;
            }
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

    static long start(ByteBuffer rec) {
        return rec.getInt(0) & 0xffffffffL;
    }

    static long length(ByteBuffer rec) {
        return rec.getInt(4) & 0xffffffffL;
    }

    static String range(long start, long length) {
        return "blocks " + start + "-" + (start + length - 1);
    }
}
