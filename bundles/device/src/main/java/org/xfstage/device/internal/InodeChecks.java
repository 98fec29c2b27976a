package org.xfstage.device.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.xfstage.api.device.FileType;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.InodeProblem.Kind;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;

/**
 * The verifying read of one inode: everything the walk needs from it (the blocks its forks map) and, in the same
 * pass, every rule its core, its extent maps, its symlink target and its extended attributes break, as
 * xfs_repair's phase 3 and 4 (repair/dinode.c, repair/attr_repair.c) and the kernel's inode verifier
 * (xfs_dinode_verify, xfs_inode_validate_extsize/cowextsize) have them.
 * <p>
 * How it goes: an inode that cannot be decoded at all ({@link Inode#decode} and {@link Inode#checkedType} throw) is
 * not checked further. A free inode is only checked for its unlinked pointer. For an inode in use: the core's
 * flags and hints against its type and the filesystem's features; the size against the data fork's format and,
 * for directories, against the extent map; then each fork's records, one by one, in the order the inode or its
 * bmbt holds them (never all at once: a file may have millions), each checked for length, order, range and
 * state, and its blocks handed on only when they lie in the filesystem; the bmbt blocks are checked as xfs_repair's
 * scan_bmapbt does (magic, CRC, level, owner, place, record counts, keys against children, sibling pointers),
 * each met once; finally the counts (di_nblocks, di_nextents, di_anextents) against what was read. Symlink targets
 * and attributes are checked by {@link SymlinkChecks} and {@link XattrChecks} from the maps read here.
 * <p>
 * What is legal is never reported (namespace-facts.md §10): blocks past EOF, holes and sparse tails in regular
 * files, unwritten extents in their data forks, a forkoff with an empty attribute fork, an empty attribute leaf,
 * blocks shared with other files. Each problem is reported once; a damaged inode reports at most
 * {@link #MAX_PROBLEMS} of them.
 */
final class InodeChecks {
    /** Problems one inode reports at most: a trashed extent list would otherwise give one per record. */
    static final int MAX_PROBLEMS = 20;

    // di_flags (xfs_format.h XFS_DIFLAG_*)
    static final int DIFLAG_REALTIME = 1;
    static final int DIFLAG_NEWRTBM = 1 << 2;
    private static final int DIFLAG_RTINHERIT = 1 << 8;
    private static final int DIFLAG_PROJINHERIT = 1 << 9;
    private static final int DIFLAG_NOSYMLINKS = 1 << 10;
    static final int DIFLAG_EXTSIZE = 1 << 11;
    static final int DIFLAG_EXTSZINHERIT = 1 << 12;
    /** XFS_DIFLAG_ANY: bits 0-14. */
    static final int DIFLAG_ANY = 0x7fff;
    static final int DIFLAG_DIRECTORY_ONLY = DIFLAG_RTINHERIT | DIFLAG_EXTSZINHERIT | DIFLAG_PROJINHERIT | DIFLAG_NOSYMLINKS;
    static final int DIFLAG_FILE_ONLY = DIFLAG_REALTIME | DIFLAG_EXTSIZE;
    // di_flags2 (XFS_DIFLAG2_*)
    static final long DIFLAG2_DAX = 1;
    private static final long DIFLAG2_REFLINK = 1 << 1;
    static final long DIFLAG2_COWEXTSIZE = 1 << 2;
    static final long DIFLAG2_BIGTIME = 1 << 3;
    static final long DIFLAG2_NREXT64 = 1 << 4;
    /** XFS_DIFLAG2_ANY of 6.10 (METADATA is 6.13+ metadir only). */
    static final long DIFLAG2_ANY = 0x1f;
    /** NULLAGINO: the end of an unlinked list. */
    static final long NULL_AGINO = 0xffffffffL;
    /** XFS_MAX_BMBT_EXTLEN: extent size hints are limited like extents. */
    private static final long MAX_EXTLEN = (1L << 21) - 1;
    /** XFS_DIR2_LEAF_OFFSET: a directory's data space ends here; its size never reaches past it. */
    static final long DIR2_DATA_SPACE = 1L << 35;
    static final int NSEC_PER_SEC = 1_000_000_000;
    private static final int BMBT_REC = 16;
    private static final int LBLOCK_HDR = 72;
    /** XFS_DA_NODE_MAXDEPTH and bmbt heights stay far below this: deeper is a loop. */
    static final int MAX_DEPTH = 16;

