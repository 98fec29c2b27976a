package org.xfstage.strategies.inodes;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.device.InodeChunkGeometry;
import org.xfstage.api.device.InodeProbe;
import org.xfstage.api.device.MetadataOwner;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/**
 * The inode chunks of one AG as the evidence proves them: what the inobt check compares the tree with, and what the
 * rebuilds of both inode btrees take their records from. A rebuild must never take its records from the tree it
 * replaces: a damaged holemask or a record count cut short would give the blocks of live inodes back as free space.
 * So the inobt (and the finobt) only name candidates, and each candidate is judged on evidence the tree does not
 * decide.
 * <p>
 * <b>Candidates</b> are the chunks the inobt and the finobt list, the chunk of every inode the directory tree names
 * (the scrub's link counts), and on a filesystem with an rmapbt every chunk its inode-chunk records (OWN_INODES)
 * cover; the device says where a chunk can start. Each allocation unit of a candidate (the whole chunk, or one
 * sparse allocation) is then judged on:
 * <ul>
 * <li>the inodes: whether every one decodes as an inode of this filesystem at its own number (the walk's inode map
 * where the walk read it, else a probe of that inode);</li>
 * <li>the directory tree: whether it names an inode of the unit (a live file is there);</li>
 * <li>the rmapbt: whether its inode-chunk records cover the unit's blocks, or none of them;</li>
 * <li>the bnobt: whether a block of the unit is free;</li>
 * <li>the space map: whether a block of the unit is used by anything but inode chunks (a file, a btree, the log);</li>
 * <li>the listing: whether a sound inobt or finobt record lists the unit as allocated, or as a hole (sound: its
 * count matches its holemask and none of its holes holds a named inode; a record proven wrong in one place is not
 * believed in another).</li>
 * </ul>
 * A unit is <b>present</b> when all its inodes decode, none of its blocks is free or anyone else's, and something
 * says it is allocated (named, the rmapbt, a sound record) or, with nothing saying so, none of its inodes is in use
 * unnamed and the rmapbt does not deny it; it is <b>absent</b> when no inode decodes and nothing names it, or when its
 * blocks are free or someone else's and nothing but stale inodes are there (a hole of a sparse chunk keeps whatever
 * the blocks held). Evidence that conflicts (valid inodes where a file lives, a named inode that does not decode, a
 * sound record of an allocated unit whose blocks the bnobt calls free) makes the unit <b>unsure</b>: the check reports
 * nothing about it and the rebuild plans nothing, rather than give blocks back.
 * <p>
 * Observations are read through cursors that only move forward within an AG, so a pass costs one read of each staged
 * array's part for the AG, plus a probe for the inodes the walk did not read. Heap use is one chunk at a time.
 */
final class ChunkProof {
    /** How sure the proof is of one allocation unit. */
    enum Judgement {
        PRESENT, ABSENT, UNSURE
    }

    /** What the inodes of a unit are. */
    enum Decoded {
        /** Every one is an inode of this filesystem at its own number. */
        ALL,
        /** None is. */
        NONE,
        /** Some are. */
        MIXED
    }

    /**
     * The proof of one candidate chunk, or of an inobt record that cannot be a chunk.
     *
     * @param startino the chunk's first AG inode (the record's, for a record that cannot be a chunk)
     * @param listed   the inobt's record there, or null
     * @param proven   the chunk as proven: holes where no allocation is proven, free mask, count and freecount from the
     *                 inodes; null when no unit of it is there, or when {@link #sure} is false
     * @param sure     false when the evidence of some unit conflicts: then nothing can be said of the chunk
     * @param settled  false when an inode of a present unit could not be read: its free or in-use state is unknown
     * @param why      the evidence, in words, for findings and plans
     * @param walkedFree  one bit per inode of the chunk the scrub's walk found free
     * @param walkedInUse one bit per inode the walk found in use
     */
    record Verdict(long startino, InodeChunk listed, InodeChunk proven, boolean sure, boolean settled, String why, long walkedFree,
            long walkedInUse) {
        /** Whether the proof disagrees with the inobt's record about where the chunk is and which parts are holes. */
        boolean placeDiffers() {
            if (!sure) {
                return false;
            }
            if (proven == null || listed == null) {
                return proven != listed;
            }
            return proven.holemask() != listed.holemask();
        }
    }

