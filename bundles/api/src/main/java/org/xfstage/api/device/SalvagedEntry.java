package org.xfstage.api.device;

import java.util.Arrays;

/**
 * One entry to write into a rebuilt directory ({@link XfsDevice#rebuildDirectory}): a name other than "." and "..",
 * the inode it names and that inode's file type. The device computes the hash and the place.
 *
 * @param name  the name's bytes (1 to 255, no '/' or NUL)
 * @param child the inode number it names
 * @param type  the named inode's file type, from its mode (recorded when the filesystem keeps file types), or null
 *              when unknown
 */
public record SalvagedEntry(byte[] name, long child, FileType type) {

    @Override
    public boolean equals(Object o) {
        return o instanceof SalvagedEntry e && child == e.child && type == e.type && Arrays.equals(name, e.name);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(child) * 31 + Arrays.hashCode(name);
    }

    @Override
    public String toString() {
        return "SalvagedEntry[name=" + new String(name, java.nio.charset.StandardCharsets.UTF_8) + ", child=" + child + ", type="
                + type + "]";
    }
}
