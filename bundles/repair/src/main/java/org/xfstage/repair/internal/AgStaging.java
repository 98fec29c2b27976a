package org.xfstage.repair.internal;

import java.nio.ByteBuffer;

import org.xfstage.api.staging.Appender;
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;

/**
 * Where one AG of the walk stages: straight into the walk's arrays once it is the AG whose turn it is
 * ({@link #goDirect}), else into arrays of its own, appended to the walk's in the order they were staged when its turn
 * comes ({@link #appendBuffered}), so that the walk stages the same records in the same order whatever the number of
 * threads. Records go in batches ({@link Appender}): an xfarray's one-record append pays its checks and the xfile's
 * page lookup per record, which was about a tenth of the walk's samples; a batch is in its array by the AG's merge,
 * when the next AG may write into the same arrays. The first staging failure is kept and every later record refused,
 * so that the AG's thread fails once, at the end of a structure, instead of inside a device callback.
 */
final class AgStaging {
    /** The staged kinds, as indexes of the walk's arrays: space map, inode map, inode problems, mappings, rmapbt. */
    static final int SPACE = 0;
    static final int INODES = 1;
    static final int PROBLEMS = 2;
    static final int MAPPINGS = 3;
    /** The rmapbt's records: staged only for an AG whose rmapbt reads whole ({@link #drop}), so never direct. */
    static final int RMAPBT = 4;
    static final String[] KINDS = {"space map", "inode map", "inode problems", "file mappings", "rmapbt records"};
    /** Records per batch: at most 32 bytes each, 8 KiB a kind, for the few AGs in flight at a time (AgWorkers). */
    private static final int BATCH = 256;

    private final int agno;
    /** The walk's arrays by kind; all but the space map are null when not staged (then nothing of the kind is). */
    private final XfArray[] out;
    /** Where this AG stages ahead of its turn (null: one thread, no AG is ahead). */
    private final XfArrayFactory buffers;
    /** Where it stages the kinds it keeps apart until its merge, whatever its turn ({@link #RMAPBT}); null: none staged. */
    private final XfArrayFactory apart;
    /** This AG's own arrays by kind, made when it first stages one ahead of its turn. */
    private final XfArray[] buffered = new XfArray[KINDS.length];
    /** By kind, the batch into the array this AG writes now (its own, or the walk's once direct); null until used. */
    private final Appender[] batches = new Appender[KINDS.length];
    /** Set by the merging thread, read by this AG's: from the next record on, straight into the walk's arrays. */
    private volatile boolean direct;
    /** Whether this AG's thread has appended what it buffered and writes into the walk's arrays (its thread only). */
    private boolean writingDirect;
    private StagingException failure;

    AgStaging(int agno, XfArray[] out, XfArrayFactory buffers, XfArrayFactory apart) {
        this.agno = agno;
        this.out = out;
        this.buffers = buffers;
        this.apart = apart;
    }

    /** Whether kind {@code k} waits in this AG's own array until its merge, even once the AG writes direct. */
    private static boolean keptApart(int k) {
        return k == RMAPBT;
    }

    /** Whether kind {@code k} is staged at all by this walk. */
    boolean stages(int k) {
        return out[k] != null;
    }

    void goDirect() {
        direct = true;
    }

    /** Appends {@code r} to the walk's array of kind {@code k}, or to this AG's own before its turn; false if not. */
    boolean stage(int k, StagedRecord<?> r) {
        if (failure != null || out[k] == null) {
            return false;
        }
        try {
            if (!writingDirect && direct) { // its turn came: what it buffered first, then straight on
                flushBatches();
                appendBuffered(false);
                writingDirect = true;
            }
            Appender to = batches[k];
            if (to == null) {
                XfArray array = writingDirect && !keptApart(k) ? out[k] : buffered[k];
                if (array == null) {
                    array = buffered[k] = (keptApart(k) ? apart : buffers).create("walk of AG " + agno + " " + KINDS[k],
                            out[k].recordSize());
                }
                to = batches[k] = new Appender(array, BATCH);
            }
            to.add(r);
            return true;
        } catch (StagingException e) {
            failure = e;
            return false;
        }
    }

    /**
     * At the AG's merge: its batches stored, and what it buffered (all of it if it ended before its turn, else what it
     * kept apart) appended in order.
     */
    void merge() throws StagingException {
        failIfFailed();
        flushBatches();
        appendBuffered(true);
    }

    /** What this AG staged of kind {@code k} (kept apart until the merge) given back: none of it is staged. */
    void drop(int k) {
        batches[k] = null;
        if (buffered[k] != null) {
            buffered[k].close();
            buffered[k] = null;
        }
    }

    /** Every batch stored in its array; the next record of a kind starts a new batch (perhaps into another array). */
    private void flushBatches() throws StagingException {
        for (int k = 0; k < batches.length; k++) {
            if (batches[k] != null) {
                batches[k].flush();
                batches[k] = null;
            }
        }
    }

    /** This AG's own arrays (those kept apart too, or not) appended to the walk's a batch at a time, and given back. */
    private void appendBuffered(boolean withKeptApart) throws StagingException {
        for (int k = 0; k < buffered.length; k++) {
            XfArray from = buffered[k];
            if (from == null || (keptApart(k) && !withKeptApart)) {
                continue;
            }
            int size = from.recordSize();
            ByteBuffer batch = ByteBuffer.allocate(BATCH * size);
            int n = 0;
            // records are never null (the walk stores none), so loadNext visits every index once, in order
            for (long i = 0; (i = from.loadNext(i, batch.limit((n + 1) * size).position(n * size))) >= 0; i++) {
                if (++n == BATCH) {
                    out[k].appendAll(batch.position(0).limit(n * size));
                    n = 0;
                }
            }
            if (n > 0) {
                out[k].appendAll(batch.position(0).limit(n * size));
            }
            from.close();
            buffered[k] = null;
        }
    }

    /** What it buffered given back, unmerged (its batches dropped). */
    void discard() {
        java.util.Arrays.fill(batches, null);
        for (int k = 0; k < buffered.length; k++) {
            if (buffered[k] != null) {
                buffered[k].close();
                buffered[k] = null;
            }
        }
    }

    /** The first staging failure, thrown once the structure that met it is done. */
    void failIfFailed() throws StagingException {
        if (failure != null) {
            throw failure;
        }
    }
}
