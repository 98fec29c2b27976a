package org.xfstage.xfarray.internal;

import java.nio.ByteBuffer;

import org.xfstage.api.staging.RecordComparator;

/**
 * The radix key of a record: the first (at most 8) bytes of the comparator's key prefix, read unsigned
 * big-endian into a long and left-aligned, so that digits are taken by bit position from the most significant
 * end whatever the prefix length. Bytes of a longer prefix are left to the comparator.
 */
final class RadixKey {
    static final int MAX_BYTES = 8;

    final int offset;
    final int bytes;
    /** Key bits that carry information: 8 per prefix byte. */
    final int bits;

    private RadixKey(int offset, int bytes) {
        this.offset = offset;
        this.bytes = bytes;
        this.bits = bytes * 8;
    }

    /** The key of {@code bytes} (1 to 8) bytes at {@code offset}: a prefix the sort found, not one declared. */
    static RadixKey at(int offset, int bytes) {
        if (offset < 0 || bytes < 1 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("radix key of " + bytes + " bytes at " + offset);
        }
        return new RadixKey(offset, bytes);
    }

    /** The radix key of the comparator, or null when it declares no prefix. */
    static RadixKey of(RecordComparator comparator, int recordSize) {
        RecordComparator.KeyPrefix p = comparator.keyPrefix();
        if (p == null) {
            return null;
        }
        if ((long) p.offset() + p.length() > recordSize) {
            throw new IllegalArgumentException("key prefix " + p + " does not fit records of " + recordSize + " bytes");
        }
        return new RadixKey(p.offset(), Math.min(p.length(), MAX_BYTES));
    }

    long read(ByteBuffer b, int recordStart) {
        int at = recordStart + offset;
        if (bytes == 8) {
            return b.getLong(at); // buffers are big-endian
        }
        long k = 0;
        for (int i = 0; i < bytes; i++) {
            k = (k << 8) | (b.get(at + i) & 0xff);
        }
        return k << (64 - bits);
    }

    /** The {@code width}-bit digit that starts {@code fromBit} bits below the most significant bit. */
    static int digit(long key, int fromBit, int width) {
        return (int) ((key << fromBit) >>> (64 - width));
    }
}