    /** Where the blocks of an inode go: each extent or bmbt block that lies in the filesystem, once. */
    interface Mappings {
        void extent(long fsb, long count, long startOff, boolean attr, boolean bmbt, boolean unwritten) throws XfsException;
    }

    final Image image;
    final Geometry g;
    private final long realtimeBlocks;
    private final long rtBitmapIno;
    private final int inodeAlign;
    final int literal;
    /** XFS_AGFL_BLOCK: the last AG header block; no file block lies at or below it. */
    private final long agflBlock;
    private final long lastAgBlocks;
    /** repair/versions.c fs_max_file_offset: the largest byte offset (2^63 - 1) in blocks. */
    private final long maxFileBlock;
    final boolean reflink;
    private final boolean bigtime;
    private final boolean nrext64;
    final int bmbtMaxRecs;
    private final int bmbtMinRecs;
    private final int[] maxLevels = new int[2];
    final int dirFsbCount;
    private SymlinkChecks symlinks;
    private XattrChecks xattrs;

    InodeChecks(Image image, Geometry g, Struct sb) {
        this.image = image;
        this.g = g;
        this.realtimeBlocks = sb.get("rblocks");
        this.rtBitmapIno = sb.get("rbmino");
        this.inodeAlign = (int) Math.max(1, sb.get("inoalignmt"));
        this.literal = g.inodeSize - Inode.CORE_SIZE;
        this.agflBlock = 3L * g.sectorSize / g.blockSize;
        this.lastAgBlocks = g.dataBlocks - (long) (g.agCount - 1) * g.agBlocks;
        this.maxFileBlock = Long.MAX_VALUE >> g.blockLog;
        this.reflink = (g.roCompat & Geometry.FEAT_RO_REFLINK) != 0;
        this.bigtime = (g.incompat & Geometry.FEAT_INCOMPAT_BIGTIME) != 0;
        this.nrext64 = (g.incompat & Geometry.FEAT_INCOMPAT_NREXT64) != 0;
        this.bmbtMaxRecs = (g.blockSize - LBLOCK_HDR) / BMBT_REC;
        this.bmbtMinRecs = bmbtMaxRecs / 2;
        this.dirFsbCount = g.dirBlockSize / g.blockSize;
        // xfs_bmap_compute_maxlevels: the worst case root (MINDBTPTRS 3, MINABTPTRS 2 records) over half-full blocks
        for (int attr = 0; attr < 2; attr++) {
            long leafEnts = nrext64 ? (attr == 0 ? (1L << 48) - 1 : (1L << 32) - 1) : (attr == 0 ? (1L << 31) - 1 : (1L << 15) - 1);
            int rootRecs = attr == 0 ? 3 : 2;
            long blocks = (leafEnts + bmbtMinRecs - 1) / bmbtMinRecs;
            int level = 1;
            for (; blocks > 1 && level < MAX_DEPTH; level++) {
                blocks = blocks <= rootRecs ? 1 : (blocks + bmbtMinRecs - 1) / bmbtMinRecs;
            }
            maxLevels[attr] = level;
        }
    }

    /** The most extents a fork may count (xfs_iext_max_nextents). */
    long maxExtents(boolean attr, boolean large) {
        if (large) {
            return attr ? (1L << 32) - 1 : (1L << 48) - 1;
        }
        return attr ? (1L << 15) - 1 : (1L << 31) - 1;
    }

    /**
     * A block number as the kernel and xfs_repair use it: XFS_FSB_TO_AGNO keeps 32 bits of the AG number, so bits of
     * a pointer or startblock above those are ignored by both (the block is read and checked where the low bits
     * say). They are ignored here too, or we would call damaged what both of them read as it is.
     */
    long canonical(long fsb) {
        long agno = (fsb >>> g.agBlkLog) & 0xffffffffL;
        return (agno << g.agBlkLog) | (fsb & ((1L << g.agBlkLog) - 1));
    }

    /** xfs_verify_fsbno: in an AG, inside its length, past its headers. */
    boolean validFsb(long fsb) {
        if (fsb < 0) {
            return false;
        }
        long agno = fsb >>> g.agBlkLog;
        long agbno = fsb & ((1L << g.agBlkLog) - 1);
        return agno < g.agCount && agbno > agflBlock && agbno < (agno == g.agCount - 1 ? lastAgBlocks : g.agBlocks);
    }