    /** Receives the verdicts of an AG. */
    @FunctionalInterface
    interface Verdicts {
        void accept(Verdict v) throws XfsException, StagingException;
    }

    private final ScrubContext ctx;
    private final XfsDevice device;
    private final InodeChunkGeometry geometry;
    private final boolean hasFinobt;
    private final boolean hasRmapbt;
    /** The rmapbt's records as the scrub's walk read them (Observation.RMAPBT_RECORDS), or null: read the tree. */
    private final XfArray walkedRmapbt;

    /** A proof on what the device reads now (a plan's, on a view with earlier plans in it). */
    ChunkProof(ScrubContext ctx) {
        this(ctx, false);
    }

    /**
     * A proof that takes the rmapbt's records the scrub's walk staged, when {@code walked} and they are staged (a
     * check's, on the image the walk read), instead of walking the tree again.
     */
    ChunkProof(ScrubContext ctx, boolean walked) {
        this.ctx = ctx;
        this.walkedRmapbt = walked ? ctx.observation(Observation.RMAPBT_RECORDS) : null;
        this.device = ctx.device();
        this.geometry = ctx.device().inodeChunkGeometry();
        this.hasFinobt = ctx.info().hasTree(BtreeType.FINO);
        this.hasRmapbt = ctx.info().hasTree(BtreeType.RMAP);
    }

    /**
     * Judges every candidate chunk of AG {@code ag} and hands the verdicts to {@code out} in startino order, each
     * inobt record that cannot be a chunk (not where a chunk can start, or past the AG) among them.
     *
     * @param listed the inobt's records of the AG, staged in tree order ({@link InodeChunks#stage})
     * @return false when a named inode lies where no chunk can be placed for it (then the AG's chunks are not all
     *         proven, and a rebuild must not be planned)
     */
    boolean prove(FsInfo.AgInfo ag, XfArray listed, Verdicts out) throws XfsException, StagingException {
        int agno = ag.agno();
        long agInodes = ag.length() * geometry.inodesPerBlock();
        long agFirst = device.inodeNumber(agno, 0);
        try (XfArray finobt = hasFinobt ? stageQuietly(agno, Btree.FINO) : null;
                XfArray free = freeExtents(agno);
                XfArray rmapInodes = hasRmapbt ? inodeChunkMappings(agno) : null) {
            // the candidates: four sorted sources merged as they go, none of them staged again or sorted
            NamedStarts named = new NamedStarts(agFirst, agInodes);
            List<Starts> sources = new ArrayList<>(List.of(new RecordStarts(listed, agInodes), named));
            if (finobt != null) {
                sources.add(new RecordStarts(finobt, agInodes));
            }
            if (rmapInodes != null && geometry.chunkAlignment() >= InodeChunk.INODES) {
                sources.add(new MappedStarts(rmapInodes, agInodes));
            }
            Records inobtRecs = new Records(listed);
            Records finobtRecs = finobt == null ? null : new Records(finobt);
            States states = new States(agFirst);
            Reach freeSpace = free == null ? null : new Reach(free);
            Cover rmap = rmapInodes == null ? null : new Cover(rmapInodes);
            Others others = new Others(agno);
            for (long s = next(sources, 0); s != Long.MAX_VALUE; s = next(sources, s + 1)) {
                // inobt records before this candidate that are no candidate themselves cannot be chunks
                for (InodeChunk stray = inobtRecs.before(s); stray != null; stray = inobtRecs.before(s)) {
                    out.accept(misplaced(stray));
                }
                out.accept(judge(agFirst, s, inobtRecs.at(s), finobtRecs == null ? null : finobtRecs.at(s), named, states, freeSpace,
                        rmap, others));
            }
            for (InodeChunk stray = inobtRecs.before(Long.MAX_VALUE); stray != null; stray = inobtRecs.before(Long.MAX_VALUE)) {
                out.accept(misplaced(stray));
            }
            return named.placed;
        }
    }

