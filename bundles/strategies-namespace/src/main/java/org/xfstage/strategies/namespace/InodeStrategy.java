package org.xfstage.strategies.namespace;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeProblemRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.XfArray;

/**
 * inode: the inode core: sizes against the data fork's format and, for directories, the extent map; di_nblocks, di_nextents and di_anextents against what the forks map; flags and flags2 against the file's type and the filesystem's features; the extent size hints; the fork offset and the attribute fork's format; di_next_unlinked (NULLAGINO on a clean log). The device checks these while the walk read each inode (one read per inode, no second pass);
 * this strategy reports what it found, with the inode's path.
 * <p>
 * It repairs the core in place where what the walk read proves the right value, as xfs_repair does: the counts from
 * the forks' mappings, bits and hints no kernel allows there cleared, the unlinked pointer ended, the attribute
 * format of an inode without an attribute fork, a single-block directory's size ({@link #REPAIRED}; the device
 * encodes the inode and reads it again). Everything else is refused, naming the first inode and why: a size the data
 * does not prove (a regular file's), an inode whose forks break a rule (their counts prove nothing).
 * <p>
 * An inode that breaks a rule xfs_repair answers by clearing it ({@link #CLEARED}) is cleared as xfs_repair clears it
 * ({@link InodeClearing}: the change line says "lost:" with its path); the later rounds of plans free what it held.
 * <p>
 * An inode that does not decode is reported by the walk (a finding "inode N" of its own); the device stages why
 * ({@link #UNDECODABLE}). A magic, version or checksum alone is set right in place as xfs_repair sets it
 * ({@link #HEADER}; the file is kept and the next round reads the rest of it); a wrong number or uuid, a negative size,
 * a type against its format clear it, as xfs_repair clears it.
 */
@Component(property = RepairStrategy.STRUCTURE + "=inode")
public class InodeStrategy implements RepairStrategy {
    /**
     * The rules whose right value the inode proves: bits cleared, hints zeroed, pointers ended, counts taken from the
     * forks as read. An inode that breaks any other rule (of its core or of its forks) is not repaired in place.
     */
    static final Set<Kind> REPAIRED = EnumSet.of(Kind.ONLINK, Kind.PAD, Kind.FLAGS_UNKNOWN, Kind.FLAGS_REALTIME,
            Kind.FLAGS_NEWRTBM, Kind.FLAGS_DIRECTORY_ONLY, Kind.FLAGS_FILE_ONLY, Kind.FLAGS2_UNKNOWN, Kind.FLAGS2_DAX,
            Kind.FLAGS2_COWEXTSIZE_FEATURE, Kind.FLAGS2_COWEXTSIZE_TYPE, Kind.FLAGS2_COWEXTSIZE_REALTIME,
            Kind.FLAGS2_BIGTIME, Kind.FLAGS2_NREXT64, Kind.EXTSIZE, Kind.COWEXTSIZE, Kind.TIMESTAMP_NSEC,
            Kind.NEXT_UNLINKED, Kind.NEXT_UNLINKED_SET, Kind.AFORMAT, Kind.NBLOCKS, Kind.NEXTENTS, Kind.ANEXTENTS,
            Kind.DIRECTORY_BLOCK_SIZE);
    /**
     * The rules xfs_repair 6.1 answers by clearing the inode (process_dinode_int's clear_bad_out), each checked against
     * a run of xfs_repair on a damaged copy: a device or fifo with a size ("size of character device inode N != 0"), a
     * fork offset past the literal area ("bad attr fork offset"), the reflink flag where none may be ("marked reflinked
     * but file system does not support reflink", "reflink flag set on non-file inode"), a size that does not go with
     * the data fork's format ("mismatch between format and size in symlink", "bad data fork"), a directory past its
     * data space ("directory inode N has bad size"). None of these proves a right value: the inode goes, its blocks
     * come back in the next round of plans.
     */
    static final Set<Kind> CLEARED = EnumSet.of(Kind.SPECIAL_SIZE, Kind.FORKOFF, Kind.FLAGS2_REFLINK_FEATURE,
            Kind.FLAGS2_REFLINK_TYPE, Kind.FLAGS2_REFLINK_REALTIME, Kind.SIZE_FORMAT, Kind.DIRECTORY_SIZE,
            Kind.CORE_INUMBER, Kind.CORE_UUID, Kind.SIZE_NEGATIVE, Kind.MODE_TYPE, Kind.FORMAT_TYPE);
    /**
     * The rules of an inode that does not decode which xfs_repair 6.1 sets right in place, checked against a run on a
     * damaged copy ("bad magic number 0x0 on inode N, resetting magic number": the file is kept, its data read as
     * before): the magic, the version and the checksum, which the device writes again ({@code rewriteInodeHeader}); the
     * inode must then decode, and the next round's verifying read finds what else it breaks. An inode that also breaks
     * a rule of {@link #CLEARED} (its number, its uuid, its size, its type against its format: "inode identifier 5
     * mismatch", "UUID mismatch", "bad (negative) size", "bad inode format in inode N", each "cleared inode N") is cleared.
     */
    static final Set<Kind> HEADER = EnumSet.of(Kind.CORE_MAGIC, Kind.CORE_VERSION, Kind.CORE_CRC);
    /**
     * The rules that stop an inode decoding: the walk reports such an inode as a finding of its own ("inode N" and the
     * device's words), so they are not reported again; they are staged for the plan to tell what to do.
     */
    static final Set<Kind> UNDECODABLE = EnumSet.of(Kind.CORE_MAGIC, Kind.CORE_VERSION, Kind.CORE_CRC, Kind.CORE_INUMBER,
            Kind.CORE_UUID, Kind.SIZE_NEGATIVE, Kind.MODE_TYPE, Kind.FORMAT_TYPE);
    private static final int MAX_CHANGES = 50;
    /** Where the walk reports an inode it could not read: "inode N". */
    private static final java.util.regex.Pattern UNREADABLE = java.util.regex.Pattern.compile("inode (\\d+)");

