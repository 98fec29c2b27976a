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

    /**
     * Copies {@code size} bytes at {@code from} of src (in native byte order) into dst at {@code to}: a record of whole
     * longs up to 64 bytes eight bytes at a time, where a bulk get is a call of the JVM's copy stub per record, most of
     * what a 16-byte load through an xfile's view cost (LoadStoreCpu).
     */
    static void copy(ByteBuffer src, int from, byte[] dst, int to, int size) {
        if ((size & 7) == 0 && size <= 64) {
            for (int i = 0; i < size; i += 8) {
                LONGS.set(dst, to + i, src.getLong(from + i));
            }
        } else {
            src.get(from, dst, to, size);
        }
    }

    /** Copies {@code size} bytes of src at {@code from} into dst (in native byte order) at {@code to}, as the one above. */
    static void copy(byte[] src, int from, ByteBuffer dst, int to, int size) {
        if ((size & 7) == 0 && size <= 64) {
            for (int i = 0; i < size; i += 8) {
                dst.putLong(to + i, (long) LONGS.get(src, from + i));
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
