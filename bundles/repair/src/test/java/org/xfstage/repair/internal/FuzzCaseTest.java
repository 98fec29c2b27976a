package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.repair.internal.FuzzCase.Target;

/** The fuzzer's own parts, without xfsprogs: the fields read from a print, the cases made of them, their values. */
class FuzzCaseTest {
    /** Shapes xfs_db 6.1 prints: scalars, a record array with its continuation lines, a one-line array, an empty range. */
    private static final String PRINT = """
            magic = 0x41423342
            numrecs = 56
            lsn = 0
            uuid = 96d08c2b-516a-4b76-9c64-6f03d6cb2bb4
            crc = 0x5ab8bb19 (correct)
            recs[1-56] = [startblock,blockcount]\s
            1:[1,9]\s
            2:[365,64]\s
            bno[0-118] = 0:572 1:574 2:null
            unlinked[0-63] =\s
            bu[0].name = "."
            bu[2].tag = 0x60
            bu[3].tag = 0x70
            core.atime.sec = Thu Jan  1 00:00:00 1970
            pad = 0
            """;

    @Test
    void fieldsAreEveryKeyWithRangesAtTheirFirstElementRecordsSplitAndUncheckedOnesLeftOut() {
        assertEquals(List.of("magic", "numrecs", "uuid", "crc", "recs[1].startblock", "recs[1].blockcount", "bno[0]", "unlinked[0]",
                "bu[0].name", "bu[2].tag"), XfsDbFields.parse(PRINT));
        assertEquals("0x5ab8bb19 (correct)", XfsDbFields.values(PRINT).get("crc"));
    }

    @Test
    void eachFieldGetsEveryVerbTheCrcOnlyLeftWrongAndEveryOtherFieldOneCaseWithABadCrc() {
        Target t = new Target("bnobt-leaf", List.of("agf 0", "addr bnoroot"));
        List<FuzzCase> cases = FuzzCase.of("default", t, List.of("magic", "crc", "numrecs"), Map.of());
        assertEquals(3 * 8 + 2, cases.size());
        assertTrue(cases.stream().filter(c -> c.field().equals("crc")).allMatch(FuzzCase::crcLeftWrong));
        assertEquals(List.of("default/bnobt-leaf/magic/zeroes+badcrc", "default/bnobt-leaf/numrecs/ones+badcrc"),
                cases.stream().filter(c -> c.crcLeftWrong() && !c.field().equals("crc")).map(FuzzCase::id).toList());
        assertEquals("default/bnobt-leaf/crc/ones", cases.stream().filter(c -> c.field().equals("crc")).toList().get(1).id());
        assertEquals(List.of("agf 0", "addr bnoroot", "print numrecs", "fuzz -d numrecs add"),
                new FuzzCase("default", t, "numrecs", "56", "add", false).commands());
        assertEquals(List.of("agf 0", "addr bnoroot", "print crc", "fuzz -c crc sub"), new FuzzCase("default", t, "crc", null, "sub", true).commands());
    }

    @Test
    void aRandomValueIsTheSameForTheSameCaseAndShapedLikeTheField() {
        Target t = new Target("sb-primary", List.of("sb 0"));
        FuzzCase number = new FuzzCase("default", t, "agcount", "4", "random", false);
        List<String> ladder = number.randomValues();
        assertEquals(64, ladder.size(), "one write per width, narrowest first");
        assertEquals(ladder, new FuzzCase("default", t, "agcount", "4", "random", false).randomValues());
        assertNotEquals(ladder, new FuzzCase("rmapbt", t, "agcount", "4", "random", false).randomValues());
        for (int w = 1; w < 64; w++) { // each wider value keeps the narrower one's bits as its prefix
            assertEquals(Long.parseUnsignedLong(ladder.get(w - 1)), Long.parseUnsignedLong(ladder.get(w)) >>> 1);
        }
        String uuid = new FuzzCase("default", t, "uuid", "96d08c2b-516a-4b76-9c64-6f03d6cb2bb4", "random", false).randomValues().get(0);
        assertTrue(uuid.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), uuid);
        String name = new FuzzCase("default", t, "fname", "\"ab\\000\\000\"", "random", false).randomValues().get(0);
        assertTrue(name.matches("\"[a-z]{4}\""), name);
        assertEquals(List.of("sb 0", "write -d agcount 12345"), number.reproduction("12345"));
    }

    /** The undo check compares images where either has data; a byte anywhere else (a hole in the other) counts too. */
    @Test
    void sparseImagesAreEqualOnlyWithTheSameBytesInDataAndHoles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path a = dir.resolve("a");
        java.nio.file.Path b = dir.resolve("b");
        for (java.nio.file.Path p : List.of(a, b)) {
            try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), 4096);
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {9}), (64 << 20) - 1); // 64 MiB, a hole in the middle
            }
        }
        assertTrue(SparseFiles.sameBytes(a, b));
        try (var ch = java.nio.channels.FileChannel.open(b, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {7}), 32 << 20); // into a's hole
        }
        assertTrue(!SparseFiles.sameBytes(a, b) && !SparseFiles.sameBytes(b, a));
        try (var ch = java.nio.channels.FileChannel.open(b, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), 32 << 20); // zeros where a has a hole: the same bytes
        }
        assertTrue(SparseFiles.sameBytes(a, b));
        try (var ch = java.nio.channels.FileChannel.open(b, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {3}), 4097);
        }
        assertTrue(!SparseFiles.sameBytes(a, b));
    }

    @Test
    void xfsRepairProblemLinesLeaveOutProgressAndHostNotes() {
        String out = """
                Phase 1 - find and verify superblock...
                Cannot get host filesystem geometry.
                Repair may fail if there is a sector size mismatch between
                the image and the host filesystem.
                        - scan filesystem freespace and inode maps...
                agi_count 4294967295, counted 3072 in ag 0
                No modify flag set, skipping phase 5
                free space (0,1-9) only seen by one free space btree
                No modify flag set, skipping filesystem flush and exiting.
                """;
        assertEquals(2, FuzzOracleTest.problems(out));
    }
}
