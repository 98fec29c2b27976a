package org.xfstage.xfarray.internal;

import java.nio.ByteBuffer;

/** Copying and testing fixed-size records inside byte buffers, with fast paths for sizes made of longs. */
final class Records {
    private Records() {
    }

    static void copy(ByteBuffer src, int from, ByteBuffer dst, int to, int size) {
        if ((size & 7) == 0 && size <= 64) {
            for (int i = 0; i < size; i += 8) {
                dst.putLong(to + i, src.getLong(from + i));
            }
        } else {
            dst.put(to, src, from, size);
        }
    }

    /** Whether {@code size} bytes at {@code at} are all zero. */
    static boolean isZero(ByteBuffer b, int at, int size) {
        int i = 0;
        for (; i + 8 <= size; i += 8) {
            if (b.getLong(at + i) != 0) {
                return false;
            }
        }
        for (; i < size; i++) {
            if (b.get(at + i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether every byte of {@code b} is zero: eight at a time, ending at the first that is not (a store's null check). */
    static boolean isZero(byte[] b) {
        int i = 0;
        for (; i + 8 <= b.length; i += 8) {
            if ((long) LONGS.get(b, i) != 0) {
                return false;
            }
        }
        for (; i < b.length; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class,
            java.nio.ByteOrder.nativeOrder());
}