    /** xfs_verify_agino_or_null: NULLAGINO or an inode number that can be in an inode chunk of this AG. */
    private boolean validAginoOrNull(long agno, long agino) {
        if (agino == NULL_AGINO) {
            return true;
        }
        long length = agno == g.agCount - 1 ? lastAgBlocks : g.agBlocks;
        long first = ((agflBlock + 1 + inodeAlign - 1) / inodeAlign * inodeAlign) << g.inopbLog;
        long last = ((length / inodeAlign * inodeAlign) << g.inopbLog) - 1;
        return agino >= first && agino <= last;
    }

    /**
     * Checks inode {@code inode} (decoded; its type not yet checked) and hands its blocks to {@code out}.
     *
     * @return whether it is in use
     * @throws XfsException when it cannot be decoded (an unknown type, a data fork format its type cannot have), or
     *                      reading the image fails
     */
    boolean check(Inode inode, Mappings out, XfsDevice.ProblemSink sink) throws XfsException {
        // an inode that cannot be decoded reports nothing else: the exception says what is wrong
        FileType type = inode.mode == 0 ? null : inode.checkedType();
        Run run = new Run(inode, sink);
        Struct core = inode.core;
        long agno = inode.ino >>> (g.agBlkLog + g.inopbLog);
        long nextUnlinked = core.get(F_NEXT_UNLINKED);
        if (!validAginoOrNull(agno, nextUnlinked)) {
            run.core(Kind.NEXT_UNLINKED, nextUnlinked, NULL_AGINO);
        }
        if (type == null) {
            return false; // a free inode: any format is legal, it is reset when reused
        }
        if (nextUnlinked != NULL_AGINO && validAginoOrNull(agno, nextUnlinked)) {
            run.core(Kind.NEXT_UNLINKED_SET, nextUnlinked, NULL_AGINO);
        }
        coreRules(run, type);
        int forkoff = (int) core.get(F_FORKOFF);
        boolean attrForkUsable = forkoffRules(run, forkoff);
        int dataFork = forkoff == 0 ? literal : forkoff * 8;
        boolean sizeFits = sizeRules(run, type, dataFork);

        // the data fork
        boolean realtimeData = (core.get(F_FLAGS) & DIFLAG_REALTIME) != 0 && realtimeBlocks > 0;
        ForkReader data = new ForkReader(run, false, type, out, type == FileType.SYMLINK);
        data.skipRanges = realtimeData; // rt extents address the realtime device, which is not read here
        data.read(inode.format, Inode.CORE_SIZE, dataFork, inode.nextents);
        if (inode.format == Inode.FMT_BTREE || inode.format == Inode.FMT_EXTENTS) {
            if (inode.format == Inode.FMT_BTREE && data.records != inode.nextents && !run.forkUnreadable) {
                run.core(Kind.NEXTENTS, inode.nextents, data.records);
            }
        } else if (inode.nextents != 0) {
            run.core(Kind.NEXTENTS, inode.nextents, 0);
        }
        if (type == FileType.DIRECTORY && sizeFits && inode.format != Inode.FMT_LOCAL && data.lastEnd == dirFsbCount
                && inode.size != g.dirBlockSize) {
            // xfs_dir2_isblock: a single-block directory must be exactly one directory block long (xfs_repair misses it)
            run.core(Kind.DIRECTORY_BLOCK_SIZE, inode.size, g.dirBlockSize);
        }

        // the attribute fork
        int aformat = (int) core.get(F_AFORMAT);
        long anextents = nrext64Inode(core) ? core.get(F_NEXTENTS) : core.get(F_ANEXTENTS);
        ForkReader attr = new ForkReader(run, true, type, out, forkoff != 0);
        if (forkoff == 0) {
            if (aformat != Inode.FMT_EXTENTS) {
                run.core(Kind.AFORMAT, aformat, Inode.FMT_EXTENTS);
            }
            if (anextents != 0) {
                run.core(Kind.ANEXTENTS, anextents, 0);
            }
        } else if (aformat != Inode.FMT_LOCAL && aformat != Inode.FMT_EXTENTS && aformat != Inode.FMT_BTREE) {
            run.core(Kind.AFORMAT, aformat, -1);
        } else if (attrForkUsable) {
            int start = Inode.CORE_SIZE + forkoff * 8;
            int size = g.inodeSize - start;
            attr.read(aformat, start, size, anextents);
            long counted = aformat == Inode.FMT_LOCAL ? 0 : attr.records;
            if (aformat != Inode.FMT_EXTENTS && anextents != counted && !run.forkUnreadable) {
                run.core(Kind.ANEXTENTS, anextents, counted);
            }
            xattrs().check(run, aformat, inode.core.raw(), start, size, attr.map, attr.mapComplete);
        }

        long nblocks = core.get(F_NBLOCKS);
        long mapped = data.blocks + attr.blocks;
        if (nblocks != mapped && !run.forkUnreadable) {
            run.core(Kind.NBLOCKS, nblocks, mapped);
        }
        if (type == FileType.SYMLINK) {
            symlinks().check(run, dataFork, data.map, data.mapComplete);
        }
        return true;
    }

