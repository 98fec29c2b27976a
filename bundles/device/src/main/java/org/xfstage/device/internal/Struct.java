package org.xfstage.device.internal;

import java.util.Arrays;

/**
 * One decoded fixed-size structure: the values of every field of its {@link Layout}, and the bytes it was read
 * from (the buffer may be larger than the structure: a sector, a block). {@link #encode()} writes the values back
 * into a copy of those bytes and sets the CRC, so that encode(decode(b)) gives back b when nothing was changed.
 */
final class Struct {
    final Layout layout;
    private final byte[] raw;
    private final int base;
    private final long[] values;

    Struct(Layout layout, byte[] raw, int base) {
        this.layout = layout;
        this.raw = raw;
        this.base = base;
        this.values = new long[layout.fields().size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = layout.fields().get(i).get(raw, base);
        }
    }

    long get(Layout.Field f) {
        return values[layout.fields().indexOf(f)];
    }

    long get(String name) {
        return get(layout.get(name));
    }

    void set(String name, long value) {
        values[layout.fields().indexOf(layout.get(name))] = value;
    }

    /** The buffer this structure was decoded from, as it was. */
    byte[] raw() {
        return raw;
    }

    /**
     * The buffer with the current values written back and the CRC recomputed over {@code [crcFrom, crcFrom+crcLen)}
     * of the buffer (the whole sector or block the structure heads).
     */
    byte[] encode(int crcFrom, int crcLen) {
        byte[] out = Arrays.copyOf(raw, raw.length);
        for (int i = 0; i < values.length; i++) {
            layout.fields().get(i).put(out, base, values[i]);
        }
        if (layout.crcOffset >= 0) {
            Checksums.update(out, crcFrom, crcLen, base + layout.crcOffset);
        }
        return out;
    }

    boolean crcValid(int crcFrom, int crcLen) {
        return layout.crcOffset < 0 || Checksums.valid(raw, crcFrom, crcLen, base + layout.crcOffset);
    }
}
