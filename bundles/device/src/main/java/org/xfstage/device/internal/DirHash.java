package org.xfstage.device.internal;

/**
 * The directory name hash (xfs_da_hashname, and xfs_ascii_ci_hashname on filesystems with ASCII case-insensitive
 * names). The kernel folds four bytes per step with rotations by 28; that is the same as folding one byte at a time
 * as hash = byte ^ rotl(hash, 7), which is what this does.
 */
final class DirHash {
    private DirHash() {
    }

    static int hash(byte[] b, int off, int len, boolean asciiCi) {
        int h = 0;
        for (int i = 0; i < len; i++) {
            int c = b[off + i] & 0xff;
            h = (asciiCi ? fold(c) : c) ^ Integer.rotateLeft(h, 7);
        }
        return h;
    }

    /** xfs_ascii_ci_xfrm: upper-case ASCII and Latin-1 letters to lower case (not the multiplication and division signs). */
    static int fold(int c) {
        if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xDE)) {
            return c + 0x20;
        }
        return c;
    }
}
