package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;

import org.xfstage.api.device.FreeExtent;

/** Lists of AG extents (each sorted by start, disjoint) and the set arithmetic the allocator does on them. */
final class ExtentLists {
    private ExtentLists() {
    }

    /** The blocks in both lists of extents (each sorted by start, disjoint), as extents. */
    static List<FreeExtent> intersect(List<FreeExtent> a, List<FreeExtent> b) {
        List<FreeExtent> out = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < a.size() && j < b.size()) {
            long start = Math.max(a.get(i).start(), b.get(j).start());
            long end = Math.min(a.get(i).end(), b.get(j).end());
            if (start < end) {
                out.add(new FreeExtent(start, end - start));
            }
            if (a.get(i).end() < b.get(j).end()) {
                i++;
            } else {
                j++;
            }
        }
        return out;
    }

    /** The blocks of {@code a} not in {@code b} (each sorted by start, disjoint), as extents. */
    static List<FreeExtent> minus(List<FreeExtent> a, List<FreeExtent> b) {
        List<FreeExtent> out = new ArrayList<>();
        int j = 0;
        for (FreeExtent e : a) {
            long start = e.start();
            while (j < b.size() && b.get(j).end() <= start) {
                j++;
            }
            // every extent of b that overlaps e cuts it; the last may reach into the next extent of a, so j stays on it
            for (int k = j; k < b.size() && b.get(k).start() < e.end() && start < e.end(); k++) {
                if (b.get(k).start() > start) {
                    out.add(new FreeExtent(start, b.get(k).start() - start));
                }
                start = Math.max(start, b.get(k).end());
            }
            if (start < e.end()) {
                out.add(new FreeExtent(start, e.end() - start));
            }
        }
        return out;
    }

    /** Runs of consecutive blocks as extents, in order. */
    static List<FreeExtent> of(SortedSet<Long> blocks) {
        List<FreeExtent> out = new ArrayList<>();
        long start = -1;
        long len = 0;
        for (long b : blocks) {
            if (start >= 0 && b == start + len) {
                len++;
            } else {
                if (start >= 0) {
                    out.add(new FreeExtent(start, len));
                }
                start = b;
                len = 1;
            }
        }
        if (start >= 0) {
            out.add(new FreeExtent(start, len));
        }
        return out;
    }
}
