package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.HeaderKind;
import org.xfstage.api.device.SuperblockVerdict;
import org.xfstage.api.device.XfsException;
import org.xfstage.device.internal.SuperblockChecks.Problem;
import org.xfstage.device.internal.SuperblockChecks.Tuple;

/**
 * The superblock a filesystem is opened on, chosen as xfs_repair's phase 1 chooses it (repair/phase1.c, sb.c):
 *
 * <ol>
 * <li>The primary is checked ({@link SuperblockChecks}). When xfs_repair's own checks pass, the copies it locates
 * (AG 1 to agcount-1) vote on the geometry with it, the primary counting once. At least agcount/2 copies must pass
 * the checks, else the primary is unverified and the copies are searched for as in step 2. One AG, two AGs that
 * disagree, or fewer than agcount/2 votes for the best geometry: no agreement, the device is refused (xfs_repair
 * exits there too).</li>
 * <li>Otherwise the copies are searched for: every 512-byte offset of 1 MiB windows at multiples of the primary's
 * own AG size (when it is sane), of the AG sizes mkfs would choose for this device's size, then of 1 MiB from 16 MiB
 * on. The first superblock found that wins a vote of the copies its own geometry locates (itself counting once more)
 * decides. The scan is bounded in windows and in candidates.</li>
 * <li>The primary is trusted when it passes every check (the kernel's too, and the garbage xfs_repair's phase 2
 * clears), the vote is for its geometry, and it is not alone against the copies in a field they all share (uuid,
 * label, features, sizes): a field the copies hold against it by more than one vote. Otherwise the filesystem is
 * opened on the lowest agreeing copy, merged as xfs_repair's copy_sb writes it into the primary.</li>
 * </ol>
 *
 * On a tie xfs_repair takes the geometry first seen last (its list is built newest first and scanned with a strict
 * comparison); so do we, so that our verdict is xfs_repair's.
 */
final class SuperblockChoice {
    /** Bytes xfs_repair reads and scans per probe of the search. */
    private static final int WINDOW = 1 << 20;
    /** Probes per pass of the search: the brute-force pass scans at most this many MiB past 16 MiB. */
    private static final int MAX_WINDOWS = 4096;
    /** Candidate superblocks the search puts to a vote before giving up. */
    private static final int MAX_CANDIDATES = 64;
    /** XFS_NOMULTIDISK_AGLOG and XFS_MULTIDISK_AGLOG: log2 of the AG counts mkfs starts from. */
    private static final int NOMULTIDISK_AGLOG = 2;
    private static final int MULTIDISK_AGLOG = 5;
    /** NULLFSINO: no inode. */
    private static final long NULLFSINO = -1;

    /**
     * Fields every copy shares with the primary and that only damage makes differ (xfs_scrub calls a copy that
     * differs in them corrupt, not merely stale): a primary alone against its copies in one of them is the damaged
     * side. Not here: the version bits, stripe unit and width and imax_pct, which the kernel changes in the primary
     * alone (quota, mount options, growfs -m).
     */
    static final List<String> VOTED_FIELDS = List.of("uuid0", "uuid1", "fname0", "fname1", "meta_uuid0", "meta_uuid1",
            "features_compat", "features_ro_compat", "features_incompat", "inopblock", "blocklog", "sectlog", "inodelog",
            "inopblog", "agblklog", "rextslog", "inoalignmt", "dirblklog", "logsectlog", "logsectsize", "logsunit",
            "spino_align");

    /** The fields a primary that is not trusted is compared in with the agreed superblock, for the verdict. */
    private static final List<String> COMPARED_FIELDS;

    static {
        List<String> f = new ArrayList<>(SuperblockChecks.TUPLE_FIELDS);
        VOTED_FIELDS.forEach(v -> {
            if (!f.contains(v)) {
                f.add(v);
            }
        });
        COMPARED_FIELDS = List.copyOf(f);
    }

