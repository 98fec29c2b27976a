package org.xfstage.device.internal;

import java.util.zip.CRC32C;

/**
 * The CRC of every v5 metadata structure: standard CRC-32C over the whole buffer with the CRC field read as zero,
 * stored little-endian even where the C struct says big-endian (xfs_cksum.h).
 */
final class Checksums {
    private static final byte[] ZERO = new byte[4];

    private Checksums() {
    }

    static int compute(byte[] b, int off, int len, int crcAt) {
        CRC32C c = new CRC32C();
        c.update(b, off, crcAt - off);
        c.update(ZERO, 0, 4);
        c.update(b, crcAt + 4, off + len - crcAt - 4);
        return (int) c.getValue();
    }

    static int stored(byte[] b, int crcAt) {
        return (b[crcAt] & 0xff) | (b[crcAt + 1] & 0xff) << 8 | (b[crcAt + 2] & 0xff) << 16 | (b[crcAt + 3] & 0xff) << 24;
    }

    static boolean valid(byte[] b, int off, int len, int crcAt) {
        return stored(b, crcAt) == compute(b, off, len, crcAt);
    }

    static void update(byte[] b, int off, int len, int crcAt) {
        int crc = compute(b, off, len, crcAt);
        b[crcAt] = (byte) crc;
        b[crcAt + 1] = (byte) (crc >>> 8);
        b[crcAt + 2] = (byte) (crc >>> 16);
        b[crcAt + 3] = (byte) (crc >>> 24);
    }
}
