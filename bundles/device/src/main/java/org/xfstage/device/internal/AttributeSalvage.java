package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;

/**
 * A short-form attribute fork kept as far as it reads, as xfs_repair's process_shortform_attr keeps it: the entries
 * are read in turn and the fork is cut before the first that does not read (a zero-length name, sizes that run past
 * the fork, a name holding a NUL: "truncating attributes for inode N to I"); an entry that reads but carries flags no
 * kernel writes (unknown bits, two namespaces, INCOMPLETE) is dropped alone and the next ones kept. The kept entries
 * are written back byte for byte, packed, with the count and total size set ("corrected attribute entry count",
 * "corrected attribute totsize"); the fork offset, format and the data fork are kept. The inode is read again: no
 * attribute rule may be broken, and no rule that held may break.
 * <p>
 * Leaf and node forks are not salvaged here (a fork that does not read is dropped whole by {@link InodeClear}).
 */
final class AttributeSalvage {
    /** The 4-byte short-form header: totsize (be16), count (u8), pad. */
    private static final int SF_HDR = 4;
    /** An entry's fixed part: namelen, valuelen, flags (u8 each). */
    private static final int ENTRY_HDR = 3;

    private final InodeChecks checks;
    private final Geometry g;

    AttributeSalvage(InodeChecks checks) {
        this.checks = checks;
        this.g = checks.g;
    }

    /** The salvaged inode's bytes and what was dropped, in words. */
    record Salvaged(byte[] inode, int kept, int dropped, String what) {
    }

    Salvaged salvage(Inode inode) throws XfsException {
        long ino = inode.ino;
        if (inode.mode == 0) {
            throw bad(ino, "is free");
        }
        inode.checkedType();
        Struct core = inode.core;
        int forkoff = (int) core.get("forkoff") * 8;
        if (forkoff == 0 || core.get("aformat") != Inode.FMT_LOCAL) {
            throw bad(ino, "has no short-form attribute fork");
        }
        byte[] raw = core.raw();
        int start = Inode.CORE_SIZE + forkoff;
        int size = g.inodeSize - start;
        if (size < SF_HDR) {
            throw bad(ino, "its attribute fork holds no short-form header");
        }
        int totsize = Inode.u16(raw, start);
        int count = raw[start + 2] & 0xff;
        // a total size past the fork is not believed: the fork's own end bounds the entries
        int limit = totsize >= SF_HDR && totsize <= size ? totsize : size;
        List<int[]> kept = new ArrayList<>(); // {offset in the fork, length}
        List<String> why = new ArrayList<>();
        int pos = SF_HDR;
        int i = 0;
        int readable = 0;
        for (; i < count; i++) { // bounded by count (a byte) and by the fork's size
            if (pos + ENTRY_HDR > limit) {
                why.add("cut before entry " + i + ": it starts past the fork's end");
                break;
            }
            int namelen = raw[start + pos] & 0xff;
            int valuelen = raw[start + pos + 1] & 0xff;
            int flags = raw[start + pos + 2] & 0xff;
            int len = ENTRY_HDR + namelen + valuelen;
            if (namelen == 0 || pos + len > limit || hasNul(raw, start + pos + ENTRY_HDR, namelen)) {
                why.add("cut before entry " + i + (namelen == 0 ? ": a name of no length" : pos + len > limit
                        ? ": its name and value run past the fork's end" : ": its name holds a NUL"));
                break;
            }
            readable++;
            if (!XattrChecks.flagsValidForSalvage(flags)) {
                why.add("entry " + i + " dropped: flags " + Integer.toHexString(flags) + " no kernel writes");
            } else {
                kept.add(new int[] {pos, len});
            }
            pos += len;
        }
        if (kept.size() == count && pos == totsize) {
            throw bad(ino, "its short-form attributes read whole: nothing to salvage");
        }
        if (kept.isEmpty()) {
            throw bad(ino, "no attribute of its short-form fork reads: nothing to keep");
        }
        byte[] b = raw.clone();
        java.util.Arrays.fill(b, start, g.inodeSize, (byte) 0);
        int at = SF_HDR;
        for (int[] e : kept) {
            System.arraycopy(raw, start + e[0], b, start + at, e[1]);
            at += e[1];
        }
        b[start] = (byte) (at >>> 8);
        b[start + 1] = (byte) at;
        b[start + 2] = (byte) kept.size();
        byte[] out = new Struct(Layouts.DINODE, b, 0).encode(0, g.inodeSize);
        Set<Kind> before = problems(inode);
        for (Kind k : problems(Inode.decode(out, g, ino))) {
            if (k.structure() == InodeProblem.Structure.XATTR || !before.contains(k)) {
                throw bad(ino, "its salvaged attribute fork still breaks '" + k + "'");
            }
        }
        return new Salvaged(out, kept.size(), count - kept.size(), kept.size() + " of " + count + " attribute(s) kept, "
                + String.join("; ", why) + (totsize != at ? "; total size " + totsize + " -> " + at : ""));
    }

    private Set<Kind> problems(Inode inode) throws XfsException {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        checks.check(inode, (fsb, n, startOff, attr, bmbt, unwritten) -> { }, (InodeProblem p) -> out.add(p.kind()));
        return out;
    }

    private static boolean hasNul(byte[] b, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (b[from + i] == 0) {
                return true;
            }
        }
        return false;
    }

    private static XfsFormatException bad(long ino, String what) {
        return new XfsFormatException("inode " + ino + ": " + what);
    }
}
