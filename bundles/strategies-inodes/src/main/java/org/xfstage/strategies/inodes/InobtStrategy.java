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
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * inobt: the tree must list exactly the inode chunks the evidence proves ({@link ChunkProof}: the inodes themselves,
 * the directory tree, the rmapbt, free space), with their holes; each record's free mask must match the inodes (an
 * inode is free exactly when its mode is zero), its freecount the free mask, and its count the holemask.
 * <p>
 * The repair takes its records from the proof, never from the tree it replaces: a chunk the tree lost comes back, a
 * damaged holemask gets the holes the inodes show, a record where no chunk is goes, and free mask, freecount and count
 * come from the inodes. When the evidence of any unit of the AG conflicts, or an inode of a proven chunk cannot be
 * read, nothing is planned. Both inode btrees are bulk-loaded into their own blocks and the AGI gets roots, levels and
 * counters. When the chunks themselves move, the scrub's walk (which followed the damaged tree) missed inodes or read
 * some that are not there, so every finding it made from them in the AG (free space, the rmapbt, the refcountbt,
 * unreadable inodes) and the superblock counters are this plan's to put right: the re-check walks the image again and
 * refuses the repair if they are not.
 */
@Component(property = RepairStrategy.STRUCTURE + "=inobt")
public class InobtStrategy implements RepairStrategy {
    private static final int MAX_PER_AG = 20;
    /** What a scrub's walk of a damaged inobt gets wrong in its AG, besides the inode btrees and the AGI. */
    private static final List<String> FOLLOWS_THE_CHUNKS = List.of("bnobt", "cntbt", "agf", "agfl", "rmapbt", "refcountbt", "inode", "bmap",
            "symlink", "xattr");
    /** ... and in the whole filesystem. */
    private static final List<String> FOLLOWS_THE_CHUNKS_GLOBALLY = List.of("sb-counters", "inode", "bmap", "symlink", "xattr");

    @Override
    public Set<Observation> needs() {
        // the evidence the chunks are proven on: the inodes the walk read, the directory tree, who uses which block, and
        // the rmapbt as the walk read it (staged only on a filesystem with one)
        return Set.of(Observation.INODE_MAP, Observation.LINK_COUNTS, Observation.SPACE_MAP, Observation.RMAPBT_RECORDS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        ChunkProof proof = new ChunkProof(ctx, true); // the image the walk read: its rmapbt records stand
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            int[] reported = {0};
            Consumer<Finding> limited = f -> {
                if (reported[0]++ < MAX_PER_AG) {
                    findings.accept(f);
                }
            };
            String[] unreadable = {null};
            try (XfArray chunks = InodeChunks.stageReadable(ctx, agno, why -> unreadable[0] = why)) {
                if (unreadable[0] != null) {
                    // its records past the damage are lost to the walk: the proof restores the chunks from the inodes
                    findings.accept(new Finding("inobt", agno, "AG " + agno, "cannot be walked to the end: " + unreadable[0],
                            "a tree rebuilt from the inodes"));
                }
                proof.prove(ag, chunks, v -> {
                    long first = ctx.device().inodeNumber(agno, v.startino());
                    String where = "chunk at inode " + first;
                    if (v.listed() != null) {
                        record(v, first, where, agno, limited);
                    }
                    if (v.placeDiffers()) {
                        limited.accept(placeFinding(v, agno, where));
                    }
                });
            }
            if (reported[0] > MAX_PER_AG) {
                findings.accept(new Finding("inobt", agno, "AG " + agno, (reported[0] - MAX_PER_AG) + " more differences", null));
            }
        }
    }

    /** The record against itself and against the inodes the walk read. */
    private static void record(ChunkProof.Verdict v, long first, String where, int agno, Consumer<Finding> findings) {
        InodeChunk chunk = v.listed();
        int freeInodes = chunk.freeInodes();
        if (chunk.freecount() != freeInodes) {
            findings.accept(new Finding("inobt", agno, where, "freecount " + chunk.freecount() + " does not match the free mask",
                    String.valueOf(freeInodes)));
        }
        int allocated = chunk.allocated();
        if (chunk.count() != allocated) {
            findings.accept(new Finding("inobt", agno, where, "count " + chunk.count() + " does not match the holemask",
                    String.valueOf(allocated)));
        }
        for (int i = 0; i < InodeChunk.INODES; i++) {
            long bit = 1L << i;
            if (chunk.isHole(i) || ((v.walkedFree() | v.walkedInUse()) & bit) == 0) {
                continue; // a hole, not walked, or unreadable: the last is a finding of its own
            }
            boolean markedFree = chunk.isFree(i);
            boolean free = (v.walkedFree() & bit) != 0;
            if (markedFree != free) {
                findings.accept(new Finding("inobt", agno, "inode " + (first + i), markedFree ? "marked free but in use"
                        : "marked in use but free", markedFree ? "in use" : "free"));
            }
        }
    }

    /** Where the tree and the proof disagree about the chunk itself. */
    private static Finding placeFinding(ChunkProof.Verdict v, int agno, String where) {
        if (v.listed() == null) {
            return new Finding("inobt", agno, where, "missing from the inobt, but its inodes are there: " + v.why(),
                    "a record with holemask " + hex(v.proven().holemask()) + ", count " + v.proven().count());
        }
        if (v.proven() == null) {
            return new Finding("inobt", agno, where, "listed by the inobt, but no inode chunk is there: " + v.why(), "no record");
        }
        return new Finding("inobt", agno, where, "holemask " + hex(v.listed().holemask()) + " does not match the inodes: " + v.why(),
                hex(v.proven().holemask()));
    }

    private static String hex(int holemask) {
        return "0x" + Integer.toHexString(holemask);
    }

    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        Set<Integer> ags = InodeTreeRebuild.agsOf(findings);
        if (ags == null) {
            return null;
        }
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Set<Coverage> covers = new HashSet<>();
        boolean finobt = ctx.info().hasTree(BtreeType.FINO);
        boolean chunksMoved = false;
        for (int agno : ags) {
            // the proven records, staged in order, then loaded from the xfarray (none held on the heap)
            try (XfArray records = InodeChunks.create(ctx, "repair inobt records of AG " + agno)) {
                InodeTreeRebuild.Proven proven = InodeTreeRebuild.proven(ctx, agno, records);
                if (proven == null) {
                    return null;
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
                changes.add("AG " + agno + " inobt rebuilt from the inodes: " + records.length() + " chunk records, " + proven
                        + (finobtBlocks.isEmpty() ? "" : ", finobt rebuilt from it") + ", AGI " + agi);
                if (proven.moved()) {
                    chunksMoved = true;
                    for (String s : FOLLOWS_THE_CHUNKS) {
                        covers.add(new Coverage(s, agno));
                    }
                }
            }
            covers.add(new Coverage("inobt", agno));
            covers.add(new Coverage("finobt", agno));
            covers.add(new Coverage("agi", agno));
        }
        if (chunksMoved) {
            for (String s : FOLLOWS_THE_CHUNKS_GLOBALLY) {
                covers.add(new Coverage(s, -1));
            }
        }
        return new Plan("inobt", blocks, changes, covers);
    }
}
