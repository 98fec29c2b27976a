package org.xfstage.strategies.space;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.TreeBlocks;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.UncheckedStagingException;
import org.xfstage.api.staging.XfArray;

/** Helpers of the space strategies: free-space extents of one AG staged in an xfarray, trees rebuilt in their own blocks. */
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
     * {@code records} (see {@link XfArray#iterator}) into its own blocks (found by its pointers; fewer or more when the
     * records need it, see {@link TreeBlocks}), followed by the AGF with its root, level and block count; null when the AG
     * cannot give the blocks the tree needs.
     */
    static <R> List<BlockImage> intoOwnBlocks(ScrubContext ctx, int agno, Btree<R> tree, long count, Iterator<? extends R> records)
            throws Exception {
        BtreeType type = tree.type();
        long[] old;
        try {
            old = ctx.device().btreeBlocks(agno, type);
        } catch (org.xfstage.api.device.XfsFormatException e) {
            old = new long[0]; // its pointers lead astray: all of it goes into new blocks, the old ones are given back
        }
        long[] where = TreeBlocks.of(ctx, agno, type, count, old);
        if (where == null) {
            return null;
        }
        XfsDevice.BulkLoad loaded;
        try {
            loaded = ctx.device().bulkLoad(agno, tree, count, records, where);
        } catch (UncheckedStagingException e) {
            throw e.getCause();
        }
        List<BlockImage> out = new java.util.ArrayList<>(loaded.blocks());
        out.add(ctx.device().updateHeader(HeaderKind.AGF, agno, Map.of(HeaderField.root(type), loaded.root(),
                HeaderField.level(type), (long) loaded.levels(), HeaderField.blocks(type), (long) loaded.blocks().size())));
        return out;
    }

    /**
     * The records of the bnobt or cntbt of an AG, staged as {@link StagedExtent#free()} records in tree order; the
     * caller closes the array.
     */
    static XfArray stage(ScrubContext ctx, int agno, Btree<FreeExtent> tree) throws XfsException, StagingException {
        XfArray a = StagedExtent.freeArray(ctx.arrays(), "scrub " + tree + " of AG " + agno);
        StagedExtent rec = StagedExtent.forFreeSpace();
        StagingException[] failure = {null};
        try {
            ctx.device().walkBtree(agno, tree, e -> {
                if (failure[0] == null) {
                    try {
                        rec.set(e).appendTo(a);
                    } catch (StagingException x) {
                        failure[0] = x;
                    }
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

    /**
     * The {@code count} staged reverse mappings from index {@code from} of {@code array}, read once, in order, as the
     * device's typed records: for a bulk load that holds none of them. As {@link XfArray#iterator}, a staging failure
     * or too few records comes out as {@link UncheckedStagingException}.
     */
    static Iterator<ReverseMapping> mappings(XfArray array, long from, long count) {
        MappingRecord rec = new MappingRecord();
        return new Iterator<>() {
            private long index = from;
            private long left = count;

            @Override
            public boolean hasNext() {
                return left > 0;
            }

            @Override
            public ReverseMapping next() {
                if (left == 0) {
                    throw new NoSuchElementException();
                }
                try {
                    index = rec.loadNext(array, index);
                    if (index < 0) {
                        throw new StagingException(array.name() + ": fewer than " + count + " records from index " + from);
                    }
                } catch (StagingException e) {
                    throw new UncheckedStagingException(e);
                }
                index++;
                left--;
                return rec.mapping();
            }
        };
    }

    static String range(long start, long length) {
        return "blocks " + start + "-" + (start + length - 1);
    }
}
