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
    public static final int SIZE = 16;
    /** The order the engine sorts the inode map in: by inode number. */
    public static final RecordComparator ORDER = RecordComparator.unsignedLongs(2);

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
    // ino + 1 u64 (inode 0 would make an all-zero, null record), state u64; big-endian

    public InodeMapRecord() {
        super(SIZE);
    }

    /** The inode number. */
    public long ino() {
        return buf.getLong(0) - 1;
    }

    /** Its state. */
    public State state() {
        return STATES[(int) buf.getLong(8)];
    }

    /** Sets both fields. */
    public InodeMapRecord set(long ino, State state) {
        buf.clear();
        buf.putLong(ino + 1).putLong(state.ordinal()).flip();
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
