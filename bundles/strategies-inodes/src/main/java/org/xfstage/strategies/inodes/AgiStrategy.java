package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * agi: the AGI's inode count and free count against the inobt, and its 64 unlinked buckets, which must be empty: an
 * image xfstage opens has a clean log, so no inode is still waiting to be freed, and a bucket that names one is left
 * over or garbage (xfs_repair -n reports it too). The repair sets the counters to what the inobt holds and empties
 * the buckets whose inode is not in use; an inode in use there (an orphan still to be freed) needs freeing, which
 * this strategy does not do, so then it plans nothing.
 */
@Component(property = RepairStrategy.STRUCTURE + "=agi")
public class AgiStrategy implements RepairStrategy {
    private static final long NULLAGINO = 0xffffffffL;
    private static final int BUCKETS = 64;

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_MAP);
    }

    /** count and freecount of an AG, from its inobt. */
    static long[] counted(ScrubContext ctx, int agno) throws Exception {
        long[] sum = new long[2];
        ctx.device().walkBtree(agno, BtreeType.INO, r -> {
            sum[0] += r[2];
            sum[1] += r[3];
        });
        return sum;
    }

    /** A bucket that is not empty: which, and whether the inode it names is in use. */
    private record Bucket(int index, long ino, String state) {
    }

    private static List<Bucket> unlinked(ScrubContext ctx, int agno) throws Exception {
        List<Bucket> out = new ArrayList<>();
        Map<String, Long> agi = ctx.device().header(HeaderKind.AGI, agno);
        for (int i = 0; i < BUCKETS; i++) {
            long agino = agi.get("unlinked" + i);
            if (agino != NULLAGINO) {
                long ino = ctx.device().inodeNumber(agno, agino);
                out.add(new Bucket(i, ino, state(ctx.observation(Observation.INODE_MAP), ino)));
            }
        }
        return out;
    }

    /** "in use", "free", "unreadable" or "not an inode of any chunk", by binary search in the sorted inode map. */
    private static String state(XfArray inodes, long ino) throws Exception {
        ByteBuffer r = ByteBuffer.allocate(16);
        long lo = 0;
        long hi = inodes.length() - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            inodes.load(mid, r);
            long at = r.getLong(0) - 1; // records hold ino + 1
            if (at < ino) {
                lo = mid + 1;
            } else if (at > ino) {
                hi = mid - 1;
            } else {
                return r.getLong(8) == 1 ? "in use" : r.getLong(8) == 0 ? "free" : "unreadable";
            }
        }
        return "not an inode of any chunk";
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            long[] sum = counted(ctx, ag.agno());
            if (ag.inodes() != sum[0]) {
                findings.accept(new Finding("agi", ag.agno(), "agi_count", "says " + ag.inodes() + " inodes", String.valueOf(sum[0])));
            }
            if (ag.freeInodes() != sum[1]) {
                findings.accept(new Finding("agi", ag.agno(), "agi_freecount", "says " + ag.freeInodes() + " free inodes", String.valueOf(sum[1])));
            }
            for (Bucket b : unlinked(ctx, ag.agno())) {
                findings.accept(new Finding("agi", ag.agno(), "agi_unlinked[" + b.index() + "]",
                        "names inode " + b.ino() + " (" + b.state() + ") though the log is clean", "empty"));
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
            long[] sum = counted(ctx, agno);
            FsInfo.AgInfo ag = ctx.info().ags().get(agno);
            Map<String, Long> fields = new LinkedHashMap<>();
            fields.put("count", sum[0]);
            fields.put("freecount", sum[1]);
            changes.add("AG " + agno + " agi_count: " + ag.inodes() + " -> " + sum[0] + ", agi_freecount: " + ag.freeInodes() + " -> " + sum[1]);
            for (Bucket b : unlinked(ctx, agno)) {
                if (b.state().equals("in use") || b.state().equals("unreadable")) {
                    return null; // an orphan to free, or an inode we cannot read: not this strategy's to empty
                }
                fields.put("unlinked" + b.index(), NULLAGINO);
                changes.add("AG " + agno + " agi_unlinked[" + b.index() + "]: inode " + b.ino() + " (" + b.state() + ") -> empty");
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
