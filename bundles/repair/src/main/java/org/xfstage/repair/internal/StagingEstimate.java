package org.xfstage.repair.internal;


import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.repair.SpaceMapRecord;

/**
 * The memory bill of a scrub, made before anything is staged: the peak of the xfile bytes a whole walk and the checks
 * of the built-in strategies will use at one moment, from the counts of the superblock and the AG headers (inodes
 * allocated and free in the AGIs, free blocks in the AGFs, the log's and the btrees' blocks), which cost no read beyond
 * the ones that opened the image.
 * <p>
 * What is staged, as measured on the corpus and the benchmark images (StagingEstimateTest keeps this model honest):
 * the engine's inode map (one record per inode of every chunk), link counts (one per entry naming an inode in use, one
 * per ".."), space map (one per run of inode-chunk blocks, one per file extent, a few per AG); then, while they are
 * alive, the directory check's own (it reads the tree walk as it happens and holds each directory's names on the heap:
 * it stages only two links and a path per directory), and on an rmapbt filesystem the walk's file mappings (one
 * {@link MappingRecord} per file extent, sorted with the engine's maps), the rmapbt's records as the walk read them
 * (for the rmapbt and inobt checks, from the walk on) and the rmapbt check's array of the metadata's reverse mappings
 * (and of an AG the walk could not read whole; both merged sides where one comes out of tree order, reflink, are not
 * counted). A sort past one chunk of records writes a second file as large as its array while it runs; the engine's
 * own sorts consume their input (its pages given back as the new file fills), so they stage little beyond it. Arrays
 * grow by pages, appended ones {@value #GROW_BYTES} bytes at a time.
 * <p>
 * The file extents are not in any header: they are taken as the blocks in use outside inode chunks, the log and the
 * btrees, but no more than one per inode in use — right for inode-bound filesystems (empty or one-block files) and an
 * over-estimate of a small part of the bill where files hold many blocks in few extents. Directory and name counts
 * are taken as one entry per inode in use; long names make the names larger than estimated.
 *
 * @param total       the peak bytes of staging the run will use at one moment
 * @param largestFile the bytes of the largest single staging file
 * @param basis       what the estimate was made from, for a person
 */
record StagingEstimate(long total, long largestFile, String basis) {

    /** The directory check's per-directory arrays: links (two records of 24 bytes) and paths (16 bytes). */
    private static final int PER_DIRECTORY_BYTES = 2 * 24 + 16;
    /** A directory's path in the directory check's blob (with the blob's header), as the benchmark images have them. */
    private static final int PATH_BYTES = 48;
    /** xfile pages, and how an appended array grows (the xfile's allocation ahead of appends). */
    private static final int PAGE = 4096;
    static final int GROW_BYTES = 16 * PAGE;
    /** A sort of more records than one chunk (the xfarray sort's chunk: 4 MiB, at most 2^18 records) writes a new file. */
    private static final long SORT_CHUNK_BYTES = 4L << 20;
    private static final long SORT_CHUNK_RECORDS = 262_144;
    /** What a consuming sort stages beyond its array while it runs, at most (see consumingExtra). */
    private static final long CONSUMING_SORT_BYTES = 2L << 20;
    /** Space map records per AG beyond its inodes and extents: headers, AGFL, btree roots. */
    private static final int PER_AG_RECORDS = 8;

    /** The structures of the strategies whose own staging the bill counts (the others stage little). */
    static final String DIRECTORY_CHECK = "directory";
    static final String RMAPBT_CHECK = "rmapbt";
    /** The inobt check, whose proof reads the rmapbt's records the walk staged. */
    static final String INOBT_CHECK = "inobt";

    /**
     * The directory rebuild's record of each directory it does not read again (DirectoryRebuildPlan reads the walk by
     * directory and stages entries only for the directories it may rebuild, a few).
     */
    private static final int REBUILD_DIRECTORY_BYTES = 16;
    /** The directory rebuild's other arrays and blob: entries salvaged, rebuilt directories' entries, kept, links, drops, cut names. */
    private static final int REBUILD_ARRAYS = 6;
    /** An entry's name in the tree walk's blob, with the blob's header, as the benchmark images have them. */
    private static final int NAME_BYTES = 24;

