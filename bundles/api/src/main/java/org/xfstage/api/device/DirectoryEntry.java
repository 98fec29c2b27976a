package org.xfstage.api.device;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One entry of a directory as the device's verifying reader read it ({@link XfsDevice#directory}). Reported only for
 * entries whose place in the directory could be decoded; what is wrong with one is reported as a
 * {@link DirectoryProblem} beside it. "." and ".." are entries too: a short-form directory keeps ".." in its header
 * (reported with {@code offset} -1) and has no ".".
 *
 * @param directory the directory's inode number
 * @param name      the name's bytes as on disk (not a Java string: names are bytes, not always UTF-8)
 * @param hash      the name's hash as the filesystem computes it for lookups (the hash index must hold this one)
 * @param child     the inode number the entry names, as on disk (it may not be a valid inode number)
 * @param type      the file type the entry records, or null when it records none (the filesystem keeps no types,
 *                  or the entry says "unknown")
 * @param offset    where the entry lies in the directory's data space, in bytes (the address readdir and the hash
 *                  index use), or -1 for a short-form directory's ".."
 */
public record DirectoryEntry(long directory, byte[] name, int hash, long child, FileType type, long offset) {

    private static final byte[] DOT = {'.'};
    private static final byte[] DOTDOT = {'.', '.'};

    /** Whether this is the directory's "." entry. */
    public boolean isDot() {
        return Arrays.equals(name, DOT);
    }

    /** Whether this is the directory's ".." entry. */
    public boolean isDotDot() {
        return Arrays.equals(name, DOTDOT);
    }

    /** The name for messages: UTF-8, with undecodable bytes replaced. */
    public String nameString() {
        return new String(name, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DirectoryEntry e && directory == e.directory && hash == e.hash && child == e.child
                && type == e.type && offset == e.offset && Arrays.equals(name, e.name);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(directory) * 31 + Long.hashCode(offset) * 17 + Arrays.hashCode(name);
    }

    @Override
    public String toString() {
        return "DirectoryEntry[directory=" + directory + ", name=" + nameString() + ", hash=" + Integer.toHexString(hash)
                + ", child=" + child + ", type=" + type + ", offset=" + offset + "]";
    }
}
