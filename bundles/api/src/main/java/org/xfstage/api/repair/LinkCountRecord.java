package org.xfstage.api.repair;


import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * A record of {@link Observation#LINK_COUNTS}, read and written in place (a reusable flyweight, not thread-safe):
 * what the tree walk saw of one inode's links. Sorted, the records of an inode come together, its own first.
 */
public final class LinkCountRecord extends StagedRecord<LinkCountRecord> {
    /** Bytes per staged record. */
    public static final int SIZE = 24;
    /** The order the engine sorts link counts in: by inode, then kind. */
    public static final RecordComparator ORDER = RecordComparator.unsignedLongs(2);

    /** What a record says. */
    public enum Kind {
        /** The inode itself: its link count and whether it is a directory. */
        INODE,
        /** A directory entry names the inode. */
        ENTRY,
        /** A subdirectory's ".." names the inode (a directory's own "." is not counted). */
        DOTDOT
    }

    private static final Kind[] KINDS = Kind.values();
    // ino + 1 u64, kind u64, value u64 (INODE: di_nlink, plus 2^32 for a directory); big-endian

    public LinkCountRecord() {
        super(SIZE);
    }

    /** The inode. */
    public long ino() {
        return buf.getLong(0) - 1;
    }

    /** What the record says. */
    public Kind kind() {
        return KINDS[(int) buf.getLong(8)];
    }

    /** For {@link Kind#INODE}: its link count on disk. */
    public long nlink() {
        return buf.getLong(16) & 0xffffffffL;
    }

    /** For {@link Kind#INODE}: whether it is a directory. */
    public boolean directory() {
        return (buf.getLong(16) >>> 32) != 0;
    }

    /** An {@link Kind#INODE} record. */
    public LinkCountRecord inode(long ino, long nlink, boolean directory) {
        return set(ino, Kind.INODE, (nlink & 0xffffffffL) | (directory ? 1L << 32 : 0));
    }

    /** An {@link Kind#ENTRY} or {@link Kind#DOTDOT} record. */
    public LinkCountRecord link(long ino, Kind kind) {
        return set(ino, kind, 0);
    }

    private LinkCountRecord set(long ino, Kind kind, long value) {
        buf.clear();
        buf.putLong(ino + 1).putLong(kind.ordinal()).putLong(value).flip();
        return this;
    }


}
