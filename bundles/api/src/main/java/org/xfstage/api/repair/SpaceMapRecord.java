package org.xfstage.api.repair;


import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * A record of {@link Observation#SPACE_MAP}, read and written in place: one flyweight over a buffer of
 * {@link #SIZE} bytes, reused record after record, so that a pass over millions of records allocates nothing.
 * Not thread-safe.
 */
public final class SpaceMapRecord extends StagedRecord<SpaceMapRecord> {
    /** Bytes per staged record. */
    public static final int SIZE = 24;
    /** The order the engine sorts the space map in: by AG, then block, then length. */
    public static final RecordComparator ORDER = RecordComparator.unsignedLongs(2);
    private static final SpaceUse[] USES = SpaceUse.values();

    // agno u32, agbno u32, length u32, use u8, 3 zero bytes, owner u64; big-endian

    public SpaceMapRecord() {
        super(SIZE);
    }

    /** The AG. */
    public int agno() {
        return buf.getInt(0);
    }

    /** The first AG block. */
    public long agbno() {
        return buf.getInt(4) & 0xffffffffL;
    }

    /** Blocks. */
    public long length() {
        return buf.getInt(8) & 0xffffffffL;
    }

    /** The AG block after the last. */
    public long end() {
        return agbno() + length();
    }

    /** What the blocks are used for. */
    public SpaceUse use() {
        return USES[buf.get(12)];
    }

    /** Who owns them: an inode number for a file's blocks, else the {@link SpaceUse#owner()}'s code. */
    public long owner() {
        return buf.getLong(16);
    }

    /** (agno, agbno) as one unsigned long, the key the space map is sorted by. */
    public long position() {
        return buf.getLong(0);
    }

    /** (agno, agbno) as one unsigned long, for comparing with {@link #position()}. */
    public static long position(int agno, long agbno) {
        return (long) agno << 32 | agbno;
    }

    /** Sets every field; {@code ino} is the owner of a file's blocks and ignored for metadata. */
    public SpaceMapRecord set(int agno, long agbno, long length, SpaceUse use, long ino) {
        buf.clear();
        buf.putInt(agno).putInt((int) agbno).putInt((int) length).put((byte) use.ordinal()).put((byte) 0).putShort((short) 0)
                .putLong(use.isFile() ? ino : use.owner().code()).flip();
        return this;
    }

    /**
     * The index of the first record of a space map sorted in {@link #ORDER} at or after block {@code agbno} of AG
     * {@code agno} (the array's length when there is none), by binary search. Loads into this record.
     */
    public long first(XfArray sorted, int agno, long agbno) throws StagingException {
        long want = position(agno, agbno);
        long lo = 0;
        long hi = sorted.length();
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(load(sorted, mid).position(), want) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * Whether a space map sorted in {@link #ORDER} holds a record of {@code use} that starts at block {@code agbno} of
     * AG {@code agno}, by binary search (the walk stages a btree's blocks one by one, so each block of a tree it walked
     * starts a record). Loads into this record.
     */
    public boolean holds(XfArray sorted, int agno, long agbno, SpaceUse use) throws StagingException {
        long want = position(agno, agbno);
        for (long i = first(sorted, agno, agbno); i < sorted.length() && load(sorted, i).position() == want; i++) {
            if (use() == use) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "AG " + agno() + " blocks " + agbno() + "+" + length() + " " + use().describe(owner());
    }
}
