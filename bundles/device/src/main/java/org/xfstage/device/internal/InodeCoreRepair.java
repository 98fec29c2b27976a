package org.xfstage.device.internal;

import java.util.EnumSet;
import java.util.Set;

import org.xfstage.api.device.FileType;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * Sets the fields of an inode core that break given rules to the values xfs_repair's process_dinode_int (and
 * process_inode_blocks_and_extents, validate_extsize, validate_cowextsize, clear_dinode_unlinked) gives them, when
 * the inode itself proves those values: a bit no kernel allows here is cleared, an invalid hint is zeroed with its
 * flag, the unlinked pointer is ended, an empty attribute fork gets the EXTENTS format, the counts are what the
 * forks map. What xfs_repair answers by clearing the whole inode (a reflink flag where none may be, a bad fork offset,
 * a size that does not go with the format) is not repaired here: the inode's blocks would have to be freed with it.
 * <p>
 * Proof: the counts are taken from a verifying read ({@link InodeChecks}) of the inode as it is after the flag fixes
 * (clearing NREXT64 moves where the counts are read from), and the result is read once more: every rule asked for
 * must be kept and no rule broken that the inode did not break before. Otherwise nothing is returned.
 */
final class InodeCoreRepair {
    /** The rules this class sets right; the rest are refused. */
    static final Set<Kind> REPAIRABLE = EnumSet.of(Kind.ONLINK, Kind.PAD, Kind.FLAGS_UNKNOWN, Kind.FLAGS_REALTIME,
            Kind.FLAGS_NEWRTBM, Kind.FLAGS_DIRECTORY_ONLY, Kind.FLAGS_FILE_ONLY, Kind.FLAGS2_UNKNOWN, Kind.FLAGS2_DAX,
            Kind.FLAGS2_COWEXTSIZE_FEATURE, Kind.FLAGS2_COWEXTSIZE_TYPE, Kind.FLAGS2_COWEXTSIZE_REALTIME,
            Kind.FLAGS2_BIGTIME, Kind.FLAGS2_NREXT64, Kind.EXTSIZE, Kind.COWEXTSIZE, Kind.TIMESTAMP_NSEC,
            Kind.NEXT_UNLINKED, Kind.NEXT_UNLINKED_SET, Kind.AFORMAT, Kind.NBLOCKS, Kind.NEXTENTS, Kind.ANEXTENTS,
            Kind.DIRECTORY_BLOCK_SIZE);
    /** Legacy timestamps (atime, mtime, ctime, crtime): be32 seconds then be32 nanoseconds. */
    private static final String[] TIMESTAMPS = {"atime", "mtime", "ctime", "crtime"};

    private final InodeChecks checks;
    private final Geometry g;

    InodeCoreRepair(InodeChecks checks) {
        this.checks = checks;
        this.g = checks.g;
    }

