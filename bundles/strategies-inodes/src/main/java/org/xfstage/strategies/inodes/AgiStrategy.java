package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.Btree;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * agi: the AGI's inode count and free count against the inobt, and its unlinked buckets, which must be empty: an
 * image xfstage opens has a clean log, so no inode is still waiting to be freed, and a bucket that names one is left
 * over or garbage (xfs_repair -n reports it too). The repair sets the counters to what the inobt holds and empties
 * the buckets whose inode is not in use; an inode in use there (an orphan still to be freed) needs freeing, which
 * this strategy does not do, so then it plans nothing.
 */
@Component(property = RepairStrategy.STRUCTURE + "=agi")
public class AgiStrategy implements RepairStrategy {

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_MAP);
    }

    /** count and freecount of an AG, from its inobt. */
    private record Counted(long count, long freecount) {
    }

    private static Counted counted(ScrubContext ctx, int agno) throws Exception {
        long[] sum = new long[2];
        ctx.device().walkBtree(agno, Btree.INO, (InodeChunk c) -> {
            sum[0] += c.count();
            sum[1] += c.freecount();
        });
        return new Counted(sum[0], sum[1]);
    }

    /**
     * A bucket that is not empty: which, the inode it names, and that inode's state in the inode map (null: not an
     * inode of any chunk).
     */
    private record Bucket(int index, long ino, InodeMapRecord.State state) {
        HeaderField field() {
            return HeaderField.agiUnlinked(index);
        }

        /** Whether emptying the bucket could lose an inode: one in use (an orphan to free) or one we cannot read. */
        boolean holdsInode() {
            return state == InodeMapRecord.State.IN_USE || state == InodeMapRecord.State.UNREADABLE;
        }

        String describe() {
            if (state == null) {
                return "not an inode of any chunk";
            }
            return switch (state) {
                case FREE -> "free";
                case IN_USE -> "in use";
                case UNREADABLE -> "unreadable";
            };
        }
    }

    private static List<Bucket> unlinked(ScrubContext ctx, int agno) throws Exception {
        List<Bucket> out = new ArrayList<>();
        XfArray inodes = ctx.observation(Observation.INODE_MAP);
        InodeMapRecord r = new InodeMapRecord();
        for (Map.Entry<Integer, Long> b : ctx.device().unlinkedBuckets(agno).entrySet()) {
            long ino = ctx.device().inodeNumber(agno, b.getValue());
            out.add(new Bucket(b.getKey(), ino, r.find(inodes, ino)));
        }
        return out;
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            Counted sum = counted(ctx, ag.agno());
            if (ag.inodes() != sum.count()) {
                findings.accept(new Finding("agi", ag.agno(), HeaderField.AGI_COUNT.toString(), "says " + ag.inodes() + " inodes",
                        String.valueOf(sum.count())));
            }
            if (ag.freeInodes() != sum.freecount()) {
                findings.accept(new Finding("agi", ag.agno(), HeaderField.AGI_FREECOUNT.toString(),
                        "says " + ag.freeInodes() + " free inodes", String.valueOf(sum.freecount())));
            }
            for (Bucket b : unlinked(ctx, ag.agno())) {
                findings.accept(new Finding("agi", ag.agno(), b.field().toString(),
                        "names inode " + b.ino() + " (" + b.describe() + ") though the log is clean", "empty"));
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
        for (int agno : ags) {
            Counted sum = counted(ctx, agno);
            FsInfo.AgInfo ag = ctx.info().ags().get(agno);
            Map<HeaderField, Long> fields = new LinkedHashMap<>();
            fields.put(HeaderField.AGI_COUNT, sum.count());
            fields.put(HeaderField.AGI_FREECOUNT, sum.freecount());
            changes.add("AG " + agno + " " + HeaderField.AGI_COUNT + ": " + ag.inodes() + " -> " + sum.count() + ", "
                    + HeaderField.AGI_FREECOUNT + ": " + ag.freeInodes() + " -> " + sum.freecount());
            for (Bucket b : unlinked(ctx, agno)) {
                if (b.holdsInode()) {
                    return null; // an orphan to free, or an inode we cannot read: not this strategy's to empty
                }
                fields.put(b.field(), HeaderField.NULL);
                changes.add("AG " + agno + " " + b.field() + ": inode " + b.ino() + " (" + b.describe() + ") -> empty");
            }
            blocks.add(ctx.device().updateHeader(HeaderKind.AGI, agno, fields));
        }
        return new Plan("agi", blocks, changes);
    }

    /** A rebuilt inode btree rewrites the AGI too; its counters are planned after it. */
    @Override
    public Set<String> after() {
        return Set.of("inobt", "finobt");
    }
}