    /** Fields of the primary that copy_sb keeps: inode numbers only the primary holds (mkfs leaves some copies without). */
    private static final List<String> PRIMARY_INODES = List.of("rootino", "rbmino", "rsumino", "uquotino", "gquotino", "pquotino");
    /** Counters: kept from the primary, so that sb-counters compares them with the filesystem and sets them. */
    private static final List<String> COUNTERS = List.of("icount", "ifree", "fdblocks", "frextents");

    /** The primary as read (it may be anything). */
    final Struct primary;
    /** The superblock the filesystem is opened on: the primary, or the merged copy. */
    final Struct chosen;
    final SuperblockVerdict verdict;

    private SuperblockChoice(Struct primary, Struct chosen, SuperblockVerdict verdict) {
        this.primary = primary;
        this.chosen = chosen;
        this.verdict = verdict;
    }

    /** One superblock as read: where, its bytes, what it fails. */
    private record Read(long agno, long offset, byte[] bytes, List<Problem> problems) {
        Struct sb() {
            return SuperblockChecks.decode(bytes);
        }

        boolean votes() {
            return SuperblockChecks.votes(problems);
        }

        boolean valid() {
            return problems.isEmpty();
        }

        Tuple tuple() {
            return Tuple.of(sb());
        }
    }

    /** What one copy said in a vote: kept small, since a filesystem may have thousands of AGs. */
    private record Copy(long agno, Tuple tuple, boolean votes, String problem, long[] voted, long rootIno) {
        boolean valid() {
            return problem == null;
        }
    }

    private enum Outcome {
        OK, INSUFFICIENT, ONE_AG, TWO_DISAGREE, NOT_ENOUGH_MATCHING
    }

    /** The result of one vote around a reference superblock. */
    private record Vote(Outcome outcome, Tuple best, int bestVotes, long agCount, List<Copy> copies) {
    }

    /**
     * Chooses the superblock of the image (or of a view with planned blocks in it).
     *
     * @throws XfsException one line, when no superblock can be agreed on
     */
    static SuperblockChoice choose(Image image, String name) throws XfsException {
        Read p = read(image, 0, 0, true);
        Struct psb = p.sb();
        if (p.votes()) {
            long unknown = psb.get("features_incompat") & ~Geometry.FEAT_INCOMPAT_KNOWN;
            if (unknown != 0) {
                // xfs_repair refuses here too, before it writes anything: a newer filesystem, not damage to guess at
                throw new XfsException(name + ": unsupported incompatible features 0x" + Long.toHexString(unknown));
            }
            Vote v = vote(image, p);
            switch (v.outcome()) {
                case OK -> {
                    SuperblockChoice c = settle(image, p, p, v, true);
                    if (c != null) {
                        return c;
                    }
                }
                case ONE_AG -> throw new XfsException(name + ": only one AG, so its superblock cannot be checked against a copy"
                        + " (xfs_repair refuses it too without -o force_geometry)");
                case TWO_DISAGREE -> throw new XfsException(name + ": only two AGs and their superblocks disagree on the geometry,"
                        + " so which is right cannot be told (xfs_repair refuses it too without -o force_geometry)");
                case NOT_ENOUGH_MATCHING -> throw new XfsException(name + ": not enough superblocks agree on the geometry (the most"
                        + " that do: " + v.bestVotes() + " of " + v.agCount() + "); xfs_repair cannot proceed either");
                case INSUFFICIENT -> {
                    // fewer than half the copies verify: xfs_repair searches for one, and so do we
                }
            }
        }
        SuperblockChoice found = search(image, p);
        if (found != null) {
            return found;
        }
        throw new XfsException(refusal(name, image, p));
    }

    /** Why nothing was agreed on, in one line: the primary's first problem, or that its copies do not back it. */
    private static String refusal(String name, Image image, Read p) {
        Struct sb = p.sb();
        if (p.problems().isEmpty() || p.votes()) {
            long needed = sb.get("dblocks") * sb.get("blocksize");
            if (needed > image.size()) {
                return name + ": image is truncated: the superblock says " + needed + " bytes, the file has " + image.size();
            }
            return name + ": not enough superblock copies verify to confirm the primary's geometry, and no copy is agreed on"
                    + " (xfs_repair cannot proceed either)";
        }
        String first = p.problems().get(0).text();
        if (first.startsWith("no XFS superblock magic")) {
            return name + ": " + first + ": not an XFS filesystem";
        }
        if (first.startsWith("XFS v4")) {
            return name + " primary superblock: " + first;
        }
        return name + " primary superblock: " + first + ", and no superblock copy is agreed on (xfs_repair cannot proceed either)";
    }