    @Override
    public Set<Observation> needs() {
        return Set.of(Observation.INODE_PROBLEMS);
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        InodeProblems.report(ctx, InodeProblem.Structure.INODE, findings);
    }

    /**
     * One new inode per inode with core problems, made by the device from the rules it breaks; every staged problem
     * is read (not only the reported ones). Refused (an {@link XfsFormatException} naming the inode and the reason,
     * which the engine logs, and nothing planned) as soon as one inode cannot be repaired in place.
     */
    @Override
    public Plan plan(ScrubContext ctx, List<Finding> findings) throws Exception {
        XfArray staged = ctx.observation(Observation.INODE_PROBLEMS);
        List<BlockImage> blocks = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Set<Long> planned = new HashSet<>();
        Map<Long, String> clear = new LinkedHashMap<>();
        long resolved = 0;
        InodeProblemRecord r = new InodeProblemRecord();
        // the walk stages the problems of one inode together, as it reads it: each run of one inode is planned whole
        long i = r.loadNext(staged, 0);
        while (i >= 0) {
            long ino = r.ino();
            int agno = r.agno();
            Set<Kind> kinds = EnumSet.noneOf(Kind.class);
            List<InodeProblem> problems = new ArrayList<>();
            do {
                if ((i & 4095) == 0 && ctx.progress().isCancelled()) {
                    throw new CancelledException("repair cancelled while planning inode cores");
                }
                kinds.add(r.kind());
                if (problems.size() < MAX_CHANGES) {
                    problems.add(r.problem());
                }
                i = r.loadNext(staged, i + 1);
            } while (i >= 0 && r.ino() == ino);
            if (kinds.stream().noneMatch(k -> k.structure() == InodeProblem.Structure.INODE)) {
                continue; // a problem of a fork only: its own strategy's
            }
            if (kinds.stream().anyMatch(CLEARED::contains)) {
                // cleared whole, whatever else it breaks; unless a plan before this one (on the view) put it right
                Set<Kind> read = brokenNow(ctx, ino);
                Set<Kind> now = read == null ? kinds : read; // undecodable for a reason not named: as staged
                Kind why = kinds.stream().filter(CLEARED::contains).filter(now::contains).findFirst().orElse(null);
                if (why == null) {
                    resolved++;
                } else if (clear.putIfAbsent(ino, problems.stream().filter(p -> p.kind() == why).findFirst()
                        .map(InodeProblem::describe).orElse(why.toString())) != null) {
                    throw new XfsFormatException("inode " + ino + ": its problems were not staged together; not planned twice", "inode");
                }
                continue;
            }
            if (kinds.stream().anyMatch(HEADER::contains)) {
                // set right in place as xfs_repair sets it; unless a plan before this one cleared the inode
                if (!planned.add(ino)) {
                    throw new XfsFormatException("inode " + ino + ": its problems were not staged together; not planned twice", "inode");
                }
                Set<Kind> read = brokenNow(ctx, ino);
                Set<Kind> now = read == null ? kinds : read;
                if (now.stream().noneMatch(HEADER::contains)) {
                    resolved++;
                    continue;
                }
                boolean checksumOnly = now.equals(EnumSet.of(Kind.CORE_CRC));
                blocks.add(checksumOnly ? ctx.device().rewriteInodeChecksum(ino) : ctx.device().rewriteInodeHeader(ino));
                for (InodeProblem p : problems) {
                    if (changes.size() < MAX_CHANGES && HEADER.contains(p.kind())) {
                        changes.add("inode " + ino + ": " + p.describe() + (p.kind() == Kind.CORE_CRC ? " -> checksum written again" : " -> set right"));
                    }
                }
                continue;
            }
            refuseUnlessProven(ctx, ino, agno, problems, kinds, planned);
            // the plan is made on a view with the earlier plans in it: what one of them set right (a single-block
            // directory's size, by the directory plan) is not asked for again
            Set<Kind> now = EnumSet.noneOf(Kind.class);
            ctx.device().checkInode(ino, p -> now.add(p.kind()));
            kinds.retainAll(now);
            if (kinds.stream().noneMatch(k -> k.structure() == InodeProblem.Structure.INODE)) {
                resolved++;
                continue;
            }
            blocks.add(ctx.device().repairInodeCore(ino, kinds));
            for (InodeProblem p : problems) {
                if (changes.size() < MAX_CHANGES && kinds.contains(p.kind())) {
                    changes.add("inode " + ino + ": " + p.describe() + " -> set right");
                }
            }
        }
        // inodes the walk could not read (no problem staged, a finding of its own): as xfs_repair does, one whose only
        // fault is its checksum gets it again, and the next round's verifying read finds what else it breaks
        for (Finding f : findings) {
            java.util.regex.Matcher m = UNREADABLE.matcher(f.location());
            if (!"inode".equals(f.structure()) || !m.matches()) {
                continue;
            }
            long ino = Long.parseLong(m.group(1));
            if (planned.contains(ino) || clear.containsKey(ino)) {
                continue;
            }
            try {
                blocks.add(ctx.device().rewriteInodeChecksum(ino));
                planned.add(ino);
                if (changes.size() < MAX_CHANGES) {
                    changes.add("inode " + ino + ": checksum written again (" + f.problem() + ")");
                }
            } catch (XfsFormatException notOnlyTheChecksum) {
                // more than its checksum is wrong, or nothing: left to the findings (nothing proves what it was);
                // unless a plan before this one (on the view) cleared it or set it right: then it decodes
                Set<Kind> now = brokenNow(ctx, ino);
                if (now != null && now.stream().noneMatch(UNDECODABLE::contains)) {
                    resolved++;
                }
            }
        }
        boolean cut = changes.size() == MAX_CHANGES;
        if (!clear.isEmpty()) {
            InodeClearing.Planned cleared = InodeClearing.plan(ctx, clear, Map.of());
            blocks.addAll(cleared.blocks());
            // the lost files first: they are what a person must know of
            changes.addAll(0, cleared.changes());
        }
        if (blocks.isEmpty() && resolved == 0) {
            return null; // the findings were not staged by this walk: nothing proves a value
        }
        if (cut) {
            changes.add("(and more; " + blocks.size() + " inodes in all)");
        }
        return new Plan("inode", blocks, changes);
    }

