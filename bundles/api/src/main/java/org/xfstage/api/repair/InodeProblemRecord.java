package org.xfstage.api.repair;


import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * A record of {@link Observation#INODE_PROBLEMS}, read and written in place (a reusable flyweight, not thread-safe):
 * one {@link InodeProblem} the device reported while the walk read the inode.
 */
public final class InodeProblemRecord extends StagedRecord<InodeProblemRecord> {
    /** Bytes per staged record. */
    public static final int SIZE = 40;
    private static final InodeProblem.Kind[] KINDS = InodeProblem.Kind.values();

    // ino + 1 u64 (never an all-zero, null record), kind u16, attr fork u8, a zero byte, agno u32, at, found,
    // expected u64; big-endian

    public InodeProblemRecord() {
        super(SIZE);
    }

    /** Sets every field from a problem of an inode of AG {@code agno}. */
    public InodeProblemRecord set(InodeProblem p, int agno) {
        buf.clear();
        buf.putLong(p.ino() + 1).putShort((short) p.kind().ordinal()).put((byte) (p.attrFork() ? 1 : 0)).put((byte) 0)
                .putInt(agno).putLong(p.at()).putLong(p.found()).putLong(p.expected()).flip();
        return this;
    }

    /** The AG of the inode. */
    public int agno() {
        return buf.getInt(12);
    }

    /** The problem this record holds. */
    public InodeProblem problem() {
        return new InodeProblem(buf.getLong(0) - 1, KINDS[buf.getShort(8)], buf.get(10) != 0, buf.getLong(16),
                buf.getLong(24), buf.getLong(32));
    }

    /** The inode. */
    public long ino() {
        return buf.getLong(0) - 1;
    }

    /** The rule it breaks. */
    public InodeProblem.Kind kind() {
        return KINDS[buf.getShort(8)];
    }


}