    private SymlinkChecks symlinks() {
        if (symlinks == null) {
            symlinks = new SymlinkChecks(this);
        }
        return symlinks;
    }

    private XattrChecks xattrs() {
        if (xattrs == null) {
            xattrs = new XattrChecks(this);
        }
        return xattrs;
    }

    private static boolean nrext64Inode(Struct core) {
        return (core.get(F_FLAGS2) & DIFLAG2_NREXT64) != 0;
    }

    /** Flags, flags2, hints, padding, timestamps: the rules of repair/dinode.c process_dinode_int. */
    private void coreRules(Run run, FileType type) {
        Struct core = run.inode.core;
        boolean reg = type == FileType.FILE;
        boolean dir = type == FileType.DIRECTORY;
        if (core.get(F_ONLINK) != 0) {
            run.core(Kind.ONLINK, core.get(F_ONLINK), 0);
        }
        long flags2 = core.get(F_FLAGS2);
        boolean large = (flags2 & DIFLAG2_NREXT64) != 0;
        // with large extent counts di_big_nextents is in use and di_anextents is di_nrext64_pad; otherwise di_v3_pad
        long pad = large ? core.get(F_ANEXTENTS) : core.get(F_BIG_NEXTENTS);
        if (pad != 0) {
            run.core(Kind.PAD, pad, 0);
        }
        int flags = (int) core.get(F_FLAGS);
        if ((flags & ~DIFLAG_ANY) != 0) {
            run.core(Kind.FLAGS_UNKNOWN, flags & ~DIFLAG_ANY, 0);
        }
        if ((flags & DIFLAG_REALTIME) != 0 && realtimeBlocks == 0) {
            run.core(Kind.FLAGS_REALTIME, flags, -1);
        }
        if ((flags & DIFLAG_NEWRTBM) != 0 && run.inode.ino != rtBitmapIno) {
            run.core(Kind.FLAGS_NEWRTBM, flags, -1);
        }
        if ((flags & DIFLAG_DIRECTORY_ONLY) != 0 && !dir) {
            run.core(Kind.FLAGS_DIRECTORY_ONLY, flags & DIFLAG_DIRECTORY_ONLY, 0);
        }
        if ((flags & DIFLAG_FILE_ONLY) != 0 && !reg) {
            run.core(Kind.FLAGS_FILE_ONLY, flags & DIFLAG_FILE_ONLY, 0);
        }
        if ((flags2 & ~DIFLAG2_ANY) != 0) {
            run.core(Kind.FLAGS2_UNKNOWN, flags2 & ~DIFLAG2_ANY, 0);
        }
        if ((flags2 & DIFLAG2_DAX) != 0 && !reg && !dir) {
            run.core(Kind.FLAGS2_DAX, flags2, -1);
        }
        boolean realtime = (flags & (DIFLAG_REALTIME | DIFLAG_RTINHERIT)) != 0;
        if ((flags2 & DIFLAG2_REFLINK) != 0) {
            if (!reflink) {
                run.core(Kind.FLAGS2_REFLINK_FEATURE, flags2, -1);
            } else if (!reg) {
                run.core(Kind.FLAGS2_REFLINK_TYPE, flags2, -1);
            } else if (realtime) {
                run.core(Kind.FLAGS2_REFLINK_REALTIME, flags2, -1);
            }
        }
        boolean cowHint = (flags2 & DIFLAG2_COWEXTSIZE) != 0;
        if (cowHint) {
            if (!reflink) {
                run.core(Kind.FLAGS2_COWEXTSIZE_FEATURE, flags2, -1);
            } else if (!reg && !dir) {
                run.core(Kind.FLAGS2_COWEXTSIZE_TYPE, flags2, -1);
            } else if (realtime) {
                run.core(Kind.FLAGS2_COWEXTSIZE_REALTIME, flags2, -1);
            }
        }
        if ((flags2 & DIFLAG2_BIGTIME) != 0 && !bigtime) {
            run.core(Kind.FLAGS2_BIGTIME, flags2, -1);
        }
        if (large && !nrext64) {
            run.core(Kind.FLAGS2_NREXT64, flags2, -1);
        }
        long extsize = core.get(F_EXTSIZE);
        if (!extsizeValid(extsize, type, flags)) {
            run.core(Kind.EXTSIZE, extsize, -1);
        }
        long cowextsize = core.get(F_COWEXTSIZE);
        if (!cowextsizeValid(cowextsize, type, flags, cowHint)) {
            run.core(Kind.COWEXTSIZE, cowextsize, -1);
        }
        if ((flags2 & DIFLAG2_BIGTIME) == 0) {
            // legacy timestamps: be32 seconds, be32 nanoseconds (repair/dinode.c check_nsec)
            byte[] raw = core.raw();
            int[] at = {32, 40, 48, 144};
            for (int i = 0; i < at.length; i++) {
                long nsec = Inode.u32(raw, at[i] + 4);
                if (nsec >= NSEC_PER_SEC) {
                    run.add(new InodeProblem(run.inode.ino, Kind.TIMESTAMP_NSEC, false, i, nsec, -1));
                }
            }
        }
    }