    /** Reads a superblock: 512 bytes, then its whole sector when it claims a larger one; null past the end. */
    private static Read read(Image image, long agno, long offset, boolean primary) throws XfsException {
        if (offset < 0 || offset > image.size() - 512) {
            return null; // a copy past the end of an image is no copy (xfs_repair: a short read)
        }
        byte[] bytes = image.read(offset, 512);
        int ss = SuperblockChecks.claimedSectorSize(bytes);
        if (ss > 512 && offset <= image.size() - ss) {
            bytes = image.read(offset, ss);
        }
        return new Read(agno, offset, bytes, SuperblockChecks.problems(bytes, primary));
    }

    /**
     * The copies {@code ref}'s geometry locates vote with it (xfs_repair's verify_set_primary_sb). Copies that lie
     * past the end of the image are not read and do not vote; neither do copies whose AGs are outside 16 MiB to 1 TiB
     * (they cannot be AGs; this also bounds the reads by the image's size).
     */
    private static Vote vote(Image image, Read ref) throws XfsException {
        Struct s = ref.sb();
        long agCount = s.get("agcount");
        long agBytes = s.get("agblocks") * s.get("blocksize");
        List<Copy> copies = new ArrayList<>();
        if (agBytes < SuperblockChecks.AG_MIN_BYTES || agBytes > SuperblockChecks.AG_MAX_BYTES) {
            return new Vote(Outcome.INSUFFICIENT, null, 0, agCount, copies);
        }
        Map<Tuple, int[]> votes = new LinkedHashMap<>(); // in the order each geometry was first seen
        votes.put(ref.tuple(), new int[] {1});
        int ok = 0;
        for (long agno = 1; agno < agCount; agno++) {
            Read r = read(image, agno, agno * agBytes, false);
            if (r == null) {
                break; // this copy and every later one lie past the end
            }
            Copy c = copy(r);
            copies.add(c);
            if (c.votes()) {
                ok++;
                votes.computeIfAbsent(c.tuple(), t -> new int[1])[0]++;
            }
        }
        if (ok < agCount / 2) {
            return new Vote(Outcome.INSUFFICIENT, null, 0, agCount, copies);
        }
        Tuple best = null;
        int bestVotes = 0;
        for (Map.Entry<Tuple, int[]> e : votes.entrySet()) {
            if (e.getValue()[0] >= bestVotes) { // >=: on a tie the geometry seen last wins, as in xfs_repair
                best = e.getKey();
                bestVotes = e.getValue()[0];
            }
        }
        Outcome outcome = agCount == 1 ? Outcome.ONE_AG
                : agCount == 2 ? (bestVotes == 2 ? Outcome.OK : Outcome.TWO_DISAGREE)
                : bestVotes < agCount / 2 ? Outcome.NOT_ENOUGH_MATCHING : Outcome.OK;
        return new Vote(outcome, best, bestVotes, agCount, copies);
    }

    private static Copy copy(Read r) {
        Struct sb = r.sb();
        boolean magic = sb.get("magicnum") == SuperblockChecks.MAGIC;
        long[] voted = new long[VOTED_FIELDS.size()];
        for (int i = 0; i < voted.length; i++) {
            voted[i] = votedValue(sb, VOTED_FIELDS.get(i));
        }
        return new Copy(r.agno(), magic ? r.tuple() : null, r.votes(), r.valid() ? null : r.problems().get(0).text(), voted,
                sb.get("rootino"));
    }

    private static long votedValue(Struct sb, String field) {
        return field.equals("features_incompat") ? SuperblockChecks.incompatForVote(sb) : sb.get(field);
    }

