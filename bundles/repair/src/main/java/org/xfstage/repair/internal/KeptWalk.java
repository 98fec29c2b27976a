package org.xfstage.repair.internal;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * What a repair's first scrub read in the inodes and the directory tree, kept for the re-checks of its plans, and the
 * walk of a view that reuses it: the metadata walked again, the first scrub's inode space merged into its space map,
 * its inode map, inode problems and file mappings lent; its link counts, record of the tree and tree-walk findings
 * lent too, or (when the plans write directories' data blocks) the tree walked again ({@link TreeAgain}).
 */
final class KeptWalk implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private XfArray space;
    private XfArray inodes;
    private XfArray links;
    private XfArray problems;
    private XfArray mappings;
    private XfArray walked;
    private XfBlob told;
    private byte[] chunks;
    /** The findings of the first scrub's tree-walk checks, by structure: they stand when the tree is not walked again. */
    private Map<String, List<Finding>> walkFindings = Map.of();
    /** Whether the first scrub's inode walk met an inode it could not read (its finding is that walk's own); null: not yet looked. */
    private Boolean unreadable;
    private PlannedSpace planned;
    /** The space map the last re-check staged by merging, and whether it holds the first scrub's records exactly. */
    private XfArray merged;
    private boolean mergedAsFirst;

    /**
     * Takes over the first scrub's observations (this closes them) while they are still staged.
     *
     * @param original the repair's open of the image, nothing planned in it
     */
    void keep(FsInfo info, long maxExtentLength, Observations staged, XfsDevice original) {
        space = staged.take(Observation.SPACE_MAP);
        inodes = staged.take(Observation.INODE_MAP);
        links = staged.take(Observation.LINK_COUNTS);
        problems = staged.take(Observation.INODE_PROBLEMS);
        mappings = staged.take(Observation.FILE_MAPPINGS); // null unless an rmapbt check asked for them
        walked = staged.take(Observation.DIRECTORY_WALK);
        told = staged.takeBlob(Observation.DIRECTORY_WALK);
        chunks = staged.chunks();
        walkFindings = staged.allWalkFindings();
        if (space != null && inodes != null && links != null && problems != null && chunks != null && info != null
                && maxExtentLength > 0) {
            planned = new PlannedSpace(space, info, maxExtentLength, original);
        }
    }

    /**
     * The first scrub's array of {@code o} while this keeps it (re-checks lend it, or compare what they make again with
     * it: KeptChecks), else null.
     */
    XfArray first(Observation o) {
        return switch (o) {
            case SPACE_MAP -> space;
            case INODE_MAP -> inodes;
            case LINK_COUNTS -> links;
            case INODE_PROBLEMS -> problems;
            case FILE_MAPPINGS -> mappings;
            case DIRECTORY_WALK -> walked;
            default -> null;
        };
    }

    /**
     * Whether {@code now}, a re-check's array of {@code o}, holds the first scrub's records exactly, when that was told
     * as it was made (the space map, merged: {@link #withInodeSpace}); null when it was not.
     */
    Boolean knownAsFirst(Observation o, XfArray now) {
        return o == Observation.SPACE_MAP && now != null && now == merged ? mergedAsFirst : null;
    }

    /** What of the first scrub's walk holds on a view with {@code blocks} planned. */
    PlannedSpace.Reach reach(List<BlockImage> blocks) {
        PlannedSpace.Reach r = planned == null ? PlannedSpace.Reach.INODES : planned.of(blocks);
        // the inode walk's own findings (an inode it cannot read) are not kept: then only a walk of everything has them
        return r == PlannedSpace.Reach.DIRECTORIES && anyUnreadable() ? PlannedSpace.Reach.INODES : r;
    }

    /** Whether the first inode map holds an inode the walk could not read (one pass, remembered). */
    private boolean anyUnreadable() {
        if (unreadable == null) {
            try {
                InodeMapRecord r = new InodeMapRecord();
                boolean found = false;
                for (long i = r.loadNext(inodes, 0); i >= 0 && !found; i = r.loadNext(inodes, i + 1)) {
                    found = r.state() == InodeMapRecord.State.UNREADABLE;
                }
                unreadable = found;
            } catch (StagingException e) {
                unreadable = true; // cannot tell: as if there were one
            }
        }
        return unreadable;
    }

    /**
     * The metadata walked again, the first scrub's inode space merged into its space map, its inodes lent; its tree
     * lent too, or walked again when {@code treeAgain}. False when the inobts list other chunks now.
     */
    boolean stage(ScrubRun.Walking w, boolean treeAgain) throws StagingException {
        try (XfArray meta = w.arrays().create("scrub " + w.run() + " metadata space", SpaceMapRecord.SIZE)) {
            SpaceWalk walk = new SpaceWalk(w.device(), w.info(), meta, null, w.findings()::add, w.progress());
            walk.rmapbtRecords(w); // the view's rmapbt, which a plan may have rebuilt
            w.progress().phase("re-check walk", w.info().agCount(), "AGs");
            walk.walk();
            if (!Arrays.equals(walk.chunks(), chunks)) {
                LOG.info("[{}] re-check: the inobts list other chunks now; the inodes are read again", w.run());
                return false;
            }
            w.progress().phase("re-check sort", meta.length(), "records");
            w.progress().step(meta.length());
            meta.sort(SpaceMapRecord.ORDER, SortOptions.DEFAULT, w.progress());
            w.progress().end();
            merged = w.space();
            mergedAsFirst = withInodeSpace(meta, space, w.space());
            w.figures().put("extents", walk.extents + w.space().length() - meta.length());
            w.figures().put("inodes_reused", inodes.length());
        }
        w.staged().borrow(Observation.INODE_MAP, inodes);
        w.staged().borrow(Observation.INODE_PROBLEMS, problems);
        if (mappings != null) {
            w.staged().borrow(Observation.FILE_MAPPINGS, mappings);
        }
        if (treeAgain) {
            TreeAgain.stage(w);
            LOG.info("[{}] walk: metadata and the directory tree again, the inodes' space, inode map and inode problems of the first scrub", w.run());
            return true;
        }
        w.staged().borrow(Observation.LINK_COUNTS, links);
        if (walked != null && told != null) { // what the tree walk read: the directories are as they were
            w.staged().borrow(Observation.DIRECTORY_WALK, walked, told);
        }
        // the checks that read the tree as it was walked: the tree is as it was, so are their findings
        walkFindings.forEach(w.staged()::walkFindings);
        LOG.info("[{}] walk: metadata again, the inodes' space, inode map, link counts and inode problems of the first scrub", w.run());
        return true;
    }

    /**
     * The metadata space map (sorted) with the first scrub's records of inode space merged in, in order, into {@code out};
     * whether {@code out} then holds the first scrub's space map record for record (KeptChecks reuses the checks that
     * read it when it does), told in the same pass over the first map the merge makes anyway.
     * <p>
     * Both inputs are sorted by position first ({@link SpaceMapRecord#ORDER}), and the merge takes the metadata's
     * record first on equal positions. The first map is itself an interleaving of its metadata records and its file
     * records, so the merge gives it back exactly when (1) its metadata records, in order, are the view's, byte for
     * byte, and (2) no file record comes before a metadata record of the same position in it (the merge would put that
     * one first; when any such pair is in a run of equal positions, two of them are neighbours, which is what is
     * looked at), with no null among its records.
     */
    static boolean withInodeSpace(XfArray meta, XfArray first, XfArray out) throws StagingException {
        SpaceMapRecord a = new SpaceMapRecord();
        SpaceMapRecord b = new SpaceMapRecord();
        Sameness same = new Sameness(meta, first);
        long i = a.loadNext(meta, 0);
        long j = nextOfInodes(first, 0, b, same);
        while (i >= 0 || j >= 0) {
            if (j < 0 || (i >= 0 && Long.compareUnsigned(a.position(), b.position()) <= 0)) {
                a.appendTo(out);
                i = a.loadNext(meta, i + 1);
            } else {
                b.appendTo(out);
                j = nextOfInodes(first, j + 1, b, same);
            }
        }
        return same.whole() && out.length() == first.length();
    }

    /** The next space map record of a file's (owner an inode number), or -1; every record passed told to {@code same}. */
    private static long nextOfInodes(XfArray space, long from, SpaceMapRecord r, Sameness same) throws StagingException {
        for (long i = r.loadNext(space, from); i >= 0; i = r.loadNext(space, i + 1)) {
            same.next(i, r);
            if (r.use().isFile()) {
                return i;
            }
        }
        return -1;
    }

    /** Whether the first space map, told record after record, is what the merge with the view's metadata gives. */
    private static final class Sameness {
        private final XfArray meta;
        private final XfArray first;
        private final ByteBuffer mine;
        private final ByteBuffer theirs;
        private long expected;
        private long metaNext;
        private boolean same = true;
        private boolean lastFile;
        private long lastPosition;

        Sameness(XfArray meta, XfArray first) {
            this.meta = meta;
            this.first = first;
            this.mine = ByteBuffer.allocate(SpaceMapRecord.SIZE);
            this.theirs = ByteBuffer.allocate(SpaceMapRecord.SIZE);
        }

        /** Record {@code index} of the first map, loaded into {@code r}. */
        void next(long index, SpaceMapRecord r) throws StagingException {
            if (!same) {
                return;
            }
            if (index != expected++) {
                same = false; // a null in the first map: the merged one has none
                return;
            }
            boolean file = r.use().isFile();
            if (!file) {
                // a metadata record: the view's next one, byte for byte (few: the records are read raw once more)
                metaNext = meta.loadNext(metaNext, theirs);
                first.load(index, mine);
                same = metaNext >= 0 && mine.equals(theirs) && !(lastFile && r.position() == lastPosition);
                metaNext++;
            }
            lastFile = file;
            lastPosition = r.position();
        }

        /** Every record of both told, and all alike. */
        boolean whole() throws StagingException {
            return same && meta.loadNext(metaNext, theirs) < 0;
        }
    }

    @Override
    public void close() {
        for (XfArray a : new XfArray[] {space, inodes, links, problems, walked, mappings}) {
            if (a != null) {
                a.close();
            }
        }
        if (told != null) {
            told.close();
        }
    }
}
