package org.xfstage.strategies.inodes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.InodeChunk;

class InodeChunksTest {
    @Test
    void stagedChunksReadBackAsTheyWereEvenTheOneAtInodeZero() throws Exception {
        FakeXfArray a = new FakeXfArray("chunks", InodeChunks.SIZE);
        List<InodeChunk> chunks = List.of(new InodeChunk(0, 0, 64, 0, 0), new InodeChunk(0xffffffc0L, 0xffff, 0, 0, -1L),
                new InodeChunk(128, 1 << 15, 60, 9, 0xf0000000000001ffL));
        InodeChunks r = new InodeChunks();
        for (InodeChunk c : chunks) {
            r.set(c).appendTo(a); // the fake refuses a null (all-zero) record, as the xfarray does
        }
        List<InodeChunk> back = new ArrayList<>();
        for (long i = r.loadNext(a, 0); i >= 0; i = r.loadNext(a, i + 1)) {
            back.add(r.chunk());
        }
        List<InodeChunk> streamed = new ArrayList<>();
        InodeChunks.records(a, a.length()).forEachRemaining(streamed::add);

        assertEquals(chunks, back);
        assertEquals(chunks, streamed);
    }
}