    /**
     * The rules inode {@code ino} breaks on the plan's view (with the plans before this one in it), those that stop it
     * decoding included (the device reports them before it throws); null when it does not decode for a reason the
     * device does not name.
     */
    static Set<Kind> brokenNow(ScrubContext ctx, long ino) throws Exception {
        Set<Kind> now = EnumSet.noneOf(Kind.class);
        try {
            ctx.device().checkInode(ino, p -> now.add(p.kind()));
        } catch (XfsFormatException undecodable) {
            if (now.stream().noneMatch(UNDECODABLE::contains)) {
                return null;
            }
        }
        return now;
    }

    /**
     * Throws the reason an inode's core is not repaired in place: a rule whose right value it does not prove, an
     * unlinked pointer that may be a link of a list, an inode met twice.
     */
    private static void refuseUnlessProven(ScrubContext ctx, long ino, int agno, List<InodeProblem> problems, Set<Kind> kinds,
            Set<Long> planned) throws Exception {
        for (Kind k : kinds) {
            if (!REPAIRED.contains(k)) {
                String what = problems.stream().filter(p -> p.kind() == k).findFirst().map(p -> p.structure() + ": " + p.describe())
                        .orElse(k.structure().structureName() + ": " + k);
                throw new XfsFormatException("inode " + ino + " is not repaired in place: " + what
                        + (k.structure() == InodeProblem.Structure.INODE
                                ? " (its right value is not proven, or xfs_repair clears the inode and frees its blocks)"
                                : " (a fork that breaks a rule proves no count)"), "inode");
            }
        }
        if (kinds.contains(Kind.NEXT_UNLINKED_SET) && !ctx.device().unlinkedBuckets(agno).isEmpty()) {
            // with no list in the AG, no inode is on one; otherwise this pointer may be a link of a list
            throw new XfsFormatException("inode " + ino + ": di_next_unlinked is set and AG " + agno
                    + " has unlinked lists, which it may belong to: not ended", "inode");
        }
        if (!planned.add(ino)) {
            throw new XfsFormatException("inode " + ino + ": its problems were not staged together; not planned twice", "inode");
        }
    }
}
