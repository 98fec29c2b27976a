package org.xfstage.api.device;

import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;

/**
 * An open XFS filesystem. Holds a lock on the image until {@link #close()}. Not thread-safe.
 */
@ProviderType
public interface XfsDevice extends AutoCloseable {

    /** The image file or device this was opened from. */
    String source();

    /** Geometry and counters, per AG too. */
    FsInfo info() throws XfsException;

    /**
     * Walks every path from the root, depth first in directory order, and hands each to {@code sink}.
     *
     * @param checksums whether to read regular files and report their SHA-256
     * @throws XfsFormatException at the first structure that cannot be decoded (with where it is)
     */
    void manifest(boolean checksums, Progress progress, Consumer<ManifestEntry> sink) throws XfsException, CancelledException;

    /**
     * Reads directory {@code ino} with every check the format allows on its own, and hands each entry it can decode and
     * each problem it finds to {@code sink}; damage is reported, never thrown. Covers the four forms (short form,
     * block, leaf, node): names, file types, inode numbers (valid numbers of this filesystem, not that they are in
     * use), "." and "..", short-form counts, each data block's header, entries and table of free regions, the hash of
     * every name against the hash index, the index's order, addresses, counts and tail, its node keys against their
     * children, the free index against the data blocks, and the inode's size against the last data block. Whether the
     * named inodes exist and what they are is for the caller to check (a tree walk: {@link #directoryTree}). Every
     * loop is bounded: a corrupt count or pointer ends that part of the read with a problem.
     *
     * @throws XfsFormatException when the inode cannot be read
     * @throws XfsException       when the inode is not a directory, or the device reads no directories (the default,
     *                            for devices made before this method)
     */
    default void directory(long ino, DirectorySink sink) throws XfsException {
        throw new XfsException(source() + ": this device does not read directories");
    }

    /**
     * Walks the directory tree from the root, reading each directory reached as {@link #directory} does and each
     * inode an entry other than "." names (for its type, {@link DirectorySink#child}); each directory is read once, however many
     * entries name it, and the walk goes on past damage. Before a directory's entries, {@link DirectorySink#directory}
     * says which one and its path.
     *
     * @throws XfsException when the device reads no directories (the default, for devices made before this method)
     */
    default void directoryTree(Progress progress, DirectorySink sink) throws XfsException, CancelledException {
        throw new XfsException(source() + ": this device does not read directories");
    }

    /**
     * Walks one per-AG btree from its root (in the AGF or AGI) to its leaves, left to right, verifying every block on
     * the way (magic, CRC, self-describing header, level, record count, sibling links, key order), and hands each
     * leaf record to {@code sink}.
     *
     * @return the number of blocks of the tree
     * @throws XfsFormatException at the first block or record that is wrong, naming it; also when the filesystem
     *                            has no such tree (rmapbt, refcountbt and finobt are optional)
     */
    <R> long walkBtree(int agno, Btree<R> tree, java.util.function.Consumer<? super R> sink) throws XfsException;

    /** As {@link #walkBtree(int, Btree, java.util.function.Consumer)}, also reporting the AG block number of every block of the tree. */
    <R> long walkBtree(int agno, Btree<R> tree, java.util.function.Consumer<? super R> sink, java.util.function.LongConsumer blocks)
            throws XfsException;

    /**
     * The blocks of a per-AG btree, found by following its pointers from the root without reading its records or
     * keys and without checking CRCs: each block must only be a block of this tree (magic, self-described place and
     * owner, level) met once. For a rebuild into the old tree's own blocks when its records are what is damaged.
     *
     * @return the AG block numbers, sorted
     * @throws XfsFormatException when the pointers do not lead to such blocks
     */
    long[] btreeBlocks(int agno, BtreeType type) throws XfsException;

    /**
     * Every block of AG {@code agno} that belongs to the filesystem's own structures rather than to a btree or a
     * file: the AG headers, the blocks on the AGFL, and the part of the internal log in this AG, each reported as
     * (agbno, length, use) with use {@link SpaceUse#HEADERS}, {@link SpaceUse#AGFL} or {@link SpaceUse#LOG}.
     */
    void staticSpace(int agno, SpaceSink sink) throws XfsException;

    /**
     * The blocks inode {@code ino} uses: its data fork extents and bmbt blocks, reported as (agno, agbno, length,
     * bmbt). Also says whether the inode is in use (its mode is not zero).
     *
     * @return true when the inode is in use
     */
    boolean inodeSpace(long ino, InodeSpaceSink sink) throws XfsException;

    /**
     * The reverse mappings of inode {@code ino}: every extent of its data and attribute forks with its file offset,
     * and every block of their bmbts (offset 0), as the rmapbt would hold them, each with its AG. Extents come in
     * offset order per fork, each as the inode maps it (adjacent ones are not merged).
     *
     * @return true when the inode is in use (nothing is reported otherwise)
     */
    boolean inodeMappings(long ino, MappingSink sink) throws XfsException;

    /** Receives the reverse mappings of an inode. */
    @FunctionalInterface
    interface MappingSink {
        void mapping(int agno, ReverseMapping mapping);
    }

    /** Receives (agbno, length, use) extents of one AG. */
    @FunctionalInterface
    interface SpaceSink {
        void extent(long agbno, long length, SpaceUse use);
    }

    /** Receives (agno, agbno, length) extents used by an inode; {@code bmbt} tells a bmbt block from data. */
    @FunctionalInterface
    interface InodeSpaceSink {
        void extent(int agno, long agbno, long length, boolean bmbt);
    }

    /** The inode number of the first inode of a chunk that starts at {@code agino} in AG {@code agno}. */
    long inodeNumber(int agno, long agino);

    /** Blocks an inode chunk of 64 inodes occupies, and inodes per block (for the space of inode chunks). */
    int inodesPerBlock();

