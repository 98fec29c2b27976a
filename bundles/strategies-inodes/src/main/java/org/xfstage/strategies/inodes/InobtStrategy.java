package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * inobt: each chunk record's free mask must match the inodes themselves (an inode is free exactly when its mode is
 * zero), its freecount the free mask, and its count the holemask.
 */
@Component(property = RepairStrategy.STRUCTURE + "=inobt")
public class InobtStrategy implements RepairStrategy {
    private static final int MAX_PER_AG = 20;

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        XfArray map = ctx.observation(Observation.INODE_MAP);
        ByteBuffer ino = ByteBuffer.allocate(16);
        ByteBuffer rec = ByteBuffer.allocate(InodeChunks.RECORD);
        long m = map.loadNext(0, ino);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            int reported = 0;
            try (XfArray chunks = InodeChunks.stage(ctx, agno, BtreeType.INO, false)) {
                for (long c = chunks.loadNext(0, rec); c >= 0; c = chunks.loadNext(c + 1, rec)) {
                    long holes = InodeChunks.holes(InodeChunks.holemask(rec));
                    long free = InodeChunks.free(rec);
                    long first = ctx.device().inodeNumber(agno, InodeChunks.startino(rec));
                    String where = "chunk at inode " + first;
                    if (InodeChunks.freecount(rec) != Long.bitCount(free & ~holes) && reported++ < MAX_PER_AG) {
                        findings.accept(new Finding("inobt", agno, where, "freecount " + InodeChunks.freecount(rec)
                                + " does not match the free mask", String.valueOf(Long.bitCount(free & ~holes))));
                    }
                    if (InodeChunks.count(rec) != 64 - Long.bitCount(holes) && reported++ < MAX_PER_AG) {
                        findings.accept(new Finding("inobt", agno, where, "count " + InodeChunks.count(rec)
                                + " does not match the holemask", String.valueOf(64 - Long.bitCount(holes))));
                    }
                    for (int i = 0; i < 64; i++) {
                        if ((holes & (1L << i)) != 0) {
                            continue;
                        }
                        long number = first + i;
                        while (m >= 0 && ino.getLong(0) - 1 < number) {
                            m = map.loadNext(m + 1, ino);
                        }
                        if (m < 0 || ino.getLong(0) - 1 != number) {
                            continue; // not observed: its chunk could not be walked, already a finding
                        }
                        long state = ino.getLong(8);
                        boolean markedFree = (free & (1L << i)) != 0;
                        if (state != 2 && markedFree == (state == 1) && reported++ < MAX_PER_AG) {
                            findings.accept(new Finding("inobt", agno, "inode " + number,
                                    markedFree ? "marked free but in use" : "marked in use but free",
                                    markedFree ? "in use" : "free"));
                        }
                    }
                }
            }
        }
    }
}
