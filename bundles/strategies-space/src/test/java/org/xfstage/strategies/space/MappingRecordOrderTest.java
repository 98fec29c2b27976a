package org.xfstage.strategies.space;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/** MappingRecord.compareTo, written out for speed, orders as MappingRecord.ORDER, the order the sorts use. */
class MappingRecordOrderTest {

    @Test
    void compareToAgreesWithTheSortOrder() throws StagingException {
        Random rnd = new Random(19);
        XfArray bytes = new MemoryArrays().create("records", MappingRecord.SIZE);
        MappingRecord a = new MappingRecord();
        MappingRecord b = new MappingRecord();
        ByteBuffer x = ByteBuffer.allocate(MappingRecord.SIZE);
        ByteBuffer y = ByteBuffer.allocate(MappingRecord.SIZE);
        for (int i = 0; i < 100_000; i++) {
            // few values per field (high bits too: unsigned), so that ties reach every later field
            set(a, rnd);
            set(b, rnd);
            bytes.load(a.appendTo(bytes), x);
            bytes.load(b.appendTo(bytes), y);
            assertEquals(Integer.signum(MappingRecord.ORDER.compare(x, 0, y, 0)), Integer.signum(a.compareTo(b)),
                    a.mapping() + " against " + b.mapping());
        }
    }

    private static void set(MappingRecord r, Random rnd) {
        long[] big = {0, 1, 1L << 31, 0xffff_ffffL};
        long[] owners = {1, 2, -1, -9, Long.MIN_VALUE + 1};
        r.set(rnd.nextInt(2), big[rnd.nextInt(big.length)], 1 + rnd.nextInt(2), owners[rnd.nextInt(owners.length)],
                rnd.nextInt(2) * (1L << 40), rnd.nextBoolean(), rnd.nextBoolean(), rnd.nextBoolean());
    }
}