    /**
     * The search of xfs_repair's find_secondary_sb, bounded: 1 MiB windows at multiples of each step, every
     * 512-byte offset of them tried as a superblock; the first one whose own geometry wins a vote decides.
     */
    private static SuperblockChoice search(Image image, Read p) throws XfsException {
        List<Long> steps = new ArrayList<>();
        Struct psb = p.sb();
        long blocklog = psb.get("blocklog");
        if (psb.get("magicnum") == SuperblockChecks.MAGIC && blocklog >= 9 && blocklog <= 16 && psb.get("blocksize") == 1L << blocklog) {
            steps.add(psb.get("agblocks") << blocklog);
        }
        long dblocks = image.size() >> 12; // mkfs's default block size, as xfs_repair guesses
        for (boolean multidisk : new boolean[] {false, true}) {
            steps.add(defaultAgBlocks(12, dblocks, multidisk) << 12);
        }
        int candidates = 0;
        List<long[]> passes = new ArrayList<>();
        for (long step : steps) {
            if (step >= SuperblockChecks.AG_MIN_BYTES && step <= SuperblockChecks.AG_MAX_BYTES
                    && passes.stream().noneMatch(x -> x[1] == step)) {
                passes.add(new long[] {step, step});
            }
        }
        passes.add(new long[] {SuperblockChecks.AG_MIN_BYTES, WINDOW});
        for (long[] pass : passes) {
            int windows = 0;
            for (long off = pass[0]; off <= image.size() - 512 && windows < MAX_WINDOWS; off += pass[1], windows++) {
                byte[] w = image.read(off, (int) Math.min(WINDOW, image.size() - off));
                for (int i = 0; i + 512 <= w.length; i += 512) {
                    if (Inode.u32(w, i) != SuperblockChecks.MAGIC) {
                        continue;
                    }
                    Read candidate = read(image, -1, off + i, false);
                    if (!candidate.votes()) {
                        continue;
                    }
                    if (++candidates > MAX_CANDIDATES) {
                        return null;
                    }
                    Vote v = vote(image, candidate);
                    if (v.outcome() == Outcome.OK) {
                        SuperblockChoice c = settle(image, p, candidate, v, false);
                        if (c != null) {
                            return c;
                        }
                    }
                }
            }
        }
        return null;
    }

    /** xfs_repair's guess of the AG size mkfs gives a device of {@code dblocks} blocks (calc_default_ag_geometry). */
    static long defaultAgBlocks(int blocklog, long dblocks, boolean multidisk) {
        long maxBlocks = (SuperblockChecks.AG_MAX_BYTES - 1) >> blocklog;
        long tb = 1L << (40 - blocklog);
        long gb = 1L << (30 - blocklog);
        long mb = 1L << (20 - blocklog);
        if (dblocks >= 32 * tb || !multidisk && dblocks >= 4 * tb) {
            return maxBlocks;
        }
        int shift;
        if (!multidisk && dblocks >= 128 * mb) {
            shift = NOMULTIDISK_AGLOG;
        } else {
            shift = MULTIDISK_AGLOG;
            if (dblocks <= 512 * gb) {
                shift--;
            }
            if (dblocks <= 8 * gb) {
                shift--;
            }
            if (dblocks < 128 * mb) {
                shift--;
            }
            if (dblocks < 64 * mb) {
                shift--;
            }
            if (dblocks < 32 * mb) {
                shift--;
            }
        }
        long blocks = dblocks >> shift;
        if ((dblocks & ((1L << shift) - 1)) != 0 && blocks < maxBlocks) {
            blocks++;
        }
        return blocks;
    }

