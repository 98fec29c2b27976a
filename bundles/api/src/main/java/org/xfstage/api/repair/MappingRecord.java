package org.xfstage.api.repair;

import java.nio.ByteBuffer;

import org.xfstage.api.device.ReverseMapping;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * A reverse mapping of one AG staged for sorting, read and written in place (a reusable flyweight, not
 * thread-safe): for strategies that stage rmapbt records, their own or the ones they expect, in an xfarray.
 * {@link #ORDER} is the rmapbt's key order: AG and start block, owner, then the offset with the fork and bmbt
 * flags (as the on-disk key holds them), then the length and the unwritten flag.
 */
public final class MappingRecord extends StagedRecord<MappingRecord> {
    /** Bytes per staged record. */
    public static final int SIZE = 32;
    /** The rmapbt's order (see the class comment). */
    public static final RecordComparator ORDER = RecordComparator.unsignedLongs(4);

    // (agno << 32 | start) u64, owner u64, offset | attr << 63 | bmbt << 62 u64, length u32, flags u32; big-endian
    private static final long ATTR_KEY = 1L << 63;
    private static final long BMBT_KEY = 1L << 62;
    private static final int ATTR = 4;
    private static final int BMBT = 2;
    private static final int UNWRITTEN = 1;

    public MappingRecord() {
        super(SIZE);
    }

    /** The AG. */
    public int agno() {
        return (int) (buf.getLong(0) >>> 32);
    }

    /** The first AG block. */
    public long start() {
        return buf.getLong(0) & 0xffffffffL;
    }

    /** Blocks. */
    public long length() {
        return buf.getInt(24) & 0xffffffffL;
    }

    /** An inode number or a metadata owner's code. */
    public long owner() {
        return buf.getLong(8);
    }

    /** File offset in blocks. */
    public long offset() {
        return buf.getLong(16) & ~(ATTR_KEY | BMBT_KEY);
    }

    /** Whether it maps the attribute fork. */
    public boolean attrFork() {
        return (buf.getInt(28) & ATTR) != 0;
    }

    /** Whether it maps a bmbt block. */
    public boolean bmbt() {
        return (buf.getInt(28) & BMBT) != 0;
    }

    /** Whether the extent is unwritten. */
    public boolean unwritten() {
        return (buf.getInt(28) & UNWRITTEN) != 0;
    }

    /** The owner, fork and bmbt flag packed: two records with the same may merge when adjacent. */
    public boolean sameOwnerAs(MappingRecord o) {
        return owner() == o.owner() && buf.getInt(28) == o.buf.getInt(28);
    }

    /** The record as the device's typed rmapbt record (allocates). */
    public ReverseMapping mapping() {
        return new ReverseMapping(start(), length(), owner(), offset(), attrFork(), bmbt(), unwritten());
    }

    /** Sets every field. */
    public MappingRecord set(int agno, long start, long length, long owner, long offset, boolean attrFork, boolean bmbt,
            boolean unwritten) {
        buf.clear();
        buf.putLong((long) agno << 32 | start).putLong(owner)
                .putLong(offset | (attrFork ? ATTR_KEY : 0) | (bmbt ? BMBT_KEY : 0)).putInt((int) length)
                .putInt((attrFork ? ATTR : 0) | (bmbt ? BMBT : 0) | (unwritten ? UNWRITTEN : 0)).flip();
        return this;
    }

    /** Sets every field from a typed record of AG {@code agno}. */
    public MappingRecord set(int agno, ReverseMapping m) {
        return set(agno, m.start(), m.length(), m.owner(), m.offset(), m.attrFork(), m.bmbt(), m.unwritten());
    }


    /**
     * Compares in {@link #ORDER}, written out for the four longs: the rmapbt check compares every record two or three
     * times as it merges, and most compares end at the first long.
     */
    public int compareTo(MappingRecord other) {
        ByteBuffer b = other.buf;
        int c = Long.compareUnsigned(buf.getLong(0), b.getLong(0));
        if (c != 0) {
            return c;
        }
        c = Long.compareUnsigned(buf.getLong(8), b.getLong(8));
        if (c != 0) {
            return c;
        }
        c = Long.compareUnsigned(buf.getLong(16), b.getLong(16));
        return c != 0 ? c : Long.compareUnsigned(buf.getLong(24), b.getLong(24));
    }



}
