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
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Coverage;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * finobt: exactly the inobt records that have free inodes, with the same contents. The repair bulk-loads a new
 * finobt from the inode chunks as the evidence proves them ({@link ChunkProof}; a sound inobt gives the same records)
 * into the old finobt's blocks (when it needs as many: a tree of another size would change free space, which this
 * strategy does not plan yet), and rewrites the AGI's finobt root and level with its counters from those chunks.
 */
@Component(property = RepairStrategy.STRUCTURE + "=finobt")
public class FinobtStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        // the check compares the two trees; the repair proves the chunks (ChunkProof) on these
        return Set.of(Observation.INODE_MAP, Observation.LINK_COUNTS, Observation.SPACE_MAP);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().hasTree(BtreeType.FINO)) {
            return;
        }
        InodeChunks a = new InodeChunks();
        InodeChunks b = new InodeChunks();
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            XfArray ino;
            try {
                ino = InodeChunks.stage(ctx, agno, Btree.INO, true);
            } catch (XfsFormatException e) {
                // nothing to compare against; said for this AG, whose inobt rebuild makes this tree too
                findings.accept(new Finding("finobt", agno, "AG " + agno, "cannot be checked against the inobt: " + e.getMessage(),
                        "rebuilt with the inobt"));
                continue;
            }
            try (ino;
                    XfArray fino = InodeChunks.stage(ctx, agno, Btree.FINO, false)) {
                // a merge of two sorted arrays: every step moves i or j (or both) on, until both are at their end
                long i = a.loadNext(ino, 0);
                long j = b.loadNext(fino, 0);
                while (i >= 0 || j >= 0) {
                    InodeChunk inobt = i < 0 ? null : a.chunk();
                    InodeChunk finobt = j < 0 ? null : b.chunk();
                    int c = inobt == null ? 1 : finobt == null ? -1 : Long.compare(inobt.startino(), finobt.startino());
                    if (c == 0) {
                        if (!inobt.equals(finobt)) {
                            findings.accept(new Finding("finobt", agno, "chunk at agino " + finobt.startino(),
                                    "differs from the inobt record (free mask or counts)", null));
                        }
                        i = a.loadNext(ino, i + 1);
                        j = b.loadNext(fino, j + 1);
                    } else if (c < 0) {
                        findings.accept(new Finding("finobt", agno, "chunk at agino " + inobt.startino(),
                                "has free inodes but is missing from the finobt", null));
                        i = a.loadNext(ino, i + 1);
                    } else {
                        findings.accept(new Finding("finobt", agno, "chunk at agino " + finobt.startino(),
                                "is in the finobt but the inobt has no free inode there", null));
                        j = b.loadNext(fino, j + 1);
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
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Set<Coverage> covers = new HashSet<>();
        for (int agno : ags) {
            // from the chunks as the inodes prove them, not from the inobt as it is: it may be what is wrong too
            try (XfArray chunks = InodeChunks.create(ctx, "repair finobt: chunks of AG " + agno)) {
                if (InodeTreeRebuild.proven(ctx, agno, chunks) == null) {
                    return null;
                }
                try (XfArray records = InodeTreeRebuild.withFreeInodes(ctx, chunks)) {
                    Map<HeaderField, Long> agi = new LinkedHashMap<>();
                    InodeTreeRebuild.counters(chunks, agi);
                    List<BlockImage> tree = InodeTreeRebuild.intoOwnBlocks(ctx, agno, Btree.FINO, records, agi);
                    if (tree == null) {
                        return null;
                    }
                    blocks.addAll(tree);
                    blocks.add(ctx.device().updateHeader(HeaderKind.AGI, agno, agi));
                    changes.add("AG " + agno + " finobt rebuilt from the proven inode chunks: " + records.length() + " records in "
                            + tree.size() + " block(s) (its own), AGI " + agi);
                }
            }
            covers.add(new Coverage("finobt", agno));
            covers.add(new Coverage("agi", agno));
        }
        return new Plan("finobt", blocks, changes, covers);
    }

    /** A rebuilt inobt rebuilds the finobt with it. */
    @Override
    public Set<String> after() {
        return Set.of("inobt");
    }
}