    /** xfs_inode_validate_extsize, for filesystems without a realtime device (the rt extent is one block). */
    private boolean extsizeValid(long extsize, FileType type, int flags) {
        boolean hint = (flags & DIFLAG_EXTSIZE) != 0;
        boolean inherit = (flags & DIFLAG_EXTSZINHERIT) != 0;
        boolean rt = (flags & DIFLAG_REALTIME) != 0;
        if ((hint || inherit) && type != FileType.DIRECTORY && type != FileType.FILE) {
            return false;
        }
        if ((hint && type != FileType.FILE) || (inherit && type != FileType.DIRECTORY)) {
            return false;
        }
        if ((hint || inherit) && extsize == 0) {
            return false;
        }
        if (!(hint || inherit) && extsize != 0) {
            return false;
        }
        return extsize <= MAX_EXTLEN && (rt || extsize <= g.agBlocks / 2);
    }

    /** xfs_inode_validate_cowextsize. */
    private boolean cowextsizeValid(long cowextsize, FileType type, int flags, boolean hint) {
        if (hint && (!reflink || (type != FileType.DIRECTORY && type != FileType.FILE) || cowextsize == 0
                || (flags & DIFLAG_REALTIME) != 0)) {
            return false;
        }
        if (!hint && cowextsize != 0) {
            return false;
        }
        return cowextsize <= MAX_EXTLEN && cowextsize <= g.agBlocks / 2;
    }

    /**
     * xfs_dinode_verify_forkoff: a device's attribute fork starts right after its dev_t (forkoff 1), any other
     * inode's inside the literal area. Returns whether the attribute fork can be read.
     */
    private boolean forkoffRules(Run run, int forkoff) {
        if (forkoff == 0) {
            return false;
        }
        int format = run.inode.format;
        int max = format == Inode.FMT_DEV ? 1 : literal / 8 - 1;
        if (format == Inode.FMT_DEV ? forkoff != 1 : forkoff > max) {
            run.core(Kind.FORKOFF, forkoff, max);
            return false;
        }
        return true;
    }

    /**
     * The size against the type and the data fork format (process_check_inode_sizes, xfs_dinode_verify_fork);
     * whether it passed (a size already reported is not compared with the extent map again).
     */
    private boolean sizeRules(Run run, FileType type, int dataFork) {
        long size = run.inode.size;
        int format = run.inode.format;
        switch (type) {
            case DIRECTORY -> {
                if ((size <= dataFork) != (format == Inode.FMT_LOCAL)) {
                    run.core(Kind.SIZE_FORMAT, size, dataFork);
                    return false;
                } else if (size > DIR2_DATA_SPACE) {
                    run.core(Kind.DIRECTORY_SIZE, size, DIR2_DATA_SPACE);
                    return false;
                }
                return true;
            }
            case SYMLINK, FILE -> {
                return true; // symlinks: SymlinkChecks; files: holes, sparse tails and blocks past EOF are legal
            }
            default -> {
                if (size != 0) {
                    run.core(Kind.SPECIAL_SIZE, size, 0);
                    return false;
                }
                return true;
            }
        }
    }