    /**
     * The choice once a vote is won: the primary when it is trusted, else the lowest agreeing copy merged into it.
     * Null when no copy holds the winning geometry (it won on the reference's own vote): then nothing is agreed.
     */
    private static SuperblockChoice settle(Image image, Read p, Read ref, Vote v, boolean refIsPrimary) throws XfsException {
        Struct psb = p.sb();
        Tuple best = v.best();
        Tuple refTuple = ref.tuple();
        if (!sameLayout(refTuple, best)) {
            // the copies were read where the losing geometry puts them: read them again where the winner does
            Copy first = v.copies().stream().filter(c -> c.votes() && best.equals(c.tuple())).findFirst().orElse(null);
            if (first == null) {
                return null;
            }
            Read src = read(image, first.agno(), first.agno() * best.agBlocks() * best.blockSize(), false);
            if (src == null || !src.votes()) {
                return null;
            }
            Vote again = vote(image, src);
            if (again.outcome() != Outcome.OK || !best.equals(again.best())) {
                return null;
            }
            v = again;
        }
        List<Copy> agreeing = v.copies().stream().filter(c -> c.votes() && best.equals(c.tuple())).toList();
        List<Copy> sound = agreeing.stream().filter(Copy::valid).toList();
        long[] majority = majority(sound.isEmpty() ? agreeing : sound);
        boolean fieldsAgree = true;
        if (psb.get("magicnum") == SuperblockChecks.MAGIC) {
            for (int i = 0; i < VOTED_FIELDS.size(); i++) {
                long mine = votedValue(psb, VOTED_FIELDS.get(i));
                if (majority != null && majority[i] != mine && count(sound, i, majority[i]) > count(sound, i, mine) + 1) {
                    fieldsAgree = false;
                }
            }
        }
        Map<Integer, String> bad = new TreeMap<>();
        int valid = 0;
        for (Copy c : v.copies()) {
            if (c.valid()) {
                valid++;
            } else {
                bad.put((int) c.agno(), c.problem());
            }
        }
        long copies = v.agCount() - 1; // those past the end of the image are not read: the image is then refused as truncated
        List<String> problems = p.problems().stream().map(Problem::text).toList();
        if (refIsPrimary && problems.isEmpty() && best.equals(Tuple.of(psb)) && fieldsAgree) {
            return new SuperblockChoice(psb, psb, new SuperblockVerdict(List.of(), List.of(), (int) copies, valid, sound.size(), 0, bad));
        }
        Copy source = pick(agreeing, majority);
        if (source == null) {
            return null;
        }
        Read src = read(image, source.agno(), source.agno() * best.agBlocks() * best.blockSize(), false);
        // mkfs writes the root inode into some copies only: the one most agreeing copies carry (a copy's root is not
        // checked, so one damaged copy must not decide) serves a primary that lost its own
        Map<Long, Integer> roots = new LinkedHashMap<>();
        agreeing.stream().mapToLong(Copy::rootIno).filter(r -> !SuperblockChecks.noInode(r)).forEach(r -> roots.merge(r, 1, Integer::sum));
        long root = roots.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(NULLFSINO);
        Struct merged = merge(src.bytes(), psb, root);
        List<SuperblockVerdict.Disagreement> differ = new ArrayList<>();
        if (psb.get("magicnum") == SuperblockChecks.MAGIC) {
            for (String f : COMPARED_FIELDS) {
                long mine = psb.get(f);
                long agreed = merged.get(f);
                if (mine != agreed) {
                    int holding = (int) agreeing.stream().filter(c -> !VOTED_FIELDS.contains(f) || c.voted()[VOTED_FIELDS.indexOf(f)]
                            == votedValue(merged, f)).count();
                    differ.add(new SuperblockVerdict.Disagreement(new HeaderField(HeaderKind.SUPERBLOCK, f), mine, agreed, holding));
                }
            }
        }
        return new SuperblockChoice(psb, merged,
                new SuperblockVerdict(problems, differ, (int) copies, valid, sound.size(), (int) source.agno(), bad));
    }

    private static boolean sameLayout(Tuple a, Tuple b) {
        return a.agBlocks() == b.agBlocks() && a.blockSize() == b.blockSize() && a.agCount() == b.agCount();
    }

