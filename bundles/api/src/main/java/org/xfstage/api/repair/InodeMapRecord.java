package org.xfstage.api.repair;


import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * A record of {@link Observation#INODE_MAP}, read and written in place (a reusable flyweight, not thread-safe):
 * one inode of an inode chunk and its state.
 */
public final class InodeMapRecord extends StagedRecord<InodeMapRecord> {
    /** Bytes per staged record. */
    public static final int SIZE = 8;
    /** The order the engine sorts the inode map in: by inode number. */
    public static final RecordComparator ORDER = RecordComparator.unsignedLongs(1);
    /** The largest inode number a record holds: XFS's own (XFS_MAXINUMBER, 2^56 - 1). */
    public static final long MAX_INO = (1L << 56) - 1;

    /** What the walk found in an inode. */
    public enum State {
        /** Its mode is zero. */
        FREE,
        /** Its mode is not zero. */
        IN_USE,
        /** It could not be read (reported as a finding of its own); neither in use nor free for the checks. */
        UNREADABLE
    }

    private static final State[] STATES = State.values();
    // a u64: (ino + 1) << 2 | state (inode 0 would otherwise make an all-zero, null record); big-endian. 8 bytes, not
    // 16: one record per inode of every chunk
    private static final int INO_SHIFT = 2;
    private static final long STATE = 3;

    public InodeMapRecord() {
        super(SIZE);
    }

    /** The inode number. */
    public long ino() {
        return (buf.getLong(0) >>> INO_SHIFT) - 1;
    }

    /** Its state. */
    public State state() {
        return STATES[(int) (buf.getLong(0) & STATE)];
    }

    /** Sets both fields; {@code ino} at most {@link #MAX_INO}. */
    public InodeMapRecord set(long ino, State state) {
        if (ino < 0 || ino > MAX_INO) {
            throw new IllegalArgumentException("inode " + Long.toUnsignedString(ino) + " is beyond XFS's inode numbers");
        }
        buf.clear();
        buf.putLong(((ino + 1) << INO_SHIFT) | state.ordinal()).flip();
        return this;
    }




    /**
     * The state of inode {@code ino} in a sorted inode map, by binary search; null when no chunk holds it. Loads
     * into this record.
     */
    public State find(XfArray sorted, long ino) throws StagingException {
        long lo = 0;
        long hi = sorted.length() - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            load(sorted, mid);
            long at = ino();
            if (at < ino) {
                lo = mid + 1;
            } else if (at > ino) {
                hi = mid - 1;
            } else {
                return state();
            }
        }
        return null;
    }
}