    /** The bill of a whole scrub with every strategy. */
    static StagingEstimate of(FsInfo info, int inodesPerBlock) {
        return of(info, inodesPerBlock, java.util.Set.of(DIRECTORY_CHECK, RMAPBT_CHECK, INOBT_CHECK));
    }

    /** The bill of a scrub whose checks are those of {@code structures}, staging no tree walk for plans. */
    static StagingEstimate of(FsInfo info, int inodesPerBlock, java.util.Set<String> structures) {
        return of(info, inodesPerBlock, structures, false);
    }

    /**
     * The bill of a scrub of a filesystem with these figures and {@code inodesPerBlock} inodes in a block, whose checks
     * are those of {@code structures} (a scrub of some structures only does not pay for the directory check's staging);
     * {@code directoryWalk}: a repair's scrub stages the tree walk for the plans that read it (a record per directory and
     * per entry, names and paths in a blob), alive from the walk to the end of the planning.
     */
    static StagingEstimate of(FsInfo info, int inodesPerBlock, java.util.Set<String> structures, boolean directoryWalk) {
        int perBlock = Math.max(1, inodesPerBlock);
        long inodes = 0; // in chunks, allocated or free
        long free = 0;
        long freeBlocks = 0;
        long treeBlocks = 0;
        for (FsInfo.AgInfo ag : info.ags()) {
            // the counts of a damaged header are bounded by what its AG can hold, so that a fuzzed count cannot make
            // the bill refuse a run that would fit: the scrub is there to report that header
            long length = Math.max(0, ag.length());
            long agInodes = clamp(ag.inodes(), length * perBlock);
            inodes += agInodes;
            free += clamp(ag.freeInodes(), agInodes);
            freeBlocks += clamp(ag.freeBlocks(), length);
            treeBlocks += clamp(ag.btreeBlocks(), length) + clamp(ag.rmapBlocks(), length) + clamp(ag.refcountBlocks(), length);
        }
        if (inodes == 0) { // no AGI counted any (all damaged): the superblock's count, bounded the same way
            inodes = clamp(info.icount(), Math.max(0, info.dataBlocks()) * perBlock);
            free = clamp(info.ifree(), inodes);
        }
        long inUse = inodes - free;
        long inodeBlocks = (inodes + perBlock - 1) / perBlock;
        long otherUsed = Math.max(0, info.dataBlocks() - freeBlocks - inodeBlocks - info.logBlocks() - treeBlocks);
        long fileExtents = Math.min(otherUsed, inUse);
        long ags = info.agCount();

        // runs of inode-chunk blocks are one record each: at most one per chunk (fewer where chunks lie side by side)
        long chunks = (inodes + InodeChunk.INODES - 1) / InodeChunk.INODES;
        long spaceRecords = chunks + fileExtents + PER_AG_RECORDS * ags;
        long directories = 1 + inUse / 1000;
        long linkRecords = inUse + directories; // one per entry naming an inode in use, one ".." per directory

        long inodeMap = appended(inodes * InodeMapRecord.SIZE);
        long links = sortedSize(linkRecords, LinkCountRecord.SIZE);
        long space = sortedSize(spaceRecords, SpaceMapRecord.SIZE);
        // the directory check's own staging lives from the tree walk to its end: links and paths of each directory
        long directoryCheck = structures.contains(DIRECTORY_CHECK) ? appended(directories * PER_DIRECTORY_BYTES / 3 * 2)
                + appended(directories * PER_DIRECTORY_BYTES / 3) + appended(directories * PATH_BYTES) : 0;
        // the walk's end: the link counts sorted while the space map waits, then the space map sorted
        long linkSort = directoryCheck + inodeMap + appended(spaceRecords * SpaceMapRecord.SIZE)
                + appended(linkRecords * LinkCountRecord.SIZE) + consumingExtra(linkRecords, LinkCountRecord.SIZE);
        long spaceSort = directoryCheck + inodeMap + links + appended(spaceRecords * SpaceMapRecord.SIZE)
                + consumingExtra(spaceRecords, SpaceMapRecord.SIZE);
        long engine = directoryCheck + inodeMap + links + space;
        long peak = Math.max(linkSort, spaceSort);
        long largest = Math.max(inodeMap, Math.max(links, space));
        // on rmapbt: one record per file extent, per run of inode chunks, per piece of AG metadata
        long rmapRecords = fileExtents + chunks + PER_AG_RECORDS * ags;
        if (info.hasTree(BtreeType.RMAP) && (structures.contains(RMAPBT_CHECK) || structures.contains(INOBT_CHECK))) {
            long one = appended(rmapRecords * MappingRecord.SIZE);
            peak += one;
            engine += one;
            largest = Math.max(largest, one);
        }
        long resident = engine; // what stays staged from the sorts to the end of the plans
        if (info.hasTree(BtreeType.RMAP) && structures.contains(RMAPBT_CHECK)) {
            // the walk's file mappings live from the walk on, beside the engine's maps, sorted after the space map; the
            // check stages the metadata's records apart and merges them with the walk's as it compares
            long walkedRecords = fileExtents;
            long walked = sortedSize(walkedRecords, MappingRecord.SIZE);
            long mappingSort = engine + appended(walkedRecords * MappingRecord.SIZE) + consumingExtra(walkedRecords, MappingRecord.SIZE);
            long metadata = appended((rmapRecords - fileExtents) * MappingRecord.SIZE);
            peak = Math.max(Math.max(peak + walked, mappingSort), engine + walked + metadata);
            resident += walked;
            largest = Math.max(largest, walked);
        }
        if (directoryWalk) {
            // staged after the checks (WalkForPlans), beside what the engine keeps, then read by the directory rebuild,
            // whose own staging is one record per directory and a few small arrays (the entries of the directories it
            // reads again; a walk it cannot read by directory, never the engine's, would stage one record per entry)
            long records = linkRecords + directories; // entries in use, "." and ".." of each directory, the directory itself
            long walk = appended(records * DirectoryWalkRecord.SIZE) + appended(inUse * NAME_BYTES + directories * PATH_BYTES);
            long rebuild = appended(directories * REBUILD_DIRECTORY_BYTES) + REBUILD_ARRAYS * (PAGE + GROW_BYTES);
            peak = Math.max(peak, resident + walk + rebuild);
            largest = Math.max(largest, appended(records * DirectoryWalkRecord.SIZE));
        }
        String basis = String.format("%,d inodes in %,d AGs, %,d in use, about %,d extents", inodes, ags, inUse, fileExtents);
        return new StagingEstimate(peak, largest, basis);
    }