    /** Per voted field, the value most of {@code copies} hold (the lowest AG's among equals); null without copies. */
    private static long[] majority(List<Copy> copies) {
        if (copies.isEmpty()) {
            return null;
        }
        long[] out = new long[VOTED_FIELDS.size()];
        for (int i = 0; i < out.length; i++) {
            int most = -1;
            for (Copy c : copies) {
                int n = count(copies, i, c.voted()[i]);
                if (n > most) {
                    most = n;
                    out[i] = c.voted()[i];
                }
            }
        }
        return out;
    }

    private static int count(List<Copy> copies, int field, long value) {
        return (int) copies.stream().filter(c -> c.voted()[field] == value).count();
    }

    /** The copy to open on: the lowest agreeing one that passes every check and holds every majority value. */
    private static Copy pick(List<Copy> agreeing, long[] majority) {
        for (Copy c : agreeing) {
            if (c.valid() && majority != null && Arrays.equals(c.voted(), majority)) {
                return c;
            }
        }
        return agreeing.stream().filter(Copy::valid).findFirst().orElse(agreeing.isEmpty() ? null : agreeing.get(0));
    }

    /**
     * The primary as xfs_repair's copy_sb writes it from a copy: every field from the copy (the sector past its last
     * field zeroed), but the inode numbers and version bits only the primary carries (DALIGN and EXTFLG added from
     * the copy), its counters, and not marked unfinished. Kept fields that would fail the checks (a primary whose
     * bytes are garbage) are taken from the copy instead: the version bits first, then the realtime free count. A
     * root inode of 0 or NULLFSINO, or one other than the agreeing copies carry, is {@code copiesRoot}; the realtime
     * inodes follow the root, where mkfs puts them and where xfs_repair would reset them (calc_mkfs); quota inodes
     * without the quota bit are NULLFSINO, as xfs_repair clears them.
     */
    static Struct merge(byte[] copy, Struct primary, long copiesRoot) {
        Struct src = SuperblockChecks.decode(copy);
        int ss = (int) src.get("sectsize");
        List<String> kept = new ArrayList<>(PRIMARY_INODES);
        kept.addAll(COUNTERS); // icount, ifree, fdblocks, frextents: the last is the one the checks look at
        kept.add("versionnum");
        while (true) {
            byte[] out = Arrays.copyOf(copy, ss);
            int end = (src.get("features_incompat") & Geometry.FEAT_INCOMPAT_META_UUID) != 0
                    ? SuperblockChecks.END_WITH_META_UUID : SuperblockChecks.END_WITHOUT_META_UUID;
            Arrays.fill(out, end, ss, (byte) 0);
            Struct m = SuperblockChecks.decode(out);
            for (String f : kept) {
                long v = primary.get(f);
                if (f.equals("versionnum")) {
                    v |= src.get(f) & (SuperblockChecks.VERSION_DALIGN | SuperblockChecks.VERSION_EXTFLG);
                }
                m.set(f, v);
            }
            long root = m.get("rootino");
            boolean copiesHaveRoot = !SuperblockChecks.noInode(copiesRoot);
            if (SuperblockChecks.noInode(root) || copiesHaveRoot && root != copiesRoot) {
                // mkfs writes the root into the copies and nothing moves it after: where they hold one, it is the root
                root = copiesRoot;
                m.set("rootino", root);
            }
            if (!SuperblockChecks.noInode(root)) {
                // the realtime inodes are the root's next two, where mkfs puts them and xfs_repair resets them
                m.set("rbmino", root + 1);
                m.set("rsumino", root + 2);
            }
            if ((m.get("versionnum") & SuperblockChecks.VERSION_QUOTA) == 0) {
                for (String f : SuperblockChecks.QUOTA_INODES) {
                    if (!SuperblockChecks.noInode(m.get(f))) {
                        m.set(f, NULLFSINO); // no quotas, no quota inode: cleared as xfs_repair clears it
                    }
                }
            }
            m.set("inprogress", 0);
            byte[] encoded = m.encode(0, ss);
            if (SuperblockChecks.problems(encoded, true).isEmpty() || kept.size() <= PRIMARY_INODES.size() + 2) {
                return SuperblockChecks.decode(encoded);
            }
            kept.remove(kept.size() - 1);
        }
    }
}
