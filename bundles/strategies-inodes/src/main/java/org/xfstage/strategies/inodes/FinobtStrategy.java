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
 * finobt: exactly the inobt records that have free inodes, with the same contents. The repair bulk-loads a new
 * finobt from the inobt into the old finobt's blocks (when it needs as many: a tree of another size would change
 * free space, which this strategy does not plan yet), and rewrites the AGI's finobt root and level with its
 * counters from the inobt.
 */
@Component(property = RepairStrategy.STRUCTURE + "=finobt")
public class FinobtStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        if (!ctx.info().features().contains("finobt")) {
            return;
        }
        ByteBuffer a = ByteBuffer.allocate(InodeChunks.RECORD);
        ByteBuffer b = ByteBuffer.allocate(InodeChunks.RECORD);
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            int agno = ag.agno();
            try (XfArray ino = InodeChunks.stage(ctx, agno, BtreeType.INO, true);
                    XfArray fino = InodeChunks.stage(ctx, agno, BtreeType.FINO, false)) {
                long i = ino.loadNext(0, a);
                long j = fino.loadNext(0, b);
                while (i >= 0 || j >= 0) {
                    int c = i < 0 ? 1 : j < 0 ? -1 : Long.compare(InodeChunks.startino(a), InodeChunks.startino(b));
                    if (c == 0) {
                        if (!a.equals(b)) {
                            findings.accept(new Finding("finobt", agno, "chunk at agino " + InodeChunks.startino(b),
                                    "differs from the inobt record (free mask or counts)", null));
                        }
                        i = ino.loadNext(i + 1, a);
                        j = fino.loadNext(j + 1, b);
                    } else if (c < 0) {
                        findings.accept(new Finding("finobt", agno, "chunk at agino " + InodeChunks.startino(a),
                                "has free inodes but is missing from the finobt", null));
                        i = ino.loadNext(i + 1, a);
                    } else {
                        findings.accept(new Finding("finobt", agno, "chunk at agino " + InodeChunks.startino(b),
                                "is in the finobt but the inobt has no free inode there", null));
                        j = fino.loadNext(j + 1, b);
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
        Set<String> covers = new HashSet<>();
        for (int agno : ags) {
            try (XfArray inobt = InodeChunks.stage(ctx, agno, BtreeType.INO, false);
                    XfArray records = InodeTreeRebuild.withFreeInodes(ctx, inobt)) {
                Map<String, Long> agi = new LinkedHashMap<>();
                InodeTreeRebuild.counters(inobt, agi);
                List<BlockImage> tree = InodeTreeRebuild.intoOwnBlocks(ctx, agno, BtreeType.FINO, records, agi);
                if (tree == null) {
                    return null;
                }
                blocks.addAll(tree);
                blocks.add(ctx.device().updateHeader(HeaderKind.AGI, agno, agi));
                changes.add("AG " + agno + " finobt rebuilt from the inobt: " + records.length() + " records in " + tree.size()
                        + " block(s) (its own), AGI " + agi);
            }
            covers.add("finobt@" + agno);
            covers.add("agi@" + agno);
        }
        return new Plan("finobt", blocks, changes, covers);
    }

    /** A rebuilt inobt rebuilds the finobt with it. */
    @Override
    public Set<String> after() {
        return Set.of("inobt");
    }
}