    /** One inode's check: where problems go, at most {@link #MAX_PROBLEMS} of them. */
    final class Run {
        final Inode inode;
        private final XfsDevice.ProblemSink sink;
        private int reported;
        /** A fork could not be read whole (a bmbt block unreadable): its counts prove nothing. */
        boolean forkUnreadable;

        Run(Inode inode, XfsDevice.ProblemSink sink) {
            this.inode = inode;
            this.sink = sink;
        }

        void add(InodeProblem p) {
            if (reported++ < MAX_PROBLEMS) {
                sink.problem(p);
            }
        }

        void core(Kind kind, long found, long expected) {
            add(InodeProblem.of(inode.ino, kind, found, expected));
        }

        void fork(Kind kind, boolean attr, long at, long found, long expected) {
            add(new InodeProblem(inode.ino, kind, attr, at, found, expected));
        }
    }

    /**
     * The records of one fork, read from the inode (EXTENTS) or through its bmbt (BTREE) and checked one by one as
     * they come: counted, their blocks summed and handed on; kept only when asked (symlinks and attribute forks,
     * whose blocks are read next).
     */
    final class ForkReader {
        private final Run run;
        private final boolean attr;
        private final FileType type;
        private final Mappings out;
        /** The records, in order, when kept; the valid ones only. */
        final List<Inode.Extent> map;
        /** Whether every record of the fork was read and valid (otherwise a block lookup may miss). */
        boolean mapComplete = true;
        boolean skipRanges;
        long records;
        long blocks;
        long lastEnd;
        private long prevEnd;
        /** The bmbt blocks met, made on the first (most forks have no bmbt). */
        private Set<Long> seen;
        /**
         * Per bmbt level: the block met last at that level (-1: none yet), and its right sibling pointer. Made when
         * the first bmbt root is read: two forks are read per inode and most have no bmbt.
         */
        private long[] lastAtLevel;
        private long[] rightOfLast;

        ForkReader(Run run, boolean attr, FileType type, Mappings out, boolean keep) {
            this.run = run;
            this.attr = attr;
            this.type = type;
            this.out = out;
            this.map = keep ? new ArrayList<>() : null;
        }

        void read(int format, int start, int size, long count) throws XfsException {
            byte[] raw = run.inode.core.raw();
            if (format == Inode.FMT_EXTENTS) {
                long fit = size / BMBT_REC;
                if (count > fit) {
                    run.fork(Kind.TOO_MANY_EXTENTS, attr, -1, count, fit);
                    unreadable(); // the count is what is wrong: the blocks it would give are noise
                }
                for (int i = 0; i < Math.min(count, fit); i++) {
                    record(Inode.record(raw, start + i * BMBT_REC));
                }
            } else if (format == Inode.FMT_BTREE) {
                btree(raw, start, size, count);
            }
        }

        /** The bmbt root in the inode (process_btinode), then each child. */
        private void btree(byte[] raw, int start, int size, long count) throws XfsException {
            long max = maxExtents(attr, (run.inode.core.get(F_FLAGS2) & DIFLAG2_NREXT64) != 0);
            if (count > max) {
                run.fork(Kind.TOO_MANY_EXTENTS, attr, -1, count, max);
            }
            int level = size >= 4 ? Inode.u16(raw, start) : 0;
            int numrecs = size >= 4 ? Inode.u16(raw, start + 2) : 0;
            int maxrecs = (size - 4) / 16;
            if (level == 0 || level > maxLevels[attr ? 1 : 0] || numrecs == 0 || numrecs > maxrecs) {
                run.fork(Kind.BMBT_ROOT, attr, -1, level, numrecs);
                unreadable();
                return;
            }
            if (lastAtLevel == null) {
                lastAtLevel = new long[MAX_DEPTH];
                rightOfLast = new long[MAX_DEPTH];
                java.util.Arrays.fill(lastAtLevel, -1);
            }
            long lastKey = -1;
            for (int i = 0; i < numrecs; i++) {
                long key = Inode.u64(raw, start + 4 + i * 8);
                long ptr = Inode.u64(raw, start + 4 + maxrecs * 8 + i * 8);
                lastKey = child(0, key, lastKey, ptr, level - 1, true);
            }
            if (records <= size / BMBT_REC && !run.forkUnreadable) {
                run.fork(Kind.BMBT_TOO_FEW, attr, -1, records, size / BMBT_REC);
            }
            for (int l = 0; l < level; l++) {
                if (lastAtLevel[l] >= 0 && rightOfLast[l] != -1) {
                    run.fork(Kind.BMBT_SIBLING, attr, lastAtLevel[l], rightOfLast[l], -1);
                }
            }
        }

