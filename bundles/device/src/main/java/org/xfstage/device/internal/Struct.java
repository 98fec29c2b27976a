package org.xfstage.device.internal;

import java.util.Arrays;
import java.util.List;

/**
 * One decoded fixed-size structure: the fields of its {@link Layout}, read from the bytes it was decoded from (the
 * buffer may be larger than the structure: a sector, a block). Fields are read when asked for (a walk reads
 * hundreds of thousands of inodes and looks at a few fields of each); {@link #set} records new values, and
 * {@link #encode()} writes every field back into a copy of the bytes and sets the CRC, so that encode(decode(b))
 * gives back b when nothing was changed.
 */
final class Struct {
    final Layout layout;
    private final byte[] raw;
    private final int base;
    /** Values set since decoding, by field index; null until the first set. */
    private long[] changed;
    private boolean[] isChanged;

    Struct(Layout layout, byte[] raw, int base) {
        this.layout = layout;
        this.raw = raw;
        this.base = base;
    }

    long get(Layout.Field f) {
        return isChanged != null && isChanged[f.index()] ? changed[f.index()] : f.get(raw, base);
    }

    long get(String name) {
        return get(layout.get(name));
    }

    void set(String name, long value) {
        if (changed == null) {
            changed = new long[layout.fields().size()];
            isChanged = new boolean[changed.length];
        }
        Layout.Field f = layout.get(name);
        changed[f.index()] = value;
        isChanged[f.index()] = true;
    }

    /** The buffer this structure was decoded from, as it was. */
    byte[] raw() {
        return raw;
    }

    /**
     * The buffer with every field written back (the decoded value, or the one set) and the CRC recomputed over
     * {@code [crcFrom, crcFrom+crcLen)} of the buffer (the whole sector or block the structure heads).
     */
    byte[] encode(int crcFrom, int crcLen) {
        byte[] out = Arrays.copyOf(raw, raw.length);
        List<Layout.Field> fields = layout.fields();
        for (Layout.Field f : fields) {
            f.put(out, base, get(f));
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
