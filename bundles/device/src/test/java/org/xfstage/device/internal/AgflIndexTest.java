package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The AGF's free list indexes against the AGFL's slots (the kernel's xfs_agfl_needs_reset), 119 slots as at 512 B. */
class AgflIndexTest {
    private static final int SIZE = 119;

    @Test
    void consistentListsPass() {
        assertNull(Headers.agflIndexProblem(0, 3, 4, SIZE), "slots 0-3");
        assertNull(Headers.agflIndexProblem(117, 1, 4, SIZE), "wrapping: 117, 118, 0, 1");
        assertNull(Headers.agflIndexProblem(5, 5, 1, SIZE), "one block");
        assertNull(Headers.agflIndexProblem(0, 118, 119, SIZE), "every slot");
        assertNull(Headers.agflIndexProblem(0, 118, 0, SIZE), "empty: flfirst and fllast say nothing");
        assertNull(Headers.agflIndexProblem(40, 7, 0, SIZE), "empty, anywhere");
    }

    @Test
    void countThatDisagreesWithTheSlotsFails() {
        assertEquals("AGFL indexes disagree: slots 1 to 3 hold 3 blocks, flcount says 4", Headers.agflIndexProblem(1, 3, 4, SIZE));
        assertTrue(Headers.agflIndexProblem(0, 3, 2, SIZE).contains("hold 4 blocks"));
        assertTrue(Headers.agflIndexProblem(117, 1, 3, SIZE).contains("hold 4 blocks"), "wrapping");
        assertTrue(Headers.agflIndexProblem(3, 2, 4, SIZE).contains("hold 119 blocks"), "fllast just before flfirst: the whole list");
    }

    @Test
    void indexesPastTheListFail() {
        for (long[] bad : new long[][] {{119, 0, 1}, {0, 119, 1}, {0, 0, 120}, {1L << 31, 0, 0}}) {
            assertTrue(Headers.agflIndexProblem(bad[0], bad[1], bad[2], SIZE).startsWith("AGFL indexes out of range"), bad[0] + " " + bad[1]);
        }
    }
}