    // ---- candidates

    /** The smallest candidate start at or after {@code from} of all the sources, or Long.MAX_VALUE. */
    private static long next(List<Starts> sources, long from) throws StagingException {
        long next = Long.MAX_VALUE;
        for (Starts s : sources) {
            next = Math.min(next, s.next(from));
        }
        return next;
    }

    private boolean canBeChunk(long startino, long agInodes) {
        return startino >= 0 && geometry.canStartAt(startino) && startino + InodeChunk.INODES <= agInodes;
    }

    /** Candidate chunk starts from one source, in increasing order. */
    private interface Starts {
        /** The first start at or after {@code from} (asked with {@code from} never decreasing), or Long.MAX_VALUE. */
        long next(long from) throws StagingException;
    }

    /** The records of a tree that can be chunks. */
    private final class RecordStarts implements Starts {
        private final XfArray a;
        private final long agInodes;
        private final InodeChunks rec = new InodeChunks();
        private long at;

        RecordStarts(XfArray a, long agInodes) throws StagingException {
            this.a = a;
            this.agInodes = agInodes;
            this.at = rec.loadNext(a, 0);
        }

        @Override
        public long next(long from) throws StagingException {
            while (at >= 0 && (rec.chunk().startino() < from || !canBeChunk(rec.chunk().startino(), agInodes))) {
                at = rec.loadNext(a, at + 1);
            }
            return at >= 0 ? rec.chunk().startino() : Long.MAX_VALUE;
        }
    }

    /**
     * The chunk of every inode the directory tree reached, and which of its inodes those are: one pass over the link
     * counts (sorted by inode, so the inodes of one chunk come together). A candidate from another source holds no
     * named inode, or it would be this source's too.
     */
    private final class NamedStarts implements Starts {
        private final XfArray links = ctx.observation(Observation.LINK_COUNTS);
        private final LinkCountRecord rec = new LinkCountRecord();
        private final long agFirst;
        private final long agEnd;
        private final long agInodes;
        private long at;
        private long start = -1;
        private long mask;
        /** False once a named inode lies where no chunk can hold it: the tree cannot be rebuilt from proof then. */
        boolean placed = true;

        NamedStarts(long agFirst, long agInodes) throws StagingException {
            this.agFirst = agFirst;
            this.agEnd = agFirst + agInodes;
            this.agInodes = agInodes;
            this.at = firstAtLeast(links, agFirst, from -> rec.loadNext(links, from), rec::ino);
        }

        @Override
        public long next(long from) throws StagingException {
            if (start >= from) {
                return start;
            }
            start = -1;
            mask = 0;
            for (; at >= 0 && rec.ino() < agEnd; at = rec.loadNext(links, at + 1)) {
                long s = geometry.chunkHolding(rec.ino() - agFirst);
                if (!canBeChunk(s, agInodes)) {
                    placed = false;
                } else if (start >= 0 && s != start) {
                    return start; // the next chunk's first inode is where the next call goes on
                } else if (s >= from) {
                    start = s;
                    mask |= 1L << (rec.ino() - agFirst - s);
                }
            }
            return start >= 0 ? start : Long.MAX_VALUE;
        }

        /** One bit per inode of the chunk at {@code s} that the directory tree names; {@code s} was a candidate. */
        long mask(long s) {
            return s == start ? mask : 0;
        }
    }

    /** The chunks the rmapbt's inode-chunk extents cover. */
    private final class MappedStarts implements Starts {
        private final XfArray a;
        private final long agInodes;
        private final Extent e = new Extent();
        private long at;

        MappedStarts(XfArray a, long agInodes) throws StagingException {
            this.a = a;
            this.agInodes = agInodes;
            this.at = e.loadNext(a, 0);
        }

        @Override
        public long next(long from) throws StagingException {
            long align = geometry.chunkAlignment();
            for (; at >= 0; at = e.loadNext(a, at + 1)) {
                long lo = e.start() * geometry.inodesPerBlock();
                long hi = e.end() * geometry.inodesPerBlock();
                // the chunks that overlap [lo, hi): aligned starts from the one at or below lo, each reaching past lo
                for (long s = Math.max(lo - lo % align, from + (align - from % align) % align); s < hi; s += align) {
                    if (s + InodeChunk.INODES > lo && canBeChunk(s, agInodes)) {
                        return s;
                    }
                }
            }
            return Long.MAX_VALUE;
        }
    }