        /**
         * One pointer of a node (or of the root, {@code parent} 0) and its key: the child walked, the key compared
         * with the child's first offset and with the keys before it. Returns the key.
         */
        private long child(long parent, long key, long lastKey, long pointer, int level, boolean underRoot) throws XfsException {
            long ptr = canonical(pointer);
            if (!validFsb(ptr)) {
                run.fork(Kind.BMBT_POINTER, attr, parent, ptr, -1);
                unreadable();
                return key;
            }
            long first = block(ptr, level, underRoot);
            if (first >= 0 && first != key) {
                run.fork(Kind.BMBT_KEY, attr, parent, key, first);
            } else if (lastKey >= 0 && key <= lastKey) {
                run.fork(Kind.BMBT_KEY, attr, parent, key, lastKey + 1);
            }
            return key;
        }

        /** A bmbt block at {@code level} (scan_bmapbt); returns the first file offset below it, or -1. */
        private long block(long fsb, int level, boolean underRoot) throws XfsException {
            if (seen == null) {
                seen = new HashSet<>();
            }
            if (!seen.add(fsb) || seen.size() > g.dataBlocks) {
                run.fork(Kind.BMBT_CYCLE, attr, fsb, -1, -1);
                unreadable();
                return -1;
            }
            blocks++;
            out.extent(fsb, 1, 0, attr, true, false);
            long offset = g.fsbOffset(fsb);
            byte[] b = image.read(offset, g.blockSize);
            Struct h = new Struct(Layouts.LBLOCK, b, 0);
            if (h.get("magic") != Inode.BMBT_MAGIC) {
                run.fork(Kind.BMBT_MAGIC, attr, fsb, h.get("magic"), Inode.BMBT_MAGIC);
                unreadable();
                return -1;
            }
            if (!h.crcValid(0, g.blockSize)) {
                run.fork(Kind.BMBT_CRC, attr, fsb, -1, -1); // xfs_repair reads on: the records may be fine
            }
            if (h.get("level") != level) {
                run.fork(Kind.BMBT_LEVEL, attr, fsb, h.get("level"), level);
                unreadable();
                return -1;
            }
            if (h.get("owner") != run.inode.ino) {
                run.fork(Kind.BMBT_OWNER, attr, fsb, h.get("owner"), run.inode.ino);
                unreadable();
                return -1;
            }
            if (h.get("blkno") != offset >> 9 || !Headers.sameUuid(h, g)) {
                run.fork(Kind.BMBT_HEADER, attr, fsb, h.get("blkno"), offset >> 9);
                unreadable();
                return -1;
            }
            // siblings: this block's left is the last block met at this level, whose right must be this one
            long left = h.get("leftsib");
            long expectedLeft = lastAtLevel[level];
            if (expectedLeft >= 0 && rightOfLast[level] != fsb) {
                run.fork(Kind.BMBT_SIBLING, attr, expectedLeft, rightOfLast[level], fsb);
            }
            if (left != expectedLeft) {
                run.fork(Kind.BMBT_SIBLING, attr, fsb, left, expectedLeft);
            }
            lastAtLevel[level] = fsb;
            rightOfLast[level] = h.get("rightsib");
            int numrecs = (int) h.get("numrecs");
            if (numrecs > bmbtMaxRecs || (!underRoot && numrecs < bmbtMinRecs)) {
                run.fork(Kind.BMBT_RECORDS, attr, fsb, numrecs, bmbtMaxRecs);
                if (numrecs > bmbtMaxRecs) {
                    unreadable();
                    return -1;
                }
            }
            if (level == 0) {
                long first = -1;
                for (int i = 0; i < numrecs; i++) {
                    Inode.Extent e = Inode.record(b, LBLOCK_HDR + i * BMBT_REC);
                    if (i == 0) {
                        first = e.startOff();
                    }
                    record(e);
                }
                return first;
            }
            long first = -1;
            long lastKey = -1;
            for (int i = 0; i < numrecs; i++) {
                long key = Inode.u64(b, LBLOCK_HDR + i * 8);
                if (i == 0) {
                    first = key;
                }
                lastKey = child(fsb, key, lastKey, Inode.u64(b, LBLOCK_HDR + bmbtMaxRecs * 8 + i * 8), level - 1, false);
            }
            return first;
        }

