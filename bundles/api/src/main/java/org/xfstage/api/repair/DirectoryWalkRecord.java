package org.xfstage.api.repair;

import java.nio.ByteBuffer;

import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.FileType;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * A record of {@link Observation#DIRECTORY_WALK}, read and written in place (a reusable flyweight, not thread-safe):
 * one thing the tree walk's verifying directory reader told. The bytes (a directory's path, an entry's name, a
 * problem's detail in UTF-8) are in the observation's blob, at {@link #cookie()}; records are in walk order and are
 * never sorted (a directory's record comes before its entries and problems).
 */
public final class DirectoryWalkRecord {
    /** Bytes per staged record. */
    public static final int SIZE = 48;

    /** What a record holds. */
    public enum Kind {
        /** A directory the walk is about to read ({@link #dir()}; its path at the cookie). */
        DIRECTORY,
        /** One entry ({@link #entry}; its name at the cookie), with the type of the inode it names when told. */
        ENTRY,
        /** One problem ({@link #problem}; its detail at the cookie). */
        PROBLEM
    }

    private static final Kind[] KINDS = Kind.values();
    private static final FileType[] TYPES = FileType.values();
    private static final DirectoryProblem.Kind[] PROBLEMS = DirectoryProblem.Kind.values();
    /** Entry type byte: no type recorded. */
    private static final int NO_TYPE = 0;

    // kind + 1 u8 (never an all-zero, null record), entry type + 1 u8 (0: none), child type + 1 u8 (0: none or not
    // told), flags u8 (1: child told, 2: entries lost), hash or problem offset i32, dir u64, child or problem block
    // u64, offset u64, cookie u64, a zero u64; big-endian
    private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

    private static byte type(FileType t) {
        return (byte) (t == null ? NO_TYPE : t.ordinal() + 1);
    }

    private static FileType type(byte b) {
        return b == NO_TYPE ? null : TYPES[b - 1];
    }

    private DirectoryWalkRecord set(Kind kind, FileType a, FileType b, int flags, int small, long dir, long x, long y,
            long cookie) {
        buf.clear();
        buf.put((byte) (kind.ordinal() + 1)).put(type(a)).put(type(b)).put((byte) flags).putInt(small).putLong(dir)
                .putLong(x).putLong(y).putLong(cookie).putLong(0).flip();
        return this;
    }

    /** A {@link Kind#DIRECTORY} record: directory {@code ino}, its path at {@code cookie}. */
    public DirectoryWalkRecord directory(long ino, long cookie) {
        return set(Kind.DIRECTORY, null, null, 0, 0, ino, 0, 0, cookie);
    }

    /**
     * A {@link Kind#ENTRY} record: {@code e}, its name at {@code cookie}; {@code childTold} when the walk read the inode it
     * names, whose type was then {@code childType} (null: no inode in use).
     */
    public DirectoryWalkRecord entry(DirectoryEntry e, long cookie, boolean childTold, FileType childType) {
        return set(Kind.ENTRY, e.type(), childType, childTold ? 1 : 0, e.hash(), e.directory(), e.child(), e.offset(), cookie);
    }

    /** A {@link Kind#PROBLEM} record: {@code p}, its detail at {@code cookie}. */
    public DirectoryWalkRecord problem(DirectoryProblem p, long cookie) {
        return set(Kind.PROBLEM, null, null, p.entriesLost() ? 2 : 0, p.offset(), p.directory(), p.block(),
                p.kind().ordinal(), cookie);
    }

    /** What the record holds. */
    public Kind kind() {
        return KINDS[buf.get(0) - 1];
    }

    /** The directory it concerns. */
    public long dir() {
        return buf.getLong(8);
    }

    /** Where its bytes are in the observation's blob: path, name or detail. */
    public long cookie() {
        return buf.getLong(32);
    }

    /** For {@link Kind#ENTRY}: the entry, with its name (loaded from the blob by the caller). */
    public DirectoryEntry entry(byte[] name) {
        return new DirectoryEntry(dir(), name, buf.getInt(4), buf.getLong(16), type(buf.get(1)), buf.getLong(24));
    }

    /** For {@link Kind#ENTRY}: whether the walk read the inode the entry names (it does for all but "."). */
    public boolean childTold() {
        return (buf.get(3) & 1) != 0;
    }

    /** For {@link Kind#ENTRY} with {@link #childTold()}: the named inode's type as read, or null when it is none in use. */
    public FileType childType() {
        return type(buf.get(2));
    }

    /** For {@link Kind#PROBLEM}: the problem, with its detail (loaded from the blob by the caller). */
    public DirectoryProblem problem(String detail) {
        return new DirectoryProblem(dir(), PROBLEMS[(int) buf.getLong(24)], buf.getLong(16), buf.getInt(4), detail,
                (buf.get(3) & 2) != 0);
    }

    /** Loads the first record at or after {@code from} into this; its index, or -1 at the end. */
    public long loadNext(XfArray array, long from) throws StagingException {
        return array.loadNext(from, buf);
    }

    /** Appends this record to {@code array}. */
    public void appendTo(XfArray array) throws StagingException {
        buf.rewind();
        array.append(buf);
        buf.rewind();
    }

    /**
     * Stores this record at {@code index} of {@code array}: a walk's record staged in two parts, the later part first,
     * leaves room before it for the earlier one (the records stay in walk order; the gap, if any, is null records).
     */
    public void storeTo(XfArray array, long index) throws StagingException {
        buf.rewind();
        array.store(index, buf);
        buf.rewind();
    }

    /**
     * For {@link Kind#ENTRY}: the inode the entry names, as {@link #entry} has it, without its name (a pass over the
     * walk that loads names only where it needs them reads the rest of an entry from these).
     */
    public long child() {
        return buf.getLong(16);
    }

    /** For {@link Kind#ENTRY}: the name's hash, as {@link #entry} has it. */
    public int hash() {
        return buf.getInt(4);
    }

    /** For {@link Kind#ENTRY}: the file type the entry records, as {@link #entry} has it (null: none). */
    public FileType entryType() {
        return type(buf.get(1));
    }

    /** For {@link Kind#ENTRY}: where the entry lies in the directory's data space, as {@link #entry} has it. */
    public long offset() {
        return buf.getLong(24);
    }
}
