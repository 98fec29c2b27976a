package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.xfstage.api.device.FileType;

/**
 * The names of the directory the tree walk is reading, held on the heap up to a bound, so that a name held twice is
 * found when the directory's last entry is in, with nothing staged per entry: most directories are far below the
 * bound. A directory past it is staged instead ({@link #add} says so; the caller stages what is here with
 * {@link #forEach}), so the heap holds at most one bounded directory's names at a time whatever the filesystem's size.
 */
final class DirectoryNames {
    /** Names of one directory held at most (each costs about 30 bytes and its name). */
    static final int MAX_NAMES = 65_536;
    /** Bytes of names held at most. */
    static final int MAX_BYTES = 2 * 1024 * 1024;
    private static final int FIRST = 64;
    private static final int FIRST_BYTES = 4096;
    /** Arrays kept from one directory to the next up to this many names and bytes (about 200 KiB and 256 KiB). */
    private static final int KEEP = 8192;
    private static final int KEEP_BYTES = 256 * 1024;
    /** Distinct names compared in one group of equal keys (different names with one 64-bit key: never in practice). */
    private static final int DISTINCT_COMPARED = 8;

    /** A name held twice: the inodes of its first and of a later entry. */
    interface Duplicate {
        void found(byte[] name, long firstChild, long child);
    }

    /** One held entry, for staging when the directory outgrows the bound. */
    interface Held {
        void accept(int hash, long key, long child, FileType type, byte[] name);
    }

    private int count;
    private int[] hashes = new int[FIRST];
    private long[] keys = new long[FIRST];
    private long[] children = new long[FIRST];
    private byte[] types = new byte[FIRST];
    private int[] offsets = new int[FIRST + 1];
    private byte[] bytes = new byte[FIRST_BYTES];

    private static final FileType[] TYPES = FileType.values();

    int size() {
        return count;
    }

    /** Holds one entry; false (nothing held) when it would pass the bound. */
    boolean add(int hash, long key, long child, FileType type, byte[] name) {
        int used = offsets[count];
        if (count >= MAX_NAMES || used + name.length > MAX_BYTES) {
            return false;
        }
        if (count == keys.length) {
            int n = Math.min(MAX_NAMES, count * 2);
            hashes = Arrays.copyOf(hashes, n);
            keys = Arrays.copyOf(keys, n);
            children = Arrays.copyOf(children, n);
            types = Arrays.copyOf(types, n);
            offsets = Arrays.copyOf(offsets, n + 1);
        }
        if (used + name.length > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.min(MAX_BYTES, Math.max(used + name.length, bytes.length * 2)));
        }
        System.arraycopy(name, 0, bytes, used, name.length);
        hashes[count] = hash;
        keys[count] = key;
        children[count] = child;
        types[count] = (byte) (type == null ? 0 : type.ordinal() + 1);
        offsets[count + 1] = used + name.length;
        count++;
        return true;
    }

    private byte[] name(int i) {
        return Arrays.copyOfRange(bytes, offsets[i], offsets[i + 1]);
    }

    private boolean sameName(int i, int j) {
        return Arrays.equals(bytes, offsets[i], offsets[i + 1], bytes, offsets[j], offsets[j + 1]);
    }

    /** Every held entry, in the order it came. */
    void forEach(Held to) {
        for (int i = 0; i < count; i++) {
            to.accept(hashes[i], keys[i], children[i], types[i] == 0 ? null : TYPES[types[i] - 1], name(i));
        }
    }

    /**
     * Every name held twice, each later copy against the first, in walk order. The keys are sorted (a copy) to find
     * those held more than once; only entries with such a key are grouped and their bytes compared.
     */
    void duplicates(Duplicate to) {
        if (count < 2) {
            return;
        }
        long[] sorted = Arrays.copyOf(keys, count);
        Arrays.sort(sorted);
        Set<Long> repeated = null;
        for (int i = 1; i < count; i++) {
            if (sorted[i] == sorted[i - 1]) {
                if (repeated == null) {
                    repeated = new HashSet<>();
                }
                repeated.add(sorted[i]);
            }
        }
        if (repeated == null) {
            return;
        }
        Map<Long, List<Integer>> firsts = new HashMap<>(); // per key, the first entry of each distinct name
        for (int i = 0; i < count; i++) {
            if (!repeated.contains(keys[i])) {
                continue;
            }
            List<Integer> distinct = firsts.computeIfAbsent(keys[i], k -> new ArrayList<>(1));
            int first = -1;
            for (int f : distinct) {
                if (sameName(f, i)) {
                    first = f;
                    break;
                }
            }
            if (first >= 0) {
                to.found(name(i), children[first], children[i]);
            } else if (distinct.size() < DISTINCT_COMPARED) {
                distinct.add(i);
            }
        }
    }

    /** Forgets the held entries; a directory that made the arrays large gives them back (common sizes keep theirs). */
    void clear() {
        count = 0;
        if (keys.length > KEEP) {
            hashes = new int[FIRST];
            keys = new long[FIRST];
            children = new long[FIRST];
            types = new byte[FIRST];
            offsets = new int[FIRST + 1];
        }
        if (bytes.length > KEEP_BYTES) {
            bytes = new byte[FIRST_BYTES];
        }
    }
}
