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
     * Walks one per-AG btree from its root (in the AGF or AGI) to its leaves, left to right, verifying every block on
     * the way (magic, CRC, self-describing header, level, record count, sibling links, key order), and hands each
     * leaf record to {@code sink} as the fields {@link BtreeType} lists.
     *
     * @return the number of blocks of the tree
     * @throws XfsFormatException at the first block or record that is wrong, naming it; also when the filesystem
     *                            has no such tree (rmapbt, refcountbt and finobt are optional)
     */
    long walkBtree(int agno, BtreeType type, java.util.function.Consumer<long[]> sink) throws XfsException;

    /** As {@link #walkBtree(int, BtreeType, java.util.function.Consumer)}, also reporting the AG block number of every block of the tree. */
    long walkBtree(int agno, BtreeType type, java.util.function.Consumer<long[]> sink, java.util.function.LongConsumer blocks)
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
     * file: the AG headers, the blocks on the AGFL, and the part of the internal log in this AG. Reported as
     * (agbno, length, owner) with owner one of {@link #OWNER_HEADERS}, {@link #OWNER_AGFL}, {@link #OWNER_LOG}.
     */
    void staticSpace(int agno, SpaceSink sink) throws XfsException;

    /**
     * The blocks inode {@code ino} uses: its data fork extents and bmbt blocks, reported as (agno, agbno, length,
     * owner = ino). Also says whether the inode is in use (its mode is not zero).
     *
     * @return true when the inode is in use
     */
    boolean inodeSpace(long ino, InodeSpaceSink sink) throws XfsException;

    /**
     * The reverse mappings of inode {@code ino}: every extent of its data and attribute forks with its file offset,
     * and every block of their bmbts, as (agno, agbno, length, offset, flags) with the flags of
     * {@link BtreeType#RMAP} records (bit 2 attribute fork, bit 1 bmbt block, bit 0 unwritten; bmbt blocks have
     * offset 0). Extents come in offset order per fork, each as the inode maps it (adjacent ones are not merged).
     *
     * @return true when the inode is in use (nothing is reported otherwise)
     */
    boolean inodeMappings(long ino, MappingSink sink) throws XfsException;

    /** Receives the reverse mappings of an inode. */
    @FunctionalInterface
    interface MappingSink {
        void mapping(int agno, long agbno, long length, long offset, int flags);
    }

    /** rmap owner (XFS_RMAP_OWN_FS) of the AG headers. */
    long RMAP_OWN_FS = -3;
    /** rmap owner of the internal log. */
    long RMAP_OWN_LOG = -4;
    /** rmap owner of the free-space and reverse-mapping btrees and the AGFL's blocks. */
    long RMAP_OWN_AG = -5;
    /** rmap owner of the inode btrees. */
    long RMAP_OWN_INOBT = -6;
    /** rmap owner of inode chunks. */
    long RMAP_OWN_INODES = -7;
    /** rmap owner of the refcount btree. */
    long RMAP_OWN_REFC = -8;
    /** rmap owner of copy-on-write staging extents. */
    long RMAP_OWN_COW = -9;

    /** Owner of AG header blocks in {@link #staticSpace}. */
    long OWNER_HEADERS = -5;
    /** Owner of AGFL blocks in {@link #staticSpace}. */
    long OWNER_AGFL = -6;
    /** Owner of log blocks in {@link #staticSpace}. */
    long OWNER_LOG = -4;

    /** Receives (agbno, length, owner) extents of one AG. */
    @FunctionalInterface
    interface SpaceSink {
        void extent(long agbno, long length, long owner);
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
     * The fields of a header as they are on disk, by C name without prefix ({@code agi_unlinked[3]} is
     * {@code unlinked3}); the header must be the structure it claims to be (magic).
     *
     * @param agno the AG (0 for the primary superblock)
     */
    java.util.Map<String, Long> header(HeaderKind kind, int agno) throws XfsException;

    /**
     * A header with some counters set to new values, encoded as the device writes it (CRC set). Field names are the
     * C names without prefix (agf_freeblks is "freeblks"); only the counters listed in {@link HeaderKind} are
     * accepted.
     *
     * @param agno the AG (0 for the superblock)
     */
    BlockImage updateHeader(HeaderKind kind, int agno, java.util.Map<String, Long> counters) throws XfsException;

    /**
     * A new AGFL for the AG holding exactly {@code blocks} (slots 0..n-1): the AGF must then be updated with flfirst 0,
     * fllast n-1 and flcount n.
     */
    BlockImage rebuildAgfl(int agno, long[] blocks) throws XfsException;

    /**
     * An inode with some core fields set to new values, encoded as the device writes it (CRC set); the inode must
     * decode as a v3 inode of this filesystem. Only {@code nlink} is accepted.
     */
    BlockImage updateInode(long ino, java.util.Map<String, Long> fields) throws XfsException;

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
     * @param records the records in tree order, as {@link BtreeType} lists their fields
     * @param blocks  the AG block numbers to build into: a count for which {@link #btreeFits} holds
     * @return the block images, the root being the last one's block; {@link BulkLoad#levels()} the height
     */
    default BulkLoad bulkLoad(int agno, BtreeType type, java.util.List<long[]> records, long[] blocks) throws XfsException {
        return bulkLoad(agno, type, records.size(), records.iterator(), blocks);
    }

    /**
     * As {@link #bulkLoad(int, BtreeType, java.util.List, long[])}, the records read once, in order, from
     * {@code records} (for example straight from a sorted xfarray): only the blocks being built are held, never the
     * records. The iterator must give exactly {@code count} records; an exception it throws ends the load.
     */
    BulkLoad bulkLoad(int agno, BtreeType type, long count, java.util.Iterator<long[]> records, long[] blocks) throws XfsException;

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
    java.util.Map<String, Long> superblockIdentity(int agno) throws XfsException;

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
