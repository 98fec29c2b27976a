package org.xfstage.repair.internal;

import java.util.Arrays;
import java.util.function.LongConsumer;

/** A growable list of longs, reused: the blocks of one btree while the walk finds out whether the tree reads whole. */
final class LongList {
    private long[] values = new long[64];
    private int size;

    void add(long v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    void clear() {
        size = 0;
    }

    void forEach(LongConsumer c) {
        for (int i = 0; i < size; i++) {
            c.accept(values[i]);
        }
    }
}
