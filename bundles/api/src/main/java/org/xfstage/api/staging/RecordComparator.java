package org.xfstage.api.staging;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Orders the fixed-size records of an {@link XfArray} where they lie: the buffers are views of staging
 * memory (or of sort buffers), and the records start at the given absolute offsets. Implementations must
 * not change the buffers' positions or contents; absolute gets ({@code getLong(offset + 8)}) are the way.
 */
@ConsumerType
public interface RecordComparator {

    /** Negative, zero or positive as record a sorts before, with, or after record b. */
    int compare(ByteBuffer a, int aOffset, ByteBuffer b, int bOffset);

    /**
     * The part of each record that, read as an unsigned big-endian number, orders records the same way as
     * {@link #compare} does, except that equal prefixes may still differ by {@code compare}. When present,
     * the sort orders by radix passes on the prefix and calls {@code compare} only to break ties.
     * {@code null} (the default) means no such prefix.
     */
    default KeyPrefix keyPrefix() {
        return null;
    }

    /**
     * The order of records whose first {@code longs} big-endian longs, read unsigned, are their sort key (the most
     * common shape of staged records: block numbers, inode numbers); the first 8 bytes are declared as the radix key.
     */
    static RecordComparator unsignedLongs(int longs) {
        if (longs < 1) {
            throw new IllegalArgumentException("at least one long, not " + longs);
        }
        return new RecordComparator() {
            @Override
            public int compare(ByteBuffer a, int aOffset, ByteBuffer b, int bOffset) {
                for (int i = 0; i < longs; i++) {
                    int c = Long.compareUnsigned(a.getLong(aOffset + 8 * i), b.getLong(bOffset + 8 * i));
                    if (c != 0) {
                        return c;
                    }
                }
                return 0;
            }

            @Override
            public KeyPrefix keyPrefix() {
                return new KeyPrefix(0, 8);
            }
        };
    }

    /**
     * A key prefix: {@code length} bytes at {@code offset} within the record.
     *
     * @param offset byte offset within the record
     * @param length number of bytes, at least 1
     */
    record KeyPrefix(int offset, int length) {
        public KeyPrefix {
            if (offset < 0 || length < 1) {
                throw new IllegalArgumentException("key prefix needs offset >= 0 and length >= 1, not " + offset + "/" + length);
            }
        }
    }
}