    /**
     * The fields of a header as they are on disk ({@code agi_unlinked[3]} is {@link HeaderField#agiUnlinked}(3)); the
     * header must be the structure it claims to be (magic).
     *
     * @param agno the AG (0 for the primary superblock)
     */
    java.util.Map<HeaderField, Long> header(HeaderKind kind, int agno) throws XfsException;

    /**
     * A header with some counters set to new values, encoded as the device writes it (CRC set); only the counters
     * listed in {@link HeaderKind} are accepted, {@link HeaderField#NULL} empties a pointer.
     *
     * @param agno the AG (0 for the superblock)
     */
    BlockImage updateHeader(HeaderKind kind, int agno, java.util.Map<HeaderField, Long> counters) throws XfsException;

    /**
     * The AGI's unlinked buckets that are not empty: bucket number to the AG inode number at the head of its list.
     */
    java.util.Map<Integer, Long> unlinkedBuckets(int agno) throws XfsException;

    /**
     * A new AGFL for the AG holding exactly {@code blocks} (slots 0..n-1): the AGF must then be updated with flfirst 0,
     * fllast n-1 and flcount n.
     */
    BlockImage rebuildAgfl(int agno, long[] blocks) throws XfsException;

    /**
     * An inode with some core fields set to new values, encoded as the device writes it (CRC set); the inode must
     * decode as a v3 inode of this filesystem.
     */
    BlockImage updateInode(long ino, java.util.Map<InodeField, Long> fields) throws XfsException;

    /**
     * Blocks the AGFL must hold so that the AG's btrees can split at every level (xfs_alloc_min_freelist): from the
     * heights of the free-space trees and, on a filesystem with an rmapbt, of the rmapbt.
     */
    int minFreelist(int bnoLevels, int cntLevels, int rmapLevels);

    /** The longest extent one refcountbt record may describe (XFS_REFC_LEN_MAX). */
    long maxRefcountLength();

    /** The longest extent one block mapping may describe (XFS_MAX_BMBT_EXTLEN): no file extent is longer. */
    long maxExtentLength();

    /**
     * Fewest blocks a per-AG btree of {@code records} leaf records needs when bulk loaded with full blocks (at least one:
     * an empty tree is one empty leaf).
     */
    int btreeBlocksNeeded(BtreeType type, long records);

    /**
     * Whether a bulk-loaded btree of {@code records} records can take exactly {@code blocks} blocks: from
     * {@link #btreeBlocksNeeded} up to as many as keep every block but the root at least half full (as xfs_repair
     * requires). A rebuild that fits the old tree's block count can reuse its blocks and leave free space alone.
     */
    boolean btreeFits(BtreeType type, long records, int blocks);

    /**
     * Bulk-loads a per-AG btree: leaves filled in order with the records, spread evenly over as many leaves as
     * {@code blocks} allows, then the node levels above them with the keys of each child (the rmapbt's nodes hold a
     * low and a high key), sibling links, headers and CRCs set; blocks are used in the order given (leaves first,
     * the root last).
     *
     * @param records the records in tree order
     * @param blocks  the AG block numbers to build into: a count for which {@link #btreeFits} holds
     * @return the block images, the root being the last one's block; {@link BulkLoad#levels()} the height
     */
    default <R> BulkLoad bulkLoad(int agno, Btree<R> tree, java.util.List<? extends R> records, long[] blocks) throws XfsException {
        return bulkLoad(agno, tree, records.size(), records.iterator(), blocks);
    }

    /**
     * As {@link #bulkLoad(int, Btree, java.util.List, long[])}, the records read once, in order, from
     * {@code records} (for example straight from a sorted xfarray): only the blocks being built are held, never the
     * records. The iterator must give exactly {@code count} records; an exception it throws ends the load.
     */
    <R> BulkLoad bulkLoad(int agno, Btree<R> tree, long count, java.util.Iterator<? extends R> records, long[] blocks)
            throws XfsException;

    /**
     * A bulk-loaded btree.
     *
     * @param blocks its block images
     * @param root   the AG block number of its root
     * @param levels its height
     */
    record BulkLoad(java.util.List<BlockImage> blocks, long root, int levels) {
    }

    /**
     * The fields of the superblock copy in AG {@code agno} that every copy must share with the primary (geometry,
     * identity, features, label: everything but the counters, which only the primary keeps), by C name without prefix.
     */
    java.util.Map<HeaderField, Long> superblockIdentity(int agno) throws XfsException;

    /** The superblock copy of AG {@code agno} rewritten with the primary's identity fields (its own counters kept). */
    BlockImage secondarySuperblockFromPrimary(int agno) throws XfsException;

    /** Decodes and verifies a block image as the structure it claims to be; throws if it would not read back. */
    void verify(BlockImage block) throws XfsException;

    /**
     * Writes blocks, journaled: first an undo journal at {@code journal} with the old contents of every block (and a
     * digest of the new ones), forced to disk with its directory; then the blocks, forced to disk and read back
     * (each must equal what was planned). Needs a device opened for writing.
     *
     * @throws XfsException when the device is read-only, the journal cannot be made durable, or a write fails (the
     *                      journal then restores the image with {@link XfsDeviceService#undo})
     */
    void commit(java.util.List<BlockImage> blocks, java.nio.file.Path journal) throws XfsException;

    /**
     * A read-only view of this filesystem as it would be with {@code blocks} written: every read sees their
     * contents, nothing is written. For checking a repair before it is committed. The view uses this device's open
     * image: close it before this device (closing it releases nothing).
     */
    XfsDevice withPlanned(java.util.List<BlockImage> blocks) throws XfsException;

    /** Releases the image and its lock. */
    @Override
    void close();
}