    // ---- judging

    /** The verdict on an inobt record no chunk can be at: it goes. */
    private Verdict misplaced(InodeChunk r) {
        return new Verdict(r.startino(), r, null, true, true, "no inode chunk can start at AG inode " + r.startino()
                + " (chunks start at multiples of " + geometry.chunkAlignment() + " inodes, within the AG)", 0, 0);
    }

    /** The verdict on the candidate chunk at AG inode {@code s}, from each of its allocation units' judgements. */
    private Verdict judge(long agFirst, long s, InodeChunk listed, InodeChunk finobt, NamedStarts named, States states,
            Reach freeSpace, Cover rmap, Others others) throws XfsException, StagingException {
        long namedMask = named.mask(s);
        InodeMapRecord.State[] seen = states.of(agFirst + s);
        InodeProbe[] inode = new InodeProbe[InodeChunk.INODES];
        boolean settled = true;
        for (int i = 0; i < InodeChunk.INODES; i++) {
            InodeMapRecord.State st = seen[i];
            if (st == InodeMapRecord.State.FREE) {
                inode[i] = InodeProbe.FREE;
            } else if (st == InodeMapRecord.State.IN_USE) {
                inode[i] = InodeProbe.IN_USE;
            } else {
                inode[i] = device.probeInode(agFirst + s + i); // not walked, or the walk could not read its forks
            }
        }
        InodeChunk soundListed = sound(listed, namedMask);
        InodeChunk soundFinobt = sound(finobt, namedMask);
        int unit = geometry.allocationUnit();
        int holemask = 0;
        boolean sure = true;
        List<String> why = new ArrayList<>();
        long freeMask = 0;
        for (int u = 0; u < InodeChunk.INODES; u += unit) {
            long unitBits = (unit == Long.SIZE ? -1L : (1L << unit) - 1) << u;
            int decoded = 0;
            boolean inUse = false;
            for (int i = u; i < u + unit; i++) {
                if (inode[i].isInode()) {
                    decoded++;
                }
                inUse |= inode[i] == InodeProbe.IN_USE;
            }
            Decoded d = decoded == unit ? Decoded.ALL : decoded == 0 ? Decoded.NONE : Decoded.MIXED;
            long b0 = geometry.blockOf(s + u);
            long b1 = geometry.blockOf(s + u + unit - 1);
            boolean isNamed = (namedMask & unitBits) != 0;
            boolean listedAllocated = allocatedBy(soundListed, u, unit);
            boolean finobtAllocated = allocatedBy(soundFinobt, u, unit);
            boolean listedHole = holeBy(soundListed, u, unit);
            Boolean inRmap = rmap == null ? null : rmap.covers(b0, b1);
            Boolean free = null;
            if (freeSpace != null) {
                freeSpace.advanceTo(b1);
                free = freeSpace.reaches(b0);
            }
            String user = others.user(b0, b1);
            Judgement j = rule(d, inUse, isNamed, listedAllocated, finobtAllocated, listedHole, inRmap, free, user != null);
            String inodes = "inodes " + (agFirst + s + u) + "-" + (agFirst + s + u + unit - 1);
            switch (j) {
                case PRESENT -> {
                    for (int i = u; i < u + unit; i++) {
                        if (inode[i] == InodeProbe.FREE) {
                            freeMask |= 1L << i;
                        }
                        settled &= seen[i] != InodeMapRecord.State.UNREADABLE;
                    }
                    if (!listedAllocated) {
                        why.add(inodes + " are there (" + (finobtAllocated ? "the finobt lists them, " : "")
                                + evidence(d, isNamed, inRmap, free, user) + ")");
                    }
                }
                case ABSENT -> {
                    holemask |= holemaskBits(u, unit);
                    if (listedAllocated) {
                        why.add(inodes + " are not allocated (" + evidence(d, isNamed, inRmap, free, user) + ")");
                    }
                }
                case UNSURE -> {
                    sure = false;
                    why.add(inodes + ": the evidence conflicts (" + evidence(d, isNamed, inRmap, free, user) + ")");
                }
            }
        }
        InodeChunk proven = null;
        if (sure && holemask != allHoles()) {
            int hm = holemask;
            long fm = freeMask;
            InodeChunk shape = new InodeChunk(s, hm, 0, 0, 0);
            proven = shape.withFreeInodes(i -> shape.isHole(i) || (fm & (1L << i)) != 0);
        }
        long walkedFree = 0;
        long walkedInUse = 0;
        for (int i = 0; i < InodeChunk.INODES; i++) {
            walkedFree |= seen[i] == InodeMapRecord.State.FREE ? 1L << i : 0;
            walkedInUse |= seen[i] == InodeMapRecord.State.IN_USE ? 1L << i : 0;
        }
        return new Verdict(s, listed, proven, sure, settled, String.join("; ", why), walkedFree, walkedInUse);
    }

