package org.xfstage.api.repair;


import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.StagedRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * A record of {@link Observation#LINK_COUNTS}, read and written in place (a reusable flyweight, not thread-safe):
 * what the tree walk saw of one inode's links. Sorted, the records of an inode come together, its own first
 * ({@link Kind#INODE}, then {@link Kind#NAMED}, then {@link Kind#ENTRY}, then {@link Kind#DOTDOT}).
 */
public final class LinkCountRecord extends StagedRecord<LinkCountRecord> {
    /** Bytes per staged record. */
    public static final int SIZE = 12;
    /** The order the engine sorts link counts in: by inode, then kind. */
    public static final RecordComparator ORDER = RecordComparator.unsignedLongs(1);
    /** The largest inode number a record holds: XFS's own (XFS_MAXINUMBER, 2^56 - 1). */
    public static final long MAX_INO = (1L << 56) - 1;

    /** What a record says. */
    public enum Kind {
        /** The inode itself: its link count and whether it is a directory. */
        INODE,
        /** A directory entry names the inode. */
        ENTRY,
        /** A subdirectory's ".." names the inode (a directory's own "." is not counted). */
        DOTDOT,
        /**
         * A directory entry names the inode, which the walk read with this link count and type: an {@link #INODE} and
         * an {@link #ENTRY} record in one, so that an inode named once costs one record. The engine's walk stages this
         * for every entry that names an inode in use (and {@link #ENTRY} for one that names no inode in use).
         */
        NAMED
    }

    /** The sort position of each kind (by ordinal): an inode's own records first. */
    private static final int[] CODE = {0, 2, 3, 1};
    private static final Kind[] BY_CODE = {Kind.INODE, Kind.NAMED, Kind.ENTRY, Kind.DOTDOT};
    // a u64: (ino + 1) << 7 | kind's code << 5 | directory << 4, then di_nlink u32; big-endian. 12 bytes, not 24: the
    // link counts are the largest part of a scrub's staging on inode-bound filesystems. ino + 1 is never 0, nor the
    // record all zeros (a null record)
    private static final int INO_SHIFT = 7;
    private static final int CODE_SHIFT = 5;
    private static final long DIRECTORY = 1 << 4;

    public LinkCountRecord() {
        super(SIZE);
    }

    /** The inode. */
    public long ino() {
        return (buf.getLong(0) >>> INO_SHIFT) - 1;
    }

    /** What the record says. */
    public Kind kind() {
        return BY_CODE[(int) (buf.getLong(0) >>> CODE_SHIFT) & 3];
    }

    /** For {@link Kind#INODE} and {@link Kind#NAMED}: its link count on disk. */
    public long nlink() {
        return buf.getInt(8) & 0xffffffffL;
    }

    /** For {@link Kind#INODE} and {@link Kind#NAMED}: whether it is a directory. */
    public boolean directory() {
        return (buf.getLong(0) & DIRECTORY) != 0;
    }

    /** Whether an entry names the inode: {@link Kind#ENTRY} or {@link Kind#NAMED}. */
    public boolean isEntry() {
        Kind k = kind();
        return k == Kind.ENTRY || k == Kind.NAMED;
    }

    /** An {@link Kind#INODE} record; {@code ino} at most {@link #MAX_INO}, as for every record. */
    public LinkCountRecord inode(long ino, long nlink, boolean directory) {
        return set(ino, Kind.INODE, nlink, directory);
    }

    /** A {@link Kind#NAMED} record: an entry names {@code ino}, read with {@code nlink} and as a directory or not. */
    public LinkCountRecord named(long ino, long nlink, boolean directory) {
        return set(ino, Kind.NAMED, nlink, directory);
    }

    /** An {@link Kind#ENTRY} or {@link Kind#DOTDOT} record. */
    public LinkCountRecord link(long ino, Kind kind) {
        return set(ino, kind, 0, false);
    }

    private LinkCountRecord set(long ino, Kind kind, long nlink, boolean directory) {
        if (ino < 0 || ino > MAX_INO) {
            throw new IllegalArgumentException("inode " + Long.toUnsignedString(ino) + " is beyond XFS's inode numbers");
        }
        buf.clear();
        buf.putLong(((ino + 1) << INO_SHIFT) | ((long) CODE[kind.ordinal()] << CODE_SHIFT) | (directory ? DIRECTORY : 0))
                .putInt((int) nlink).flip();
        return this;
    }
}
