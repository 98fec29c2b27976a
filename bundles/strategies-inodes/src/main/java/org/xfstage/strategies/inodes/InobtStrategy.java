package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.StagingException;
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

    /**
     * A forward cursor over the sorted inode map: the state of inodes asked in increasing order, each record read
     * once over the whole pass.
     */
    private static final class InodeCursor {
        private final XfArray map;
        private final InodeMapRecord rec = new InodeMapRecord();
        private long at;

        InodeCursor(XfArray map) throws StagingException {
            this.map = map;
            this.at = rec.loadNext(map, 0);
        }

        /** The state of inode {@code ino}, or null when the walk did not observe it. */
        InodeMapRecord.State state(long ino) throws StagingException {
            while (at >= 0 && rec.ino() < ino) {
                at = rec.loadNext(map, at + 1);
            }
            return at >= 0 && rec.ino() == ino ? rec.state() : null;
        }
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        InodeCursor inodes = new InodeCursor(ctx.observation(Observation.INODE_MAP));
        InodeChunks rec = new InodeChunks();
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            int reported = 0;
            try (XfArray chunks = InodeChunks.stage(ctx, agno, Btree.INO, false)) {
                for (long c = rec.loadNext(chunks, 0); c >= 0; c = rec.loadNext(chunks, c + 1)) {
                    InodeChunk chunk = rec.chunk();
                    long first = ctx.device().inodeNumber(agno, chunk.startino());
                    String where = "chunk at inode " + first;
                    int freeInodes = chunk.freeInodes();
                    if (chunk.freecount() != freeInodes && reported++ < MAX_PER_AG) {
                        findings.accept(new Finding("inobt", agno, where, "freecount " + chunk.freecount()
                                + " does not match the free mask", String.valueOf(freeInodes)));
                    }
                    int allocated = chunk.allocated();
                    if (chunk.count() != allocated && reported++ < MAX_PER_AG) {
                        findings.accept(new Finding("inobt", agno, where, "count " + chunk.count()
                                + " does not match the holemask", String.valueOf(allocated)));
                    }
                    for (int i = 0; i < InodeChunk.INODES; i++) {
                        if (chunk.isHole(i)) {
                            continue;
                        }
                        long number = first + i;
                        InodeMapRecord.State state = inodes.state(number);
                        if (state == null || state == InodeMapRecord.State.UNREADABLE) {
                            continue; // not observed (its chunk could not be walked) or unreadable: already a finding
                        }
                        boolean markedFree = chunk.isFree(i);
                        boolean free = state == InodeMapRecord.State.FREE;
                        if (markedFree != free && reported++ < MAX_PER_AG) {
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
        InodeCursor inodes = new InodeCursor(ctx.observation(Observation.INODE_MAP));
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Set<Coverage> covers = new HashSet<>();
        boolean finobt = ctx.info().hasTree(BtreeType.FINO);
        for (int agno : ags) {
            // the chunk records, staged and corrected in place, then loaded from the xfarray (none held on the heap)
            try (XfArray records = InodeChunks.stage(ctx, agno, Btree.INO, false)) {
                InodeChunks r = new InodeChunks();
                boolean[] free = new boolean[InodeChunk.INODES];
                int fixed = 0;
                for (long c = r.loadNext(records, 0); c >= 0; c = r.loadNext(records, c + 1)) {
                    InodeChunk chunk = r.chunk();
                    long first = ctx.device().inodeNumber(agno, chunk.startino());
                    for (int i = 0; i < InodeChunk.INODES; i++) {
                        if (chunk.isHole(i)) {
                            continue;
                        }
                        InodeMapRecord.State state = inodes.state(first + i);
                        if (state == null || state == InodeMapRecord.State.UNREADABLE) {
                            return null; // an inode that could not be read: free or not is unknown
                        }
                        free[i] = state == InodeMapRecord.State.FREE;
                    }
                    InodeChunk right = InodeChunks.corrected(chunk, free);
                    if (!right.equals(chunk)) {
                        fixed++;
                        r.set(right).storeAt(records, c);
                    }
                }
                Map<HeaderField, Long> agi = new LinkedHashMap<>();
                InodeTreeRebuild.counters(records, agi);
                List<BlockImage> inobtBlocks = InodeTreeRebuild.intoOwnBlocks(ctx, agno, Btree.INO, records, agi);
                List<BlockImage> finobtBlocks;
                if (!finobt) {
                    finobtBlocks = List.of();
                } else {
                    try (XfArray withFree = InodeTreeRebuild.withFreeInodes(ctx, records)) {
                        finobtBlocks = InodeTreeRebuild.intoOwnBlocks(ctx, agno, Btree.FINO, withFree, agi);
                    }
                }
                if (inobtBlocks == null || finobtBlocks == null) {
                    return null;
                }
                blocks.addAll(inobtBlocks);
                blocks.addAll(finobtBlocks);
                blocks.add(ctx.device().updateHeader(HeaderKind.AGI, agno, agi));
                changes.add("AG " + agno + " inobt rebuilt: " + fixed + " of " + records.length() + " chunk records corrected from the inodes"
                        + (finobtBlocks.isEmpty() ? "" : ", finobt rebuilt from it") + ", AGI " + agi);
            }
            covers.add(new Coverage("inobt", agno));
            covers.add(new Coverage("finobt", agno));
            covers.add(new Coverage("agi", agno));
        }
        return new Plan("inobt", blocks, changes, covers);
    }
}