    /**
     * The rules of the class comment, for one unit.
     *
     * @param inUse           an inode of the unit is in use
     * @param named           the directory tree names an inode of the unit
     * @param listedAllocated the inobt's record, sound (count matching holemask), lists the unit as allocated
     * @param finobtListed    the finobt's record, sound, lists it as allocated (a hint only: a lost inobt record of a
     *                        chunk with free inodes is still there)
     * @param listedHole      the inobt's record, sound, lists the unit as a hole
     * @param inRmap          the rmapbt covers its blocks with inode-chunk records (true), with none (false), or cannot say
     * @param free            the bnobt holds one of its blocks (true), none (false), or cannot be read (null)
     * @param usedByOthers    the space map has one of its blocks in use by anything but inode chunks
     */
    static Judgement rule(Decoded d, boolean inUse, boolean named, boolean listedAllocated, boolean finobtListed, boolean listedHole,
            Boolean inRmap, Boolean free, boolean usedByOthers) {
        boolean rmapSays = Boolean.TRUE.equals(inRmap);
        boolean rmapDenies = Boolean.FALSE.equals(inRmap);
        switch (d) {
            case NONE:
                // no inode there: a live file named there, or the rmapbt's chunk, with no inode would be damage to inodes
                return named || rmapSays ? Judgement.UNSURE : Judgement.ABSENT;
            case MIXED:
                if (named || rmapSays || listedAllocated) {
                    return Judgement.UNSURE; // a chunk with damaged inodes: which are free cannot be told
                }
                return Boolean.TRUE.equals(free) || usedByOthers || rmapDenies ? Judgement.ABSENT : Judgement.UNSURE;
            default:
                if (usedByOthers) {
                    return Judgement.UNSURE; // valid inodes where a file or a tree lives: one of them is wrong
                }
                if (Boolean.TRUE.equals(free)) {
                    // stale inodes in free space (a hole keeps what its blocks held); an allocated unit the bnobt lost
                    // looks the same but is listed by a sound record, named, or in the rmapbt
                    if (named || rmapSays || listedAllocated) {
                        return Judgement.UNSURE;
                    }
                    return inUse && !listedHole ? Judgement.UNSURE : Judgement.ABSENT;
                }
                if (named || rmapSays || listedAllocated || finobtListed) {
                    return Judgement.PRESENT;
                }
                // nothing says it is allocated, and nothing else has its blocks: only free inodes can be taken on trust
                return free == null || rmapDenies || inUse ? Judgement.UNSURE : Judgement.PRESENT;
        }
    }

    private static String evidence(Decoded d, boolean named, Boolean inRmap, Boolean free, String user) {
        List<String> e = new ArrayList<>();
        e.add(switch (d) {
            case ALL -> "every inode decodes";
            case NONE -> "no inode decodes";
            case MIXED -> "some inodes decode";
        });
        if (named) {
            e.add("named by the directory tree");
        }
        if (inRmap != null) {
            e.add(inRmap ? "the rmapbt maps them as inode chunks" : "the rmapbt does not map them as inode chunks");
        }
        if (Boolean.TRUE.equals(free)) {
            e.add("the bnobt holds their blocks as free");
        } else if (free == null) {
            e.add("the bnobt cannot be read");
        }
        if (user != null) {
            e.add("their blocks are used by " + user);
        }
        return String.join(", ", e);
    }

