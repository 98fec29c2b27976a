package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * inobt: each chunk record's free mask must match the inodes themselves (an inode is free exactly when its mode is
 * zero), its freecount the free mask, and its count the holemask. The repair keeps the chunks the inobt lists
 * (where they are and their holes), recomputes free mask, freecount and count from the inodes, bulk-loads the inobt
 * and the finobt into their own blocks and rewrites the AGI (roots, levels, counters).
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

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = InodeTreeRebuild.agsOf(findings);
        if (ags == null) {
            return null;
        }
        XfArray map = ctx.observation(Observation.INODE_MAP);
        ByteBuffer ino = ByteBuffer.allocate(16);
        long m = map.loadNext(0, ino);
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Set<String> covers = new HashSet<>();
        for (int agno : ags) {
            // the chunk records, staged and corrected in place, then loaded from the xfarray (none held on the heap)
            try (XfArray records = InodeChunks.stage(ctx, agno, BtreeType.INO, false)) {
                ByteBuffer r = ByteBuffer.allocate(InodeChunks.RECORD);
                int fixed = 0;
                for (long c = records.loadNext(0, r); c >= 0; c = records.loadNext(c + 1, r)) {
                    long holes = InodeChunks.holes(InodeChunks.holemask(r));
                    long free = holes; // holes are marked free, and not counted
                    long first = ctx.device().inodeNumber(agno, InodeChunks.startino(r));
                    for (int i = 0; i < 64; i++) {
                        if ((holes & (1L << i)) != 0) {
                            continue;
                        }
                        while (m >= 0 && ino.getLong(0) - 1 < first + i) {
                            m = map.loadNext(m + 1, ino);
                        }
                        if (m < 0 || ino.getLong(0) - 1 != first + i || ino.getLong(8) == 2) {
                            return null; // an inode that could not be read: free or not is unknown
                        }
                        if (ino.getLong(8) == 0) {
                            free |= 1L << i;
                        }
                    }
                    int count = 64 - Long.bitCount(holes);
                    int freecount = Long.bitCount(free & ~holes);
                    if (InodeChunks.count(r) != count || InodeChunks.freecount(r) != freecount || InodeChunks.free(r) != free) {
                        fixed++;
                        records.store(c, r.put(6, (byte) count).put(7, (byte) freecount).putLong(8, free));
                    }
                }
                Map<String, Long> agi = new LinkedHashMap<>();
                InodeTreeRebuild.counters(records, agi);
                List<BlockImage> inobt = InodeTreeRebuild.intoOwnBlocks(ctx, agno, BtreeType.INO, records, agi);
                List<BlockImage> finobt;
                if (!ctx.info().features().contains("finobt")) {
                    finobt = List.of();
                } else {
                    try (XfArray withFree = InodeTreeRebuild.withFreeInodes(ctx, records)) {
                        finobt = InodeTreeRebuild.intoOwnBlocks(ctx, agno, BtreeType.FINO, withFree, agi);
                    }
                }
                if (inobt == null || finobt == null) {
                    return null;
                }
                blocks.addAll(inobt);
                blocks.addAll(finobt);
                blocks.add(ctx.device().updateHeader(HeaderKind.AGI, agno, agi));
                changes.add("AG " + agno + " inobt rebuilt: " + fixed + " of " + records.length() + " chunk records corrected from the inodes"
                        + (finobt.isEmpty() ? "" : ", finobt rebuilt from it") + ", AGI " + agi);
            }
            covers.add("inobt@" + agno);
            covers.add("finobt@" + agno);
            covers.add("agi@" + agno);
        }
        return new Plan("inobt", blocks, changes, covers);
    }
}
