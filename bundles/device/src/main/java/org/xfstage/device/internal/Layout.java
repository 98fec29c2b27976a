package org.xfstage.device.internal;

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
        long get(byte[] b, int base) {
            long v = 0;
            for (int i = 0; i < size; i++) {
                v = (v << 8) | (b[base + offset + i] & 0xff);
            }
            return v;
        }

        void put(byte[] b, int base, long v) {
            for (int i = size - 1; i >= 0; i--) {
                b[base + offset + i] = (byte) v;
                v >>>= 8;
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

    Layout(String name, int crcOffset) {
        this.name = name;
        this.crcOffset = crcOffset;
        this.size = -1;
    }

    private Layout(String name, int crcOffset, List<Field> fields, int size) {
        this.name = name;
        this.crcOffset = crcOffset;
        this.fields.addAll(fields);
        for (Field f : fields) {
            byName.put(f.name(), f);
        }
        this.size = size;
    }

    /** Adds the next field right after the previous one. */
    Layout field(String fieldName, int bytes) {
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
