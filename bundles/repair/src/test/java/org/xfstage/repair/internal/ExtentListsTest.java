package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.FreeExtent;

/** The extent arithmetic the allocator sorts its candidates with: leaked (unused, not listed free) and listed free. */
class ExtentListsTest {
    private static FreeExtent e(long start, long length) {
        return new FreeExtent(start, length);
    }

    @Test
    void leakedBlocksAreTheUnusedOnesNoFreeSpaceBtreeLists() {
        List<FreeExtent> unused = List.of(e(10, 10), e(30, 5), e(40, 10));
        List<FreeExtent> listed = List.of(e(12, 2), e(16, 16), e(45, 2));

        assertEquals(List.of(e(10, 2), e(14, 2), e(32, 3), e(40, 5), e(47, 3)), ExtentLists.minus(unused, listed));
        assertEquals(List.of(e(12, 2), e(16, 4), e(30, 2), e(45, 2)), ExtentLists.intersect(unused, listed));
    }

    @Test
    void nothingListedLeavesEveryUnusedBlockLeaked() {
        List<FreeExtent> unused = List.of(e(0, 4), e(8, 1));

        assertEquals(unused, ExtentLists.minus(unused, List.of()));
        assertEquals(List.of(), ExtentLists.intersect(unused, List.of()));
        assertEquals(List.of(), ExtentLists.minus(unused, List.of(e(0, 100))));
    }
}