    /**
     * The bytes of {@code inode} with the rules {@code kinds} set right (CRC set).
     *
     * @throws XfsFormatException when a rule is not one this class repairs, the inode is free, or the result does not
     *                            prove the repair (a rule still broken, or a new one broken), or a rule is not broken
     */
    byte[] repair(Inode inode, Set<Kind> kinds) throws XfsException {
        long ino = inode.ino;
        for (Kind k : kinds) {
            if (!REPAIRABLE.contains(k)) {
                throw bad(ino, "'" + k + "' is not repaired in place (xfs_repair clears the inode, or its right value is not proven)");
            }
        }
        if (inode.mode == 0) {
            throw bad(ino, "is free: there is no core to repair");
        }
        FileType type = inode.checkedType();
        Set<Kind> before = problems(inode);
        for (Kind k : kinds) {
            // a fix is applied only where the rule is broken: a size or a count set for a rule the inode keeps could
            // break what holds (a directory of several blocks is not one block long)
            if (!before.contains(k)) {
                throw bad(ino, "'" + k + "' is not broken: nothing to repair");
            }
        }
        Struct s = new Struct(Layouts.DINODE, inode.core.raw().clone(), 0);

        // flags, then flags2, then the hints, in process_dinode_int's order (the hint rules read the fixed flags)
        long flags = s.get("flags");
        if (kinds.contains(Kind.FLAGS_UNKNOWN)) {
            flags &= InodeChecks.DIFLAG_ANY;
        }
        if (kinds.contains(Kind.FLAGS_REALTIME)) {
            flags &= ~InodeChecks.DIFLAG_REALTIME;
        }
        if (kinds.contains(Kind.FLAGS_NEWRTBM)) {
            flags &= ~InodeChecks.DIFLAG_NEWRTBM;
        }
        if (kinds.contains(Kind.FLAGS_DIRECTORY_ONLY) && type != FileType.DIRECTORY) {
            flags &= ~InodeChecks.DIFLAG_DIRECTORY_ONLY;
        }
        if (kinds.contains(Kind.FLAGS_FILE_ONLY) && type != FileType.FILE) {
            flags &= ~InodeChecks.DIFLAG_FILE_ONLY;
        }
        long flags2 = s.get("flags2");
        if (kinds.contains(Kind.FLAGS2_UNKNOWN)) {
            flags2 &= InodeChecks.DIFLAG2_ANY;
        }
        if (kinds.contains(Kind.FLAGS2_DAX)) {
            flags2 &= ~InodeChecks.DIFLAG2_DAX;
        }
        if (kinds.contains(Kind.FLAGS2_COWEXTSIZE_FEATURE) || kinds.contains(Kind.FLAGS2_COWEXTSIZE_TYPE)
                || kinds.contains(Kind.FLAGS2_COWEXTSIZE_REALTIME)) {
            flags2 &= ~InodeChecks.DIFLAG2_COWEXTSIZE;
        }
        if (kinds.contains(Kind.FLAGS2_BIGTIME)) {
            // the timestamps were written in the other encoding: xfs_repair zeroes them rather than guess
            flags2 &= ~InodeChecks.DIFLAG2_BIGTIME;
            for (String t : TIMESTAMPS) {
                s.set(t, 0);
            }
        }
        if (kinds.contains(Kind.FLAGS2_NREXT64)) {
            flags2 &= ~InodeChecks.DIFLAG2_NREXT64;
        }
        s.set("flags", flags);
        s.set("flags2", flags2);
        if (kinds.contains(Kind.TIMESTAMP_NSEC) && (flags2 & InodeChecks.DIFLAG2_BIGTIME) == 0) {
            for (String t : TIMESTAMPS) {
                long v = s.get(t);
                if ((v & 0xffffffffL) >= InodeChecks.NSEC_PER_SEC) {
                    s.set(t, v & ~0xffffffffL); // check_nsec: the nanoseconds reset to zero, the seconds kept
                }
            }
        }
        if (kinds.contains(Kind.ONLINK)) {
            s.set("onlink", 0);
        }
        if (kinds.contains(Kind.NEXT_UNLINKED) || kinds.contains(Kind.NEXT_UNLINKED_SET)) {
            s.set("next_unlinked", InodeChecks.NULL_AGINO);
        }
        if (kinds.contains(Kind.AFORMAT)) {
            if (s.get("forkoff") != 0) {
                throw bad(ino, "has an attribute fork of a format no fork may have: xfs_repair clears the fork, which is not done in place");
            }
            s.set("aformat", Inode.FMT_EXTENTS);
        }
        if (kinds.contains(Kind.DIRECTORY_BLOCK_SIZE)) {
            s.set("size", g.dirBlockSize); // the check reports it only when the map is exactly one directory block
        }

        // what the fixes above leave broken, read again: the hints (validate_extsize and validate_cowextsize run on
        // the fixed flags, so a hint a cleared flag made valid stays), the counts and the padding (clearing NREXT64
        // moves where they are kept)
        Inode fixed = Inode.decode(s.encode(0, g.inodeSize), g, ino);
        Struct c = new Struct(Layouts.DINODE, fixed.core.raw().clone(), 0);
        boolean large = (c.get("flags2") & InodeChecks.DIFLAG2_NREXT64) != 0;
        checks.check(fixed, (fsb, count, startOff, attr, bmbt, unwritten) -> { }, p -> {
            if (!kinds.contains(p.kind())) {
                return;
            }
            switch (p.kind()) {
                case EXTSIZE -> {
                    c.set("extsize", 0);
                    c.set("flags", c.get("flags") & ~(InodeChecks.DIFLAG_EXTSIZE | InodeChecks.DIFLAG_EXTSZINHERIT));
                }
                case COWEXTSIZE -> {
                    c.set("cowextsize", 0);
                    c.set("flags2", c.get("flags2") & ~InodeChecks.DIFLAG2_COWEXTSIZE);
                }
                case NBLOCKS -> c.set("nblocks", p.expected());
                case NEXTENTS -> c.set(large ? "big_nextents" : "nextents", p.expected());
                case ANEXTENTS -> c.set(large ? "nextents" : "anextents", p.expected());
                case PAD -> c.set(large ? "anextents" : "big_nextents", 0);
                default -> { }
            }
        });
        byte[] out = c.encode(0, g.inodeSize);
        Set<Kind> after = problems(Inode.decode(out, g, ino));
        for (Kind k : after) {
            if (kinds.contains(k)) {
                throw bad(ino, "'" + k + "' is still broken after the repair: its right value is not proven");
            }
            if (!before.contains(k)) {
                throw bad(ino, "the repair would break '" + k + "'");
            }
        }
        return out;
    }

    /** The rules a verifying read of {@code inode} finds broken. */
    private Set<Kind> problems(Inode inode) throws XfsException {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        checks.check(inode, (fsb, count, startOff, attr, bmbt, unwritten) -> { }, (InodeProblem p) -> out.add(p.kind()));
        return out;
    }

    private static XfsFormatException bad(long ino, String what) {
        return new XfsFormatException("inode " + ino + ": " + what);
    }
}
