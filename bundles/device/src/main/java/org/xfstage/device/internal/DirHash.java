package org.xfstage.device.internal;

/**
 * The directory name hash (xfs_da_hashname, and xfs_ascii_ci_hashname on filesystems with ASCII case-insensitive
 * names). The kernel folds four bytes per step with rotations by 28; that is the same as folding one byte at a time
 * as hash = byte ^ rotl(hash, 7), which is what this does.
 * <p>
 * Case-insensitive names were hashed two ways over the years: the kernel's tolower() folded Latin-1 capitals too,
 * the C library's tolower() that xfsprogs used (mkfs -p, xfs_repair up to 6.1 at least) only ASCII; libxfs now
 * folds both ranges everywhere. A name with a Latin-1 capital may therefore carry either hash on a consistent
 * filesystem, and {@link #hashAsciiOnly} gives the other one.
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

    /** The case-insensitive hash with only ASCII capitals folded (older xfsprogs). */
    static int hashAsciiOnly(byte[] b, int off, int len) {
        int h = 0;
        for (int i = 0; i < len; i++) {
            int c = b[off + i] & 0xff;
            h = (c >= 'A' && c <= 'Z' ? c + 0x20 : c) ^ Integer.rotateLeft(h, 7);
        }
        return h;
    }

    /** Whether folding Latin-1 capitals changes the case-insensitive hash of a name (it holds one). */
    static boolean hasLatin1Capital(byte[] b) {
        for (byte x : b) {
            int c = x & 0xff;
            if ((c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xDE)) {
                return true;
            }
        }
        return false;
    }

    /** xfs_ascii_ci_xfrm: upper-case ASCII and Latin-1 letters to lower case (not the multiplication and division signs). */
    static int fold(int c) {
        if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xDE)) {
            return c + 0x20;
        }
        return c;
    }
}
