package org.xfstage.device.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The byte layout of one fixed-size on-disk structure: named big-endian fields of 1, 2, 4 or 8 bytes at fixed
 * offsets, and where its CRC sits. Byte arrays (UUIDs, names) are split into 8- and 4-byte fields so that every
 * byte a structure defines is decoded and encoded. This table is the single place where a layout is written down
 * (the C names are kept, without their prefixes, so that xfs_format.h can be checked against it).
 */
final class Layout {
    /** One field: its position in the layout, offset and size in bytes. */
    record Field(String name, int index, int offset, int size) {
        private static final VarHandle BE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
        private static final VarHandle BE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
        private static final VarHandle BE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

        /** The field's unsigned value (8-byte fields as the raw 64 bits). */
        long get(byte[] b, int base) {
            int at = base + offset;
            return switch (size) {
                case 1 -> b[at] & 0xffL;
                case 2 -> (short) BE16.get(b, at) & 0xffffL;
                case 4 -> (int) BE32.get(b, at) & 0xffffffffL;
                default -> (long) BE64.get(b, at);
            };
        }

        void put(byte[] b, int base, long v) {
            int at = base + offset;
            switch (size) {
                case 1 -> b[at] = (byte) v;
                case 2 -> BE16.set(b, at, (short) v);
                case 4 -> BE32.set(b, at, (int) v);
                default -> BE64.set(b, at, v);
            }
        }
    }

    final String name;
    final int size;
    /** Offset of the little-endian CRC, or -1 when the structure has none in itself. */
    final int crcOffset;
    private final List<Field> fields = new ArrayList<>();
    private final java.util.Map<String, Field> byName = new java.util.HashMap<>();
    private final List<Field> view = Collections.unmodifiableList(fields);
    private int end;
    /** The uuid fields every v5 structure carries (null in a layout without them), for the per-block check. */
    final Field uuid0;
    final Field uuid1;

    Layout(String name, int crcOffset) {
        this.name = name;
        this.crcOffset = crcOffset;
        this.size = -1;
        this.uuid0 = null;
        this.uuid1 = null;
    }

    private Layout(String name, int crcOffset, List<Field> fields, int size) {
        this.name = name;
        this.crcOffset = crcOffset;
        this.fields.addAll(fields);
        for (Field f : fields) {
            byName.put(f.name(), f);
        }
        this.size = size;
        this.uuid0 = byName.get("uuid0");
        this.uuid1 = byName.get("uuid1");
    }

    /** Adds the next field right after the previous one. */
    Layout field(String fieldName, int bytes) {
        if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) {
            throw new IllegalArgumentException(name + "." + fieldName + ": fields are 1, 2, 4 or 8 bytes, not " + bytes);
        }
        fields.add(new Field(fieldName, fields.size(), end, bytes));
        end += bytes;
        return this;
    }

    Layout done() {
        return new Layout(name, crcOffset, fields, end);
    }

    Field get(String fieldName) {
        Field f = byName.get(fieldName);
        if (f == null) {
            throw new IllegalArgumentException("no field " + fieldName + " in " + name);
        }
        return f;
    }

    List<Field> fields() {
        return view;
    }
}