    private static long clamp(long value, long most) {
        return Math.max(0, Math.min(value, most));
    }

    /** Bytes an array of {@code bytes} takes when appended to: the first page, then whole growth steps. */
    static long appended(long bytes) {
        if (bytes <= 0) {
            return 0;
        }
        if (bytes <= PAGE) {
            return PAGE;
        }
        return PAGE + (bytes - PAGE + GROW_BYTES - 1) / GROW_BYTES * GROW_BYTES;
    }

    /**
     * What a sort that consumes its input (the engine's sorts: SortOptions#consumeInput) stages beyond the array while
     * it runs: the pages it has read but not yet given back and the new file's partly filled pages, measured at about
     * 1.3-2.4 MiB on the benchmark images with two processors; never more than the second file of a sort that keeps it.
     */
    private static long consumingExtra(long records, int size) {
        return Math.min(sortExtra(records, size), CONSUMING_SORT_BYTES);
    }

    /** Bytes an array of {@code records} takes after its sort: the sort's new file, exact to the page, when there is one. */
    private static long sortedSize(long records, int size) {
        long extra = sortExtra(records, size);
        return extra > 0 ? extra : appended(records * size);
    }

    /** The second file a sort of {@code records} writes while it runs (none when they fit one chunk, sorted in memory). */
    private static long sortExtra(long records, int size) {
        long chunk = Math.min(SORT_CHUNK_RECORDS, SORT_CHUNK_BYTES / size);
        if (records <= chunk) {
            return 0;
        }
        return (records * size + PAGE - 1) / PAGE * PAGE;
    }

    /** Bytes as a person reads them: KiB, MiB or GiB. */
    static String size(long bytes) {
        double kib = bytes / 1024.0;
        if (kib >= 1024 * 1024) {
            return String.format("%.1f GiB", kib / (1024 * 1024));
        }
        if (kib >= 1024) {
            return String.format("%.1f MiB", kib / 1024);
        }
        return String.format("%.0f KiB", Math.ceil(kib));
    }

    @Override
    public String toString() {
        return size(total) + " (" + basis + "), largest file " + size(largestFile);
    }
}
