package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.Iterator;

import org.xfstage.api.device.Btree;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * Inode btree records ({@link InodeChunk}s) of one AG staged in an xfarray, in tree order, read and written in place
 * through this reusable flyweight (not thread-safe). The one place that knows how this bundle stages a chunk: the
 * layout is the bundle's own (no on-disk format), each field written and read in turn, the start inode stored plus
 * one so that no record is null.
 */
final class InodeChunks {
    /** Bytes per staged chunk: startino + 1 (u64), holemask (u32), count (u32), freecount (u32), free mask (u64). */
    static final int SIZE = Long.BYTES + 3 * Integer.BYTES + Long.BYTES;

    private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

    /** The chunk held now. */
    InodeChunk chunk() {
        return decode(buf);
    }

    /** Holds {@code c}. */
    InodeChunks set(InodeChunk c) {
        buf.clear();
        buf.putLong(c.startino() + 1).putInt(c.holemask()).putInt(c.count()).putInt(c.freecount()).putLong(c.free()).flip();
        return this;
    }

    /** Loads the first chunk at or after {@code from}; its index, or -1 at the end. */
    long loadNext(XfArray array, long from) throws StagingException {
        return array.loadNext(from, buf);
    }

    /** Appends the chunk held now. */
    void appendTo(XfArray array) throws StagingException {
        buf.rewind();
        array.append(buf);
        buf.rewind();
    }

    /** Writes the chunk held now at {@code index}. */
    void storeAt(XfArray array, long index) throws StagingException {
        buf.rewind();
        array.store(index, buf);
        buf.rewind();
    }

    private static InodeChunk decode(ByteBuffer r) {
        ByteBuffer b = r.duplicate().rewind();
        long startino = b.getLong() - 1;
        int holemask = b.getInt();
        int count = b.getInt();
        int freecount = b.getInt();
        long free = b.getLong();
        return new InodeChunk(startino, holemask, count, freecount, free);
    }

    /** An empty array for staged chunks; the caller closes it. */
    static XfArray create(ScrubContext ctx, String name) throws StagingException {
        return ctx.arrays().create(name, SIZE);
    }

    /** The {@code count} chunks of {@code array} from its start, decoded one by one as a bulk load reads them. */
    static Iterator<InodeChunk> records(XfArray array, long count) {
        return array.iterator(0, count, InodeChunks::decode);
    }

    /**
     * The records of the inobt of an AG that a walk reads before it meets damage (in startino order: one out of order
     * ends it too), staged; why the walk stopped goes to {@code unreadable} (nothing when it read the whole tree). The
     * candidates of a rebuild from the inodes when the tree itself cannot be walked; the caller closes the array.
     */
    static XfArray stageReadable(ScrubContext ctx, int agno, java.util.function.Consumer<String> unreadable) throws StagingException {
        XfArray a = create(ctx, "scrub inobt of AG " + agno + " (readable part)");
        InodeChunks rec = new InodeChunks();
        StagingException[] failure = {null};
        long[] last = {-1};
        boolean[] stopped = {false};
        try {
            ctx.device().walkBtree(agno, Btree.INO, (InodeChunk c) -> {
                if (failure[0] != null || stopped[0]) {
                    return;
                }
                if (c.startino() <= last[0]) {
                    stopped[0] = true;
                    unreadable.accept("record at agino " + c.startino() + " out of order");
                    return;
                }
                last[0] = c.startino();
                try {
                    rec.set(c).appendTo(a);
                } catch (StagingException e) {
                    failure[0] = e;
                }
            });
        } catch (XfsException e) {
            if (!stopped[0]) {
                unreadable.accept(e.getMessage());
            }
        } catch (RuntimeException e) {
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
     * The records of the {@code tree} of an AG (only those with free inodes when {@code onlyWithFree}), staged in tree
     * order; the caller closes the array.
     */
    static XfArray stage(ScrubContext ctx, int agno, Btree<InodeChunk> tree, boolean onlyWithFree) throws XfsException, StagingException {
        XfArray a = create(ctx, "scrub " + tree + " of AG " + agno);
        InodeChunks rec = new InodeChunks();
        StagingException[] failure = {null};
        try {
            ctx.device().walkBtree(agno, tree, (InodeChunk c) -> {
                if (failure[0] != null || onlyWithFree && c.freecount() == 0) {
                    return;
                }
                try {
                    rec.set(c).appendTo(a);
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
}
