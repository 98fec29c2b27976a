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
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ProvenRoots;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.XfArray;

/**
 * agi: the AGI itself, its tree pointers, its inode count and free count against the inobt, and its unlinked buckets,
 * which must be empty: an image xfstage opens has a clean log, so no inode is still waiting to be freed, and a bucket
 * that names one is left over or garbage (xfs_repair -n reports it too). The repair sets the counters to what the
 * inobt holds and empties the buckets, as xfs_repair's phase 2 does ("agi unlinked bucket N is I in ag A"). An inode in
 * use that a bucket names (an orphan the kernel's log recovery would have freed) is not freed: it is reconnected, as
 * xfs_repair 6.1 does ("disconnected inode I, moving to lost+found"), by the directory strategy when no directory
 * names it, its link count then set by nlinks; its data is kept for a person to judge, where freeing it would lose
 * it for good, and the result is what xfs_repair leaves. A bucket naming an inode that cannot be read plans nothing.
 * <p>
 * A header that cannot be decoded (a bad magic or checksum, another AG's seqno, another filesystem's uuid) is made new,
 * as xfs_repair's phase 5 and the kernel's xrep_agi do, from what the walk proved and nothing of the old one: the
 * counts from the inodes of the AG's chunks (the inode map), the roots of the inobt and finobt as {@link ProvenRoots}
 * finds them, their block counts, and empty buckets. In a header that decodes, the roots and heights must be the ones
 * the walks start from (a pointer to another block leaves the tree unreachable for the kernel); the repair points
 * them at the proven roots.
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

    /** The trees whose roots an AGI holds. */
    private static final List<BtreeType> TREES = List.of(BtreeType.INO, BtreeType.FINO);

    /** The AGI's fields, or null when it cannot be decoded (and then why, to {@code findings}). */
    private static Map<HeaderField, Long> header(ScrubContext ctx, int agno, Consumer<Finding> findings) throws Exception {
        try {
            return ctx.device().header(HeaderKind.AGI, agno);
        } catch (XfsFormatException e) {
            findings.accept(new Finding("agi", agno, "AGI", e.getMessage(), "a header rebuilt from the AG's inodes"));
            return null;
        }
    }

    /**
     * The trees whose root or height the AGI has wrong: what it says against the root the walks start from (its own
     * pointer when that leads to a root, else the one the device finds). A tree whose root cannot be found at all is
     * left out: its walk reports it.
     */
    private static List<BtreeType> wrongRoots(ScrubContext ctx, int agno, Map<HeaderField, Long> header, Consumer<Finding> findings)
            throws Exception {
        List<BtreeType> wrong = new ArrayList<>();
        for (BtreeType t : TREES) {
            if (!ctx.info().hasTree(t)) {
                continue;
            }
            XfsDevice.BtreeRoot root;
            try {
                root = ctx.device().btreeRoot(agno, t);
            } catch (XfsFormatException e) {
                continue;
            }
            long says = header.get(HeaderField.root(t));
            long height = header.get(HeaderField.level(t));
            if (says != root.block()) {
                findings.accept(new Finding("agi", agno, HeaderField.root(t).toString(), "says block " + says + ", which is not the "
                        + t.treeName() + "'s root", String.valueOf(root.block())));
            }
            if (height != root.levels()) {
                findings.accept(new Finding("agi", agno, HeaderField.level(t).toString(), "says " + height + " levels",
                        String.valueOf(root.levels())));
            }
            if (says != root.block() || height != root.levels()) {
                wrong.add(t);
            }
        }
        return wrong;
    }

    /**
     * With the inobtcount feature the AGI counts the blocks of its trees (agi_iblocks, agi_fblocks): each against the
     * blocks the tree's pointers reach, as xfs_repair compares them ("bad inobt block count"). A tree that cannot be
     * walked is left out: its own check reports it. Returns the fields to set, by what they should be.
     */
    private static Map<HeaderField, Long> wrongBlockCounts(ScrubContext ctx, int agno, Map<HeaderField, Long> header,
            Consumer<Finding> findings) throws Exception {
        Map<HeaderField, Long> out = new LinkedHashMap<>();
        if (!ctx.info().has(Feature.INOBTCOUNT)) {
            return out;
        }
        for (BtreeType t : TREES) {
            HeaderField field = HeaderField.blocks(t);
            if (!ctx.info().hasTree(t) || field == null) {
                continue;
            }
            long blocks;
            try {
                blocks = ctx.device().btreeBlocks(agno, t).length;
            } catch (XfsFormatException e) {
                continue;
            }
            long says = header.get(field);
            if (says != blocks) {
                findings.accept(new Finding("agi", agno, field.toString(), "says " + says + " " + t.treeName() + " blocks",
                        String.valueOf(blocks)));
                out.put(field, blocks);
            }
        }
        return out;
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        for (FsInfo.AgInfo ag : ctx.info().ags()) {
            Map<HeaderField, Long> header = header(ctx, ag.agno(), findings);
            if (header == null) {
                continue; // its figures and buckets mean nothing: it is rebuilt whole
            }
            wrongRoots(ctx, ag.agno(), header, findings);
            wrongBlockCounts(ctx, ag.agno(), header, findings);
            Counted sum;
            try {
                sum = counted(ctx, ag.agno());
            } catch (XfsFormatException e) {
                // its counters cannot be checked against a tree that cannot be walked: said for this AG, so that the
                // inobt's rebuild of the AG (which sets them from the inodes) answers for it
                sum = null;
                findings.accept(new Finding("agi", ag.agno(), HeaderField.AGI_COUNT.toString(), "cannot be checked: " + e.getMessage(),
                        "counted from the rebuilt inobt"));
            }
            if (sum != null && ag.inodes() != sum.count()) {
                findings.accept(new Finding("agi", ag.agno(), HeaderField.AGI_COUNT.toString(), "says " + ag.inodes() + " inodes",
                        String.valueOf(sum.count())));
            }
            if (sum != null && ag.freeInodes() != sum.freecount()) {
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
            Map<HeaderField, Long> header = header(ctx, agno, f -> { });
            if (header == null) {
                BlockImage made = fresh(ctx, agno, changes);
                if (made == null) {
                    return null;
                }
                blocks.add(made);
                continue;
            }
            Counted sum = counted(ctx, agno);
            FsInfo.AgInfo ag = ctx.info().ags().get(agno);
            Map<HeaderField, Long> fields = new LinkedHashMap<>();
            for (BtreeType t : wrongRoots(ctx, agno, header, f -> { })) {
                if (!ProvenRoots.put(ctx, agno, t, fields)) {
                    return null; // no block is proven to be the root: nothing to point the header at
                }
                changes.add(rootChange(agno, t, header, fields));
            }
            for (Map.Entry<HeaderField, Long> b : wrongBlockCounts(ctx, agno, header, f -> { }).entrySet()) {
                changes.add("AG " + agno + " " + b.getKey() + ": " + header.get(b.getKey()) + " -> " + b.getValue());
                fields.putIfAbsent(b.getKey(), b.getValue()); // a root set to the proven one has set its count already
            }
            fields.put(HeaderField.AGI_COUNT, sum.count());
            fields.put(HeaderField.AGI_FREECOUNT, sum.freecount());
            changes.add("AG " + agno + " " + HeaderField.AGI_COUNT + ": " + ag.inodes() + " -> " + sum.count() + ", "
                    + HeaderField.AGI_FREECOUNT + ": " + ag.freeInodes() + " -> " + sum.freecount());
            for (Bucket b : unlinked(ctx, agno)) {
                if (b.state() == InodeMapRecord.State.UNREADABLE) {
                    return null; // an inode we cannot read: whether it is an orphan is not known
                }
                fields.put(b.field(), HeaderField.NULL);
                changes.add("AG " + agno + " " + b.field() + ": inode " + b.ino() + " (" + b.describe() + ") -> empty"
                        + (b.holdsInode() ? "; the orphan is kept, reconnected where no directory names it (lost+found)" : ""));
            }
            blocks.add(ctx.device().updateHeader(HeaderKind.AGI, agno, fields));
        }
        return new Plan("agi", blocks, changes);
    }

    /**
     * A new AGI for an AG whose AGI cannot be decoded: counts from the inode map (every inode of the chunks the walk
     * found, free when its mode is zero), the proven roots with their block counts, and empty buckets (the log is
     * clean). Null when a root is proven nowhere.
     */
    private static BlockImage fresh(ScrubContext ctx, int agno, List<String> changes) throws Exception {
        long first = ctx.device().inodeNumber(agno, 0);
        long end = agno + 1 < ctx.info().agCount() ? ctx.device().inodeNumber(agno + 1, 0) : Long.MAX_VALUE;
        long count = 0;
        long free = 0;
        XfArray inodes = ctx.observation(Observation.INODE_MAP);
        InodeMapRecord r = new InodeMapRecord();
        for (long i = r.loadNext(inodes, 0); i >= 0; i = r.loadNext(inodes, i + 1)) {
            if (r.ino() >= first && r.ino() < end) {
                count++;
                if (r.state() == InodeMapRecord.State.FREE) { // an unreadable one is a finding of its own
                    free++;
                }
            }
        }
        Map<HeaderField, Long> fields = new LinkedHashMap<>();
        fields.put(HeaderField.AGI_COUNT, count);
        fields.put(HeaderField.AGI_FREECOUNT, free);
        for (BtreeType t : TREES) {
            if (ctx.info().hasTree(t) && !ProvenRoots.put(ctx, agno, t, fields)) {
                return null;
            }
        }
        if (!ctx.info().has(Feature.INOBTCOUNT)) {
            TREES.forEach(t -> fields.remove(HeaderField.blocks(t))); // kept only where the filesystem counts them
        }
        changes.add("AG " + agno + ": AGI made new: " + count + " inodes, " + free + " free, "
                + HeaderField.root(BtreeType.INO) + " " + fields.get(HeaderField.root(BtreeType.INO)) + ", empty unlinked buckets");
        return ctx.device().newHeader(HeaderKind.AGI, agno, fields);
    }

    /** A root and height set to the proven ones, in words: the height only when it changes. */
    private static String rootChange(int agno, BtreeType t, Map<HeaderField, Long> was, Map<HeaderField, Long> now) {
        HeaderField root = HeaderField.root(t);
        HeaderField level = HeaderField.level(t);
        String out = "AG " + agno + " " + root + ": " + was.get(root) + " -> " + now.get(root);
        return was.get(level).equals(now.get(level)) ? out : out + ", " + level + ": " + was.get(level) + " -> " + now.get(level);
    }

    /**
     * A rebuilt inode btree rewrites the AGI too; its counters are planned after it. An AGI that cannot be decoded
     * leaves its trees walkable (the device reads its pointers all the same), so they have no findings from it and
     * this strategy makes it new.
     */
    @Override
    public Set<String> after() {
        return Set.of("inobt", "finobt");
    }
}