    /**
     * The record when it can be taken as evidence: its count agrees with its holemask, and no hole of it holds an
     * inode the directory tree names (a record proven wrong in one place is not believed in another). Else null.
     */
    private static InodeChunk sound(InodeChunk r, long namedMask) {
        return r == null || r.count() != r.allocated() || (r.holes() & namedMask) != 0 ? null : r;
    }

    /** Whether the sound record {@code r} lists inodes [u, u+unit) as allocated. */
    private static boolean allocatedBy(InodeChunk r, int u, int unit) {
        if (r == null) {
            return false;
        }
        for (int i = u; i < u + unit; i++) {
            if (r.isHole(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the sound record {@code r} lists inodes [u, u+unit) as a hole. */
    private static boolean holeBy(InodeChunk r, int u, int unit) {
        if (r == null) {
            return false;
        }
        for (int i = u; i < u + unit; i++) {
            if (!r.isHole(i)) {
                return false;
            }
        }
        return true;
    }

    private static int holemaskBits(int u, int unit) {
        int bits = unit / InodeChunk.INODES_PER_HOLEMASK_BIT;
        return ((1 << bits) - 1) << (u / InodeChunk.INODES_PER_HOLEMASK_BIT);
    }

    private static int allHoles() {
        return holemaskBits(0, InodeChunk.INODES);
    }

    // ---- staging of the AG's trees

    /** A tree's records of the AG, or null when it cannot be walked (then it names no candidates). */
    private XfArray stageQuietly(int agno, Btree<InodeChunk> tree) throws StagingException {
        try {
            return InodeChunks.stage(ctx, agno, tree, false);
        } catch (XfsException e) {
            return null; // the finobt is only a hint; its own check reports it
        }
    }

    /** The bnobt's free extents of the AG, or null when the bnobt cannot be walked. */
    private XfArray freeExtents(int agno) throws StagingException {
        return extents("inobt proof free space of AG " + agno, agno, Btree.BNO, f -> true, f -> f.start(), f -> f.length());
    }

    /** The rmapbt's inode-chunk extents of the AG in block order, or null when the rmapbt cannot be walked. */
    private XfArray inodeChunkMappings(int agno) throws StagingException {
        long owner = MetadataOwner.INODES.code();
        XfArray walked = walkedOf(agno, owner);
        if (walked != null) {
            return walked;
        }
        return extents("inobt proof rmap inode chunks of AG " + agno, agno, Btree.RMAP, m -> m.owner() == owner,
                m -> m.start(), m -> m.length());
    }

    /**
     * The extents of {@code owner}'s records of the AG among those the walk staged, in block order; null when the walk
     * did not stage the AG's (its tree did not read whole, or the records are not staged): then the tree is walked.
     */
    private XfArray walkedOf(int agno, long owner) throws StagingException {
        if (walkedRmapbt == null) {
            return null;
        }
        MappingRecord m = new MappingRecord();
        long first = firstOfAg(walkedRmapbt, agno, m);
        if (first < 0) {
            return null;
        }
        XfArray a = ctx.arrays().create("inobt proof rmap inode chunks of AG " + agno, Extent.SIZE);
        try {
            Extent e = new Extent();
            for (long i = first; i >= 0 && m.agno() == agno; i = m.loadNext(walkedRmapbt, i + 1)) {
                if (m.owner() == owner) {
                    e.set(m.start(), m.length()).appendTo(a);
                }
            }
        } catch (StagingException | RuntimeException x) {
            a.close();
            throw x;
        }
        return a;
    }

    /** The index of the first record of AG {@code agno} in the walk's (tree order, no nulls), loaded; -1 if none. */
    private static long firstOfAg(XfArray records, int agno, MappingRecord rec) throws StagingException {
        long lo = 0;
        long hi = records.length();
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (rec.load(records, mid).agno() < agno) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < records.length() && rec.load(records, lo).agno() == agno ? lo : -1;
    }

    /** The extents of a tree's records that {@code keep} takes, staged in tree order; null when the tree cannot be walked. */
    private <R> XfArray extents(String name, int agno, Btree<R> tree, java.util.function.Predicate<R> keep,
            java.util.function.ToLongFunction<R> start, java.util.function.ToLongFunction<R> length) throws StagingException {
        XfArray a = ctx.arrays().create(name, Extent.SIZE);
        Extent e = new Extent();
        StagingException[] failure = {null};
        try {
            device.walkBtree(agno, tree, r -> {
                if (failure[0] == null && keep.test(r)) {
                    try {
                        e.set(start.applyAsLong(r), length.applyAsLong(r)).appendTo(a);
                    } catch (StagingException x) {
                        failure[0] = x;
                    }
                }
            });
        } catch (XfsException x) {
            a.close();
            return null;
        }
        if (failure[0] != null) {
            a.close();
            throw failure[0];
        }
        return a;
    }

    /** A staged extent of AG blocks (start plus one, so that no record is null, and length). */
    private static final class Extent {
        static final int SIZE = 2 * Long.BYTES;
        private final ByteBuffer buf = ByteBuffer.allocate(SIZE);

        Extent set(long start, long length) {
            buf.clear();
            buf.putLong(start + 1).putLong(length).flip();
            return this;
        }

        long start() {
            return buf.rewind().getLong() - 1;
        }

        long end() {
            buf.rewind();
            long start = buf.getLong() - 1;
            return start + buf.getLong();
        }

        long loadNext(XfArray a, long from) throws StagingException {
            buf.clear();
            return a.loadNext(from, buf);
        }

        void appendTo(XfArray a) throws StagingException {
            buf.rewind();
            a.append(buf);
        }
    }

    // ---- cursors, each moving forward only, over one AG

    /** Loads the first record at or after an index; its index or -1. */
    @FunctionalInterface
    private interface Loader {
        long loadNext(long from) throws StagingException;
    }

    /**
     * The index of the first record of a sorted array whose key is at least {@code target}, loaded; -1 when none is.
     * A binary search over loads of the array (null slots are skipped by {@code loadNext}).
     */
    private static long firstAtLeast(XfArray a, long target, Loader load, LongSupplier key) throws StagingException {
        long lo = 0;
        long hi = a.length();
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            long at = load.loadNext(mid);
            if (at >= 0 && key.getAsLong() < target) {
                lo = at + 1;
            } else {
                hi = mid;
            }
        }
        return load.loadNext(lo);
    }

    /** The staged inobt or finobt records of the AG, in startino order. */
    private static final class Records {
        private final XfArray a;
        private final InodeChunks rec = new InodeChunks();
        private long at;

        Records(XfArray a) throws StagingException {
            this.a = a;
            this.at = rec.loadNext(a, 0);
        }

        /** The next record, if it starts before {@code s}, consumed. */
        InodeChunk before(long s) throws StagingException {
            if (at >= 0 && rec.chunk().startino() < s) {
                InodeChunk c = rec.chunk();
                at = rec.loadNext(a, at + 1);
                return c;
            }
            return null;
        }

        /** The record at {@code s}, consumed, or null; records before it must have been consumed. */
        InodeChunk at(long s) throws StagingException {
            while (at >= 0 && rec.chunk().startino() < s) {
                at = rec.loadNext(a, at + 1); // (a finobt record that is no candidate)
            }
            if (at >= 0 && rec.chunk().startino() == s) {
                InodeChunk c = rec.chunk();
                at = rec.loadNext(a, at + 1);
                return c;
            }
            return null;
        }
    }

    /** What the walk found in each inode, from the sorted inode map. */
    private final class States {
        private final XfArray map = ctx.observation(Observation.INODE_MAP);
        private final InodeMapRecord rec = new InodeMapRecord();
        private long at;

        States(long agFirst) throws StagingException {
            at = firstAtLeast(map, agFirst, from -> rec.loadNext(map, from), rec::ino);
        }

        /** The walk's state of each inode of the 64 from {@code first}; null where it did not walk it. */
        InodeMapRecord.State[] of(long first) throws StagingException {
            InodeMapRecord.State[] out = new InodeMapRecord.State[InodeChunk.INODES];
            while (at >= 0 && rec.ino() < first) {
                at = rec.loadNext(map, at + 1);
            }
            while (at >= 0 && rec.ino() < first + InodeChunk.INODES) {
                out[(int) (rec.ino() - first)] = rec.state();
                at = rec.loadNext(map, at + 1);
            }
            return out;
        }
    }

    /**
     * Whether sorted extents reach a block: the furthest end of the extents that start at or before the blocks asked
     * so far. Asked with blocks in increasing order, "reaches b0" then means an extent starting at or before the unit's
     * last block ends after its first.
     */
    private static final class Reach {
        private final XfArray a;
        private final Extent e = new Extent();
        private long at;
        private long furthest = -1;

        Reach(XfArray a) throws StagingException {
            this.a = a;
            this.at = e.loadNext(a, 0);
        }

        /** Takes in the extents that start at or before {@code b1}. */
        void advanceTo(long b1) throws StagingException {
            while (at >= 0 && e.start() <= b1) {
                furthest = Math.max(furthest, e.end());
                at = e.loadNext(a, at + 1);
            }
        }

        /** Whether an extent taken in so far, or one starting by the unit's end, ends after {@code b0}. */
        Boolean reaches(long b0) {
            return furthest > b0;
        }
    }

    /** How much of a unit's blocks the rmapbt's inode-chunk extents cover. */
    private static final class Cover {
        private final XfArray a;
        private final Extent e = new Extent();
        private long first;

        Cover(XfArray a) throws StagingException {
            this.a = a;
            this.first = e.loadNext(a, 0);
        }

        /** True when every block of [b0, b1] is covered, false when none is, null when some are. */
        Boolean covers(long b0, long b1) throws StagingException {
            while (first >= 0 && e.end() <= b0) {
                first = e.loadNext(a, first + 1);
            }
            long covered = 0;
            for (long i = first; i >= 0 && e.start() <= b1; i = e.loadNext(a, i + 1)) {
                covered += Math.max(0, Math.min(b1 + 1, e.end()) - Math.max(b0, e.start()));
            }
            if (first >= 0) {
                e.loadNext(a, first); // back to the first extent that may reach the next unit
            }
            long blocks = b1 - b0 + 1;
            return covered >= blocks ? Boolean.TRUE : covered == 0 ? Boolean.FALSE : null;
        }
    }

    /** Who else uses the blocks of a unit, from the sorted space map (inode chunks themselves aside). */
    private final class Others {
        private final XfArray space = ctx.observation(Observation.SPACE_MAP);
        private final SpaceMapRecord rec = new SpaceMapRecord();
        private final SpaceMapRecord furthest = new SpaceMapRecord();
        private final int agno;
        private long at;
        private long furthestEnd = -1;
        /**
         * Where the record reaching furthest is: loaded only when it is named. Each file extent of a sorted space map
         * reaches past the one before, so copying it at every step cost a copy per record of the AG (a JFR profile of
         * the 200k scrub put those copies at a sixth of this check's samples).
         */
        private long furthestAt = -1;

        Others(int agno) throws StagingException {
            this.agno = agno;
            at = firstAtLeast(space, SpaceMapRecord.position(agno, 0), from -> rec.loadNext(space, from), rec::position);
        }

        /** What uses a block of [b0, b1] besides inode chunks, in words, or null. */
        String user(long b0, long b1) throws StagingException {
            while (at >= 0 && rec.agno() == agno && rec.agbno() <= b1) {
                if (rec.use() != SpaceUse.INODES && rec.end() > furthestEnd) {
                    furthestEnd = rec.end();
                    furthestAt = at;
                }
                at = rec.loadNext(space, at + 1);
            }
            if (furthestEnd <= b0) {
                return null;
            }
            furthest.load(space, furthestAt);
            return furthest.use().describe(furthest.owner());
        }
    }
}