        private void unreadable() {
            mapComplete = false;
            run.forkUnreadable = true;
        }

        /** One record (process_bmbt_reclist_int): state, length, order, range, offset; its blocks handed on if valid. */
        private void record(Inode.Extent raw) throws XfsException {
            long start = canonical(raw.startBlock());
            Inode.Extent e = start == raw.startBlock() ? raw : new Inode.Extent(raw.startOff(), start, raw.count(), raw.unwritten());
            long index = records++;
            blocks += e.count();
            boolean ok = true;
            if (e.unwritten() && (attr || type != FileType.FILE)) {
                run.fork(Kind.EXTENT_UNWRITTEN, attr, index, e.startOff(), -1);
                ok = false;
            }
            if (e.count() == 0) {
                run.fork(Kind.EXTENT_ZERO_LENGTH, attr, index, e.startOff(), -1);
                ok = false;
            }
            if (index > 0 && e.startOff() < prevEnd) {
                run.fork(Kind.EXTENT_ORDER, attr, index, e.startOff(), prevEnd);
                ok = false;
            }
            prevEnd = e.startOff() + e.count();
            lastEnd = Math.max(lastEnd, prevEnd);
            if (e.startOff() + e.count() - 1 > maxFileBlock) {
                run.fork(Kind.EXTENT_OFFSET, attr, index, e.startOff(), maxFileBlock);
                ok = false;
            }
            boolean inFs = skipRanges || e.count() == 0 || rangeValid(index, e);
            if (e.count() > 0 && inFs && !skipRanges) {
                // the file owns these blocks even when the record breaks a rule of the map (an offset out of order,
                // an unwritten flag where none may be): free space is right to count them as used
                out.extent(e.startBlock(), e.count(), e.startOff(), attr, false, e.unwritten());
            }
            if (map != null && ok && inFs) {
                map.add(e);
            } else if (!ok || !inFs) {
                mapComplete = false;
            }
        }

        /** verify_dfsbno_range: both ends in one AG and valid data blocks. */
        private boolean rangeValid(long index, Inode.Extent e) {
            long last = e.startBlock() + e.count() - 1;
            if (g.agOf(e.startBlock()) != g.agOf(last)) {
                run.fork(Kind.EXTENT_CROSSES_AG, attr, index, e.startBlock(), -1);
                return false;
            }
            if (!validFsb(e.startBlock())) {
                run.fork(Kind.EXTENT_START, attr, index, e.startBlock(), -1);
                return false;
            }
            if (!validFsb(last)) {
                run.fork(Kind.EXTENT_END, attr, index, last, -1);
                return false;
            }
            return true;
        }
    }

    static final Layout.Field F_FLAGS = Layouts.DINODE.get("flags");
    static final Layout.Field F_FLAGS2 = Layouts.DINODE.get("flags2");
    private static final Layout.Field F_ONLINK = Layouts.DINODE.get("onlink");
    private static final Layout.Field F_BIG_NEXTENTS = Layouts.DINODE.get("big_nextents");
    private static final Layout.Field F_NEXTENTS = Layouts.DINODE.get("nextents");
    private static final Layout.Field F_ANEXTENTS = Layouts.DINODE.get("anextents");
    private static final Layout.Field F_FORKOFF = Layouts.DINODE.get("forkoff");
    private static final Layout.Field F_AFORMAT = Layouts.DINODE.get("aformat");
    private static final Layout.Field F_NBLOCKS = Layouts.DINODE.get("nblocks");
    private static final Layout.Field F_EXTSIZE = Layouts.DINODE.get("extsize");
    private static final Layout.Field F_COWEXTSIZE = Layouts.DINODE.get("cowextsize");
    private static final Layout.Field F_NEXT_UNLINKED = Layouts.DINODE.get("next_unlinked");
}
