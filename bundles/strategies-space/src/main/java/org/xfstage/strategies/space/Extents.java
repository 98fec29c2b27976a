package org.xfstage.strategies.space;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.UncheckedStagingException;
import org.xfstage.api.staging.XfArray;

/** Free-space extents of one AG staged in an xfarray (8-byte records: start u32, length u32), in tree order. */
final class Extents {
    private Extents() {
    }

    /** The AGs the findings are in, in order; null when one is not in an AG (then no per-AG rebuild applies). */
    static Set<Integer> agsOf(List<Finding> findings) {
        Set<Integer> ags = new TreeSet<>();
        for (Finding f : findings) {
            if (f.agno() < 0) {
                return null;
            }
            ags.add(f.agno());
        }
        return ags;
    }

    /**
     * A tree of the AGF (rmapbt or refcountbt) bulk-loaded from the {@code count} records read once from
     * {@code records} (see {@link XfArray#iterator}) into its own blocks (found by its pointers), followed by the
     * AGF with its root, level and block count ({@code field}_root and so on); null when the records cannot make a
     * tree of as many blocks.
     */
    static List<BlockImage> intoOwnBlocks(ScrubContext ctx, int agno, BtreeType type, long count, Iterator<long[]> records,
            String field) throws XfsException, StagingException {
        long[] where = ctx.device().btreeBlocks(agno, type);
        if (!ctx.device().btreeFits(type, count, where.length)) {
            return null;
        }
        XfsDevice.BulkLoad tree;
        try {
            tree = ctx.device().bulkLoad(agno, type, count, records, where);
        } catch (UncheckedStagingException e) {
            throw e.getCause();
        }
        List<BlockImage> out = new java.util.ArrayList<>(tree.blocks());
        out.add(ctx.device().updateHeader(HeaderKind.AGF, agno, Map.of(field + "_root", tree.root(), field + "_level",
                (long) tree.levels(), field + "_blocks", (long) tree.blocks().size())));
        return out;
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
