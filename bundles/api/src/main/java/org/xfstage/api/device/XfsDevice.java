package org.xfstage.api.device;

import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;

/**
 * An open XFS filesystem. Holds a lock on the image until {@link #close()}.
 * <p>
 * <b>Threads.</b> Reads (decoding, walks of btrees, inodes) may be made from several threads at once: a scrub walks
 * AGs in parallel. Writes, {@link #withPlanned views} and {@link #close()} are made by one thread, when no read runs.
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
     * inode an entry other than "." names (for its type and link count, {@link DirectorySink#child}); each directory is
     * read once, however many entries name it, and the walk goes on past damage. Before a directory's entries,
     * {@link DirectorySink#directory} says which one, its path and its link count. One walk serves both link counting
     * and the directory checks (the scrub's).
     *
     * @throws XfsException when the device reads no directories (the default, for devices made before this method)
     */
    default void directoryTree(Progress progress, DirectorySink sink) throws XfsException, CancelledException {
        throw new XfsException(source() + ": this device does not read directories");
    }

    /**
     * Walks one per-AG btree from its root ({@link #btreeRoot}) to its leaves, left to right, verifying every block on
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
     * The root block and height a walk of a per-AG btree starts from. The AG header (AGF or AGI) names it: its pointer
     * and height are taken when the block it names is a block of this tree (magic, self-described place, owner and
     * uuid); whatever else is wrong with that block (level, siblings, checksum, records) is its walk's to report, and no
     * other block replaces it. An AGF or AGI that does not decode (bad magic or checksum) is read for its pointers all
     * the same, as xfs_repair does; the header itself is reported by the checks that read it with {@link #header}.
     * <p>
     * When the pointer leads out of the tree (another tree's block, a header, past the AG, an impossible height), the
     * root is searched for ({@link #findBtreeRoots}): of the candidates,
     * those that head a tree that walks cleanly, less those with a block that is free (in the other free-space btree
     * for the bnobt and cntbt, in the bnobt for the rest) or on the AGFL, since a rebuilt tree leaves its old blocks
     * with their headers. That free-space btree is walked from its own header's pointer only, so that one search never
     * leans on another. Exactly one candidate must remain; then the walks use it, and a check comparing it with the
     * header's pointer finds the header wrong.
     *
     * @throws XfsFormatException when the pointer leads to no root and no single block is proven one (none remains,
     *                            several do, or the free-space btree that tells them apart cannot be walked)
     */
    BtreeRoot btreeRoot(int agno, BtreeType type) throws XfsException;

    /**
     * Every block of AG {@code agno} that could be the root of a per-AG btree of this type, by reading the header of
     * every block of the AG once: a block of such a tree in this AG (magic, self-described place and owner, uuid)
     * with no siblings, as a root stands alone at its level. Tallest first, then by block number. Blocks of old trees
     * (rebuilt elsewhere, given back to free space or to the AGFL) look the same: the caller picks the one the tree's
     * other blocks hang from, for example the one the scrub's walk found in use by that tree.
     *
     * @throws XfsFormatException when the filesystem has no such tree, or more than a few thousand blocks look like
     *                            its root (a trashed AG, not old copies of a tree)
     */
    java.util.List<BtreeRoot> findBtreeRoots(int agno, BtreeType type) throws XfsException;

    /**
     * Whether block {@code agbno} of AG {@code agno} could be the root of a per-AG btree of this type, by the test of
     * {@link #findBtreeRoots} on that block alone (one header read): its root and height, or null. For callers that
     * know which blocks to ask about (those the scrub's walk found in use by the tree), so that a whole AG is not read:
     * on a large AG that is a gigabyte of reads. The default (for devices made before this method) asks
     * {@link #findBtreeRoots}.
     *
     * @throws XfsFormatException when the filesystem has no such tree
     */
    default BtreeRoot rootCandidate(int agno, BtreeType type, long agbno) throws XfsException {
        for (BtreeRoot c : findBtreeRoots(agno, type)) {
            if (c.block() == agbno) {
                return c;
            }
        }
        return null;
    }

    /**
     * A per-AG btree's root.
     *
     * @param block  its AG block number
     * @param levels the tree's height (1: the root is a leaf), as the AGF and AGI count it
     */
    record BtreeRoot(long block, int levels) {
    }

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
     * As {@link #inodeSpace(long, InodeSpaceSink)}, verifying the inode whole in the same read (as
     * {@link #checkInode} does) and reporting every rule it breaks to {@code problems}. Blocks of extents that lie
     * outside the filesystem are not reported to {@code sink}; an extent map that breaks a rule is reported as far
     * as it can be read. For a walk that reads every inode anyway: it costs no second read.
     * <p>
     * The default verifies nothing (for devices that cannot; the device bundle's does).
     *
     * @return true when the inode is in use
     * @throws XfsFormatException when the inode cannot be decoded at all (magic, version, CRC, its own number, the
     *                            uuid, a mode of no known type, a data fork format its type cannot have): then
     *                            nothing in it can be checked. Since api device 2.6 the device bundle's reports why
     *                            to {@code problems} before it throws (the kinds from {@link InodeProblem.Kind#CORE_MAGIC}
     *                            on: every one of them the inode's bytes break), so that a repair can tell an inode to
     *                            set right from one to clear
     */
    default boolean inodeSpace(long ino, InodeSpaceSink sink, ProblemSink problems) throws XfsException {
        return inodeSpace(ino, sink);
    }

    /**
     * Verifies inode {@code ino} whole and reports every rule it breaks, each once, with where it is: the core
     * (sizes and counts against the forks, flags against the filesystem's features, extent size hints, the
     * unlinked pointer, fork offsets and formats), the extent maps of both forks and their bmbt blocks, a
     * symlink's target, the extended attributes (short form, leaf and node blocks, remote values). What is legal is
     * not reported: blocks past EOF, holes, a sparse tail, unwritten extents in regular files, shared blocks.
     * Directory contents are not read (the directory strategy does). Bounded: every loop is limited by what the
     * inode maps.
     *
     * @return true when the inode is in use (a free inode is only checked for its unlinked pointer)
     * @throws XfsFormatException as {@link #inodeSpace(long, InodeSpaceSink, ProblemSink)}
     */
    default boolean checkInode(long ino, ProblemSink problems) throws XfsException {
        return inodeSpace(ino, (agno, agbno, length, bmbt) -> { }, problems);
    }

    /** Receives the problems a verifying read of an inode finds. */
    @FunctionalInterface
    interface ProblemSink {
        void problem(InodeProblem problem);
    }

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

        /**
         * One extent with what its reverse mapping records: its file offset (0 for a bmbt block), fork and flags. A
         * device that reads them tells each extent here instead of {@link #extent}, so that a walk can stage the
         * reverse mappings it expects from the same read; by default {@link #extent}.
         */
        default void mapping(int agno, long agbno, long length, long offset, boolean attrFork, boolean bmbt, boolean unwritten) {
            extent(agno, agbno, length, bmbt);
        }
    }

    /** The inode number of the first inode of a chunk that starts at {@code agino} in AG {@code agno}. */
    long inodeNumber(int agno, long agino);

    /** Blocks an inode chunk of 64 inodes occupies, and inodes per block (for the space of inode chunks). */
    int inodesPerBlock();

    /**
     * Where inode chunks can lie and which parts of them are allocated together (the inode alignment and the sparse
     * inode allocation of this filesystem): for placing a chunk from the inodes found in it.
     */
    InodeChunkGeometry inodeChunkGeometry();

    /**
     * What is at inode number {@code ino}, from that inode alone: whether it decodes as a v3 inode of this filesystem
     * (magic, version, checksum, the inode number it records, the filesystem uuid) and, if so, whether it is in use.
     * Never follows a fork and never fails on what it reads; a number outside the filesystem is {@link InodeProbe#NONE}.
     * A valid inode is evidence that an inode chunk holds that number, not proof that it is allocated (the blocks of
     * a freed chunk keep their old inodes).
     */
    InodeProbe probeInode(long ino) throws XfsException;

    /**
     * The fields of a header as they are on disk ({@code agi_unlinked[3]} is {@link HeaderField#agiUnlinked}(3)); the
     * header must be the structure it claims to be (magic). The superblock is the one the filesystem was opened on
     * ({@link #superblockChoice()}): the primary, or when it is not trusted the agreed copy merged as it would be
     * written into the primary.
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
     * A new AGF or AGI for AG {@code agno}, made from nothing but the geometry and {@code fields}: for a header that
     * cannot be decoded, which {@link #updateHeader} refuses to change. The device fills in the magic, version, seqno,
     * the AG's length, the uuid and the CRC (the lsn is 0); the AGI's unlinked buckets, newino and dirino are empty
     * unless given. {@code fields} are those {@link #updateHeader} accepts, and must hold every one the filesystem's
     * features use: for an AGF freeblks, longest, btreeblks, flfirst, fllast, flcount and the root and level of the
     * bnobt and cntbt, plus those of the rmapbt (with rmap_blocks) and refcountbt (with refcount_blocks) where they
     * exist; for an AGI count, freecount, root and level, plus free_root and free_level with a finobt and iblocks and
     * fblocks where the filesystem counts them ({@link Feature#INOBTCOUNT}).
     *
     * @throws IllegalArgumentException for the superblock, a field of another header or one that is missing
     */
    BlockImage newHeader(HeaderKind kind, int agno, java.util.Map<HeaderField, Long> fields) throws XfsException;

    /**
     * The AGI's unlinked buckets that are not empty: bucket number to the AG inode number at the head of its list.
     */
    java.util.Map<Integer, Long> unlinkedBuckets(int agno) throws XfsException;

    /**
     * A new AGFL for the AG holding exactly {@code blocks} (slots 0..n-1): the AGF must then be updated with flfirst 0,
     * fllast n-1 and flcount n. Its header is made from the geometry (magic, seqno, uuid, CRC), so an AGFL whose
     * header is damaged is rebuilt as well as one whose entries are.
     */
    BlockImage rebuildAgfl(int agno, long[] blocks) throws XfsException;

    /**
     * Whether inode {@code ino} carries the reflink flag, which every inode whose data blocks another file shares must
     * carry (xfs_repair sets it where it is missing). The default (for devices that cannot read inode flags) says it
     * does.
     */
    default boolean reflinked(long ino) throws XfsException {
        return true;
    }

    /**
     * An inode with some core fields set to new values, encoded as the device writes it (CRC set); the inode must
     * decode as a v3 inode of this filesystem.
     */
    BlockImage updateInode(long ino, java.util.Map<InodeField, Long> fields) throws XfsException;

    /**
     * Inode {@code ino} with the core fields that break {@code rules} set as xfs_repair's process_dinode_int sets
     * them, when the inode proves the right value, encoded as the device writes it (CRC set): bits no kernel allows
     * on this filesystem or this file type cleared (realtime without a realtime device, directory-only or file-only
     * flags on other types, NEWRTBM, DAX on special files, CoW extent size, bigtime and large extent counts without
     * their feature, unknown bits), invalid extent size hints zeroed with their flags, the unlinked pointer ended,
     * the attribute format of an inode without an attribute fork set to extents, di_nblocks, di_nextents and
     * di_anextents set to what the forks map, a single-block directory's size set to the directory block size.
     * The inode is read again as it would be written: every rule must then hold, and none may break that held.
     * <p>
     * What xfs_repair answers by clearing the inode (a reflink flag where none may be, a bad fork offset, a size
     * that does not go with the data fork's format, a special file with a size) is refused, as is any rule of a
     * fork (its extent map, symlink target, attributes). The default refuses everything (for devices made before
     * this method).
     *
     * @param rules the rules a verifying read of the inode ({@link #checkInode}) found broken, all of its core
     * @throws XfsFormatException when the inode cannot be decoded or is free, a rule is not one repaired in place or
     *                            not broken, or the inode as repaired would still break a rule
     */
    default BlockImage repairInodeCore(long ino, java.util.Set<InodeProblem.Kind> rules) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not repair inode cores");
    }

    /**
     * The file type of inode {@code ino} from its mode, or null when it is free or cannot be read as an inode of this
     * filesystem. The default (for devices made before this method) knows none: null.
     *
     * @since api device 2.3
     */
    default FileType fileType(long ino) throws XfsException {
        return null;
    }

    /**
     * Directory {@code ino} written anew with {@code entries} (besides "." and "..", which the device makes: ".." names
     * {@code parent}), in the blocks it already maps, as the kernel lays each form out: short form in the inode when it
     * is short form and the entries fit its data fork (8-byte inode numbers when any needs them), a single block (data,
     * hash index and tail) when it maps one directory block, data blocks and one hash index block (with the table of
     * each data block's longest free region) when it maps those. Names are hashed as the filesystem hashes them
     * (case-insensitively on an ASCII-CI filesystem); every block gets its table of free regions, tail, self-describing
     * header (owner, place, uuid) and checksum; the inode its size. Entries go in the order given, filling the data
     * blocks in address order, every mapped data block holding at least one. The result is read back on a view of the
     * device by the verifying reader ({@link #directory}) before it is returned: it must read without a problem.
     * <p>
     * Nothing is allocated or freed: a directory whose own blocks cannot hold the entries (a short-form directory that
     * outgrows its inode, a block that overflows, more entries than one hash index block holds), or that maps more data
     * blocks than the entries fill, is refused; so is a directory of the node form (a hash index btree with free index
     * blocks), a directory whose blocks cannot be read as one form, one whose directory blocks are not contiguous
     * on disk, and on an ASCII-CI filesystem a block or leaf directory with a name holding a Latin-1 capital (the
     * kernel and xfsprogs up to 6.1 hash it differently: either hash is corrupt for one of them).
     *
     * @param parent  what ".." names (the root names itself)
     * @param entries the entries, read once, each a valid name naming a valid inode number other than the directory,
     *                no name twice (compared as the filesystem compares them)
     * @return the new blocks and, when its size changes, the inode
     * @throws XfsFormatException when the directory is refused as above or an entry is not one a directory may hold
     * @throws XfsException       when the inode is no directory, or the device rebuilds no directories (the default,
     *                            for devices made before this method)
     * @since api device 2.3
     */
    default java.util.List<BlockImage> rebuildDirectory(long ino, long parent, java.util.Iterator<SalvagedEntry> entries)
            throws XfsException {
        throw new XfsFormatException(source() + ": this device does not rebuild directories");
    }

    /**
     * Free inode {@code ino} made a new short-form directory holding {@code entries} (besides "." and "..", which the
     * device makes: ".." names {@code parent}), as xfs_repair makes /lost+found: mode S_IFDIR|0755, owned by root
     * (uid and gid 0), its link count 2 and one per subdirectory entry, no attribute fork, every timestamp now, its
     * core written whole (the generation kept from the free core when that reads as one). The result is read back on a
     * view of the device by the verifying reader before it is returned.
     * <p>
     * Only the inode is written: the caller must have proven the inode free in an inode chunk the inode btrees list
     * (the device checks only that its core is free, mode zero, or all zero bytes), and the inode btrees' free masks,
     * the AGI's free count and the superblock's inode counters it changes, and the entry naming it in {@code parent},
     * are other blocks to plan. Nothing is allocated: entries that do not fit the inode's data fork are refused.
     *
     * @param parent  what ".." names: a directory other than {@code ino}
     * @param entries the entries, read once, each a valid name naming a valid inode number other than {@code ino},
     *                no name twice
     * @return the new inode
     * @throws XfsFormatException when the inode is not free or not a valid inode number, its core is neither readable
     *                            nor zero, or the entries are not ones a short-form directory of it may hold
     * @throws XfsException       when the device makes no directories (the default, for devices made before this method)
     * @since api device 2.4
     */
    default BlockImage newDirectory(long ino, long parent, java.util.Iterator<SalvagedEntry> entries) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not make directories");
    }

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
     * The fields of the superblock in AG {@code agno} as they are on disk (AG 0: the primary, even when it is not
     * trusted) that every copy must share with the primary (geometry, identity, features, label: everything but the
     * counters and inode numbers, which only the primary keeps), by C name without prefix.
     *
     * @throws XfsFormatException when that sector is not a superblock (bad magic)
     */
    java.util.Map<HeaderField, Long> superblockIdentity(int agno) throws XfsException;

    /**
     * The same fields of the superblock the filesystem was opened on ({@link #superblockChoice()}): the primary when
     * it is trusted, else the agreed copy. What every superblock, the primary included, should hold.
     */
    java.util.Map<HeaderField, Long> agreedSuperblockIdentity();

    /**
     * The superblock copy of AG {@code agno} rewritten with the primary's identity fields (its own counters kept).
     *
     * @throws XfsFormatException when the primary is not trusted ({@link SuperblockVerdict#primaryTrusted()}): an
     *                            untrusted primary is never copied; use {@link #secondarySuperblockFromAgreed(int)}
     */
    BlockImage secondarySuperblockFromPrimary(int agno) throws XfsException;

    /**
     * How the superblock this filesystem was opened on was chosen: whether the primary passes every check, what is
     * wrong with it, how many copies agree, which AG's copy was used.
     */
    SuperblockVerdict superblockChoice();

    /**
     * The superblock copy of AG {@code agno} rewritten from the agreed superblock ({@link #agreedSuperblockIdentity()}):
     * a copy that passes every check keeps its own counters and inode numbers and gets the agreed identity fields; one
     * that fails a check (magic, checksum, garbage) is written anew from the agreed superblock as xfs_repair writes a
     * bad copy (counters and quota flags zero, marked as a copy).
     */
    BlockImage secondarySuperblockFromAgreed(int agno) throws XfsException;

    /**
     * The primary superblock rewritten from the agreed copy, as xfs_repair's copy_sb rewrites it: every field from the
     * copy, except the root, realtime and quota inode numbers and the version bits that only the primary carries
     * (taken from the copy where the primary's would not pass the checks), and the counters (the primary's: the
     * sb-counters check compares them with what the filesystem holds). Only when the primary is not trusted.
     *
     * @throws XfsFormatException when the primary is trusted (there is nothing to rewrite it from)
     */
    BlockImage primarySuperblockFromAgreed() throws XfsException;

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
     * contents, nothing is written. A view of a view sees that view's blocks too, these over them. For checking a repair before it is committed. The view uses this device's open
     * image: close it before this device (closing it releases nothing).
     */
    XfsDevice withPlanned(java.util.List<BlockImage> blocks) throws XfsException;

    /** Releases the image and its lock. */
    @Override
    void close();

    /**
     * As {@link #rebuildDirectory(long, long, java.util.Iterator)}, and a directory whose blocks cannot hold the entries
     * grows as the kernel grows it (short form to a single block, to data blocks with one hash index block, to the node
     * form with a hash index btree and free index blocks) into blocks from {@code more}: the inode's AG first, one
     * directory block (contiguous) at a time. The blocks it already maps keep their place in the directory; the new ones
     * are added to the data fork's extent map: in the inode when it fits, else a bmbt written into the blocks of the one
     * it has and, when it needs more, blocks from {@code more} (since api device 2.6; before, a directory whose fork is a
     * bmbt or would need one was refused), with the inode's format, size, block and extent counts. The node form is written with
     * one level of hash index nodes at most. Nothing is freed: a directory mapping more blocks than its entries fill is
     * refused, as by the method without an allocator. The free-space btrees, the AGF, the superblock counters and the
     * rmapbt that the new blocks make wrong are other plans' work.
     *
     * @param more where blocks come from; null: none (as the method without it)
     * @since api device 2.5
     */
    default java.util.List<BlockImage> rebuildDirectory(long ino, long parent, java.util.Iterator<SalvagedEntry> entries,
            BlockAllocator more) throws XfsException {
        return rebuildDirectory(ino, parent, entries);
    }

    /**
     * As {@link #newDirectory(long, long, java.util.Iterator)}, and when the entries do not fit the inode's data fork the
     * new directory takes directory blocks from {@code more} as {@link #rebuildDirectory(long, long,
     * java.util.Iterator, BlockAllocator)} grows one (the core made first, then the directory grown in it).
     *
     * @return the new inode, and the directory blocks when it needs some
     * @since api device 2.5
     */
    default java.util.List<BlockImage> newDirectory(long ino, long parent, java.util.Iterator<SalvagedEntry> entries,
            BlockAllocator more) throws XfsException {
        return java.util.List.of(newDirectory(ino, parent, entries));
    }

    /**
     * Inode {@code ino} cleared as xfs_repair's clear_dinode clears an inode too broken to trust: its core zeroed but
     * for the magic, version, inode number and uuid, both fork formats extents, the unlinked pointer ended, the fork
     * area zeroed, encoded as the device writes it (CRC set) and read back as a free inode before it is returned. The
     * inode need not be readable. Only the inode is written: the blocks it mapped, the inode btrees' masks, the AGI and
     * superblock counters and the entries naming it are other plans' (the next scrub finds them).
     *
     * @throws XfsFormatException when {@code ino} is the root, a realtime or a quota inode (never cleared), or the
     *                            device clears no inodes (the default, for devices made before this method)
     * @since api device 2.5
     */
    default BlockImage clearInode(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not clear inodes");
    }

    /**
     * Inode {@code ino} without its attribute fork, as xfs_repair's clear_dinode_attr drops an attribute fork it cannot
     * read: fork offset 0, attribute format extents, no attribute extents, the fork's bytes zeroed, di_nblocks what the
     * data fork maps; encoded (CRC set) and read again: no attribute rule may be broken and no rule the inode kept. The
     * fork's blocks are not freed here: they become leaked space the free-space plans give back.
     *
     * @throws XfsFormatException when the inode is free, the root, a realtime or quota inode, its data fork is a btree
     *                            (whose root moves with the fork offset), or it would still break a rule; or the device
     *                            drops no forks (the default, for devices made before this method)
     * @since api device 2.5
     */
    default BlockImage dropAttributeFork(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not drop attribute forks");
    }

    /**
     * The remote blocks of symlink {@code ino} with their headers written again, when the target they hold still reads
     * and agrees with the inode's size: each block's magic, the part of the target it says it holds (offset, byte
     * count) and the target bytes (no NUL) must be right; its owner, place, uuid and checksum are set. Only the blocks
     * that change are returned, read back on a view: the symlink must then break no rule of its target.
     *
     * @throws XfsFormatException when the inode is no remote symlink, a block has no symlink magic, holds another part
     *                            of the target than the size wants or a NUL, nothing needs writing, or the device
     *                            rebuilds no symlinks (the default, for devices made before this method): the target is
     *                            then not proven, and xfs_repair clears the inode
     * @since api device 2.5
     */
    default java.util.List<BlockImage> rebuildSymlinkBlocks(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not rebuild symlinks");
    }

    /**
     * Inode {@code ino} with its checksum computed again, as xfs_repair rewrites an inode whose only fault on read is
     * its CRC ("bad CRC for inode N, will rewrite"): the bytes are kept, the CRC set, and the result must then decode
     * as an inode of this filesystem (magic, version, number, uuid, fork offset, size). Whatever else the inode breaks
     * is found by the next verifying read and planned on its own.
     *
     * @throws XfsFormatException when the checksum is right, the inode would not decode with a right checksum either,
     *                            or the device rewrites no checksums (the default, for devices made before this method)
     * @since api device 2.5
     */
    default BlockImage rewriteInodeChecksum(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not rewrite inode checksums");
    }

    /**
     * What can still be read of the data ({@code attrFork} false) or attribute fork of inode {@code ino}, as
     * xfs_repair's process_bmbt_reclist reads it, keeping what breaks no rule: the records of the inode (extents
     * format) or of every bmbt leaf that reads as a block of this inode's bmbt (magic, level, owner, place and uuid; a
     * bad checksum alone does not stop the read, as in xfs_repair). A record is dropped when its length is zero, it
     * ends past the largest file offset, runs from one AG into the next or lies outside the filesystem's data blocks;
     * the rest are sorted by file offset and one that overlaps a kept one before it is dropped too. An unwritten
     * extent where only written ones may be (an attribute fork, a file that is not regular) is kept with the flag
     * cleared: its blocks hold what was written there. Bounded by the blocks the fork can reach.
     *
     * @throws XfsFormatException when the inode cannot be decoded or is free, or the fork holds more records than a
     *                            repair keeps in memory
     * @throws XfsException       when the device salvages no forks (the default, for devices made before this method)
     * @since api device 2.5
     */
    default SalvagedFork salvageFork(long ino, boolean attrFork) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not salvage forks");
    }

    /**
     * The bmbt blocks a fork of inode {@code ino} holding {@code extents} extents needs when bulk loaded with full
     * blocks: 0 when they fit the fork in the inode (extents format), else its leaves and nodes below the root in the
     * inode.
     *
     * @throws XfsException when the inode cannot be decoded, or the device rewrites no forks (the default)
     * @since api device 2.5
     */
    default int forkBlocksNeeded(long ino, boolean attrFork, long extents) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not rewrite forks");
    }

    /**
     * The data or attribute fork of inode {@code ino} written anew with {@code extents}: in the inode (extents
     * format) when they fit, else as a bmbt bulk-loaded into {@code bmbtBlocks} (exactly {@link #forkBlocksNeeded}
     * of them, leaves first in the order given, then the nodes) with its root in the inode, as the kernel lays a bmbt
     * out: long-pointer blocks with owner, place, uuid, sibling links and checksum, leaves spread evenly. The inode
     * gets the fork's format, its extent count and di_nblocks (both forks' blocks and bmbt blocks); its size and the
     * other fork are kept. The result is read back on a view by the verifying reader before it is returned: the fork
     * must read as exactly these extents, breaking no rule.
     * <p>
     * Nothing is allocated or freed, and nothing is checked against other owners of the blocks: the caller must
     * have proven the extents' and the bmbt blocks' blocks the inode's own.
     *
     * @param extents    in file offset order, none overlapping, none unwritten where the fork may hold none
     * @param bmbtBlocks the blocks for the bmbt (empty when the extents fit the inode)
     * @return the new bmbt blocks and the inode
     * @throws XfsFormatException when the inode cannot be decoded or is free, the extents break a rule, the wrong
     *                            number of blocks is given, or the result does not read back as written
     * @throws XfsException       when the device rewrites no forks (the default)
     * @since api device 2.5
     */
    default java.util.List<BlockImage> rewriteFork(long ino, boolean attrFork, java.util.List<FileExtent> extents,
            java.util.List<SalvagedFork.AgBlock> bmbtBlocks) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not rewrite forks");
    }

    /**
     * Directory {@code ino} written anew with {@code entries} in the form and the number of blocks they need, as
     * xfs_repair's rebuild and the kernel's online repair make a directory from nothing by adding its names: short form
     * when they fit the inode's data fork, else a single block, else data blocks filled in turn with one hash index
     * block, else the node form. The blocks it maps are used first, in their places (its hash index leaves kept while
     * they stay at least half full on average, as the kernel joins emptier ones); when it needs more they come from
     * {@code more} as {@link #rebuildDirectory(long, long, java.util.Iterator, BlockAllocator)} grows a directory; the
     * blocks it maps and no longer needs (data, hash index and free index blocks, and bmbt blocks) are unmapped: the
     * inode gets its new extent map (in the inode when the extents fit, else a bmbt in its own blocks and, when it needs
     * more, blocks from {@code more}), size, format, block and extent counts. The free-space btrees, the AGF, the
     * superblock counters and the rmapbt that the unmapped blocks make wrong (leaked: in use by nothing, free nowhere)
     * are other plans' work, as for grown blocks. The result is read back as {@link #rebuildDirectory} reads it.
     * <p>
     * The default (for devices made before this method) is {@link #rebuildDirectory(long, long, java.util.Iterator,
     * BlockAllocator)}, which frees nothing.
     *
     * @param more where blocks come from; null: none
     * @since api device 2.6
     */
    default java.util.List<BlockImage> resizeDirectory(long ino, long parent, java.util.Iterator<SalvagedEntry> entries,
            BlockAllocator more) throws XfsException {
        return rebuildDirectory(ino, parent, entries, more);
    }

    /**
     * Inode {@code ino} with its short-form attribute fork kept as far as it reads, as xfs_repair's
     * process_shortform_attr keeps it: cut before the first entry that does not read (a name of no length, a name
     * holding a NUL, sizes that run past the fork), an entry with flags no kernel writes dropped alone, the kept entries
     * packed with the fork's count and total size set; encoded (CRC set) and read again: no attribute rule may be broken
     * and no rule that held may break. The image's {@link BlockImage#what()} says how many were kept and why the others
     * went, for the plan to report.
     *
     * @throws XfsFormatException when the inode is free, its attribute fork is not short form, it reads whole, no entry
     *                            of it reads (then the fork is to be dropped: {@link #dropAttributeFork}), or the device
     *                            salvages no attributes (the default, for devices made before this method)
     * @since api device 2.6
     */
    default BlockImage salvageShortFormAttributes(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not salvage attributes");
    }

    /**
     * Inode {@code ino} with its magic and version set right and its checksum computed again, as xfs_repair sets them
     * in place ("bad magic number ... resetting magic number", "resetting version number", "bad CRC ..., will
     * rewrite"): the other bytes are kept, and the result must then decode as an inode of this filesystem (number,
     * uuid, fork offset, size, a file type that may have its fork's format). Whatever else the inode breaks is found
     * by the next verifying read and planned on its own. For an inode whose only fault is its checksum, this is
     * {@link #rewriteInodeChecksum}.
     *
     * @throws XfsFormatException when magic, version and checksum are all right, the inode would not decode with them
     *                            set right either (an inode xfs_repair clears), or the device sets no inode headers
     *                            (the default, for devices made before this method)
     * @since api device 2.6
     */
    default BlockImage rewriteInodeHeader(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not set inode headers right");
    }

    /**
     * Directory {@code ino} with its size set to what its blocks prove, where xfs_repair clears it ("mismatch between
     * format (2) and size (300) in directory ino N"): its extent map must end where a directory form ends (after one
     * directory block, or in the leaf or node space), and the directory read whole with that size (every data block,
     * the hash index, the free index, and the inode's rules of size against format) must break no rule. Only the size
     * changes; the result is returned encoded (CRC set).
     *
     * @throws XfsFormatException when the inode is no directory of blocks, its map is no directory form, its size is
     *                            that already, anything else the directory breaks with the proven size (its size is
     *                            then not proven: xfs_repair clears it), or the device proves no sizes (the default,
     *                            for devices made before this method)
     * @since api device 2.6
     */
    default BlockImage directorySizeFromBlocks(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not prove directory sizes");
    }

    /**
     * Inode {@code ino} with its leaf or node attribute fork kept as far as it reads, as the kernel's online repair
     * (xrep_xattr) salvages one: every block the fork maps that reads as an attribute leaf of this inode is searched,
     * and each entry that reads is kept (a name of 1 to 255 bytes without NUL, flags a kernel writes and not
     * INCOMPLETE, its record inside the block and clear of the bytes of the entries read before it, a name not kept
     * already; a remote value whose blocks all read, verify and hold its parts); the others are dropped, each named
     * with the reason. The kept entries are written back in the smallest form that holds them: a short-form fork when
     * every value is local and they fit the inode's attribute fork, else one leaf block written anew in the block the
     * fork maps at attribute block 0 (names hashed again, hash order, usedbytes, firstused and the free map set),
     * else leaves filled in turn under one node at attribute block 0, in blocks the fork maps; the blocks of the kept
     * remote values kept at their places; the map in the inode, or in a bmbt in the fork's own bmbt blocks when it
     * does not fit. The blocks the fork no longer maps (other leaves,
     * nodes, dropped values) are unmapped, di_nblocks and the attribute extent count set: they become leaked space
     * that the free-space plans give back, as for {@link #dropAttributeFork}. The fork offset and the data fork are
     * kept. The result is read again on a view: no attribute rule may be broken and no rule that held may break.
     * The inode's {@link BlockImage#what()} says, after "(attributes: ", how many entries were kept and which were
     * dropped and why, for the plan to report.
     *
     * @return the inode first, then the leaf or node blocks and bmbt blocks written (none for a short form)
     * @throws XfsFormatException when the inode is free, the root, a realtime or a quota inode, its attribute fork is
     *                            neither extents nor a btree, its map does not read, nothing of it reads (the fork is
     *                            then to be dropped: {@link #dropAttributeFork}), the kept entries need more leaves
     *                            than one node holds or than the fork maps blocks, or a larger bmbt than the fork's,
     *                            or the device salvages no attribute blocks (the default, for devices made before
     *                            this method)
     * @since api device 2.7
     */
    default java.util.List<BlockImage> salvageAttributeBlocks(long ino) throws XfsException {
        throw new XfsFormatException(source() + ": this device does not salvage attribute blocks");
    }

    /**
     * As {@link #directoryTree(Progress, DirectorySink)}, with up to {@code threads} threads: with two or more the
     * device may read ahead on a thread of its own while the caller's thread tells {@code sink} the same events in the
     * same order. The sink's events, the progress and the cancellation are all on the caller's thread, and what the
     * sink or the reading throws is thrown there; no thread outlives the call. By default the walk on one thread (for
     * devices made before this method).
     *
     * @param threads how many threads the caller lets the walk use; one or less: the caller's only
     * @throws XfsException when the device reads no directories
     * @since api device 2.8
     */
    default void directoryTree(Progress progress, DirectorySink sink, int threads) throws XfsException, CancelledException {
        directoryTree(progress, sink);
    }

    /**
     * A view of this device (nothing planned added, nothing written) that tells {@code sink} of every byte range it reads,
     * and of those of views made from it ({@link #withPlanned}), from the first read to its last: what a caller needs to
     * know that a computation on it would read the same on another view, one whose planned blocks lie outside them.
     * Before it returns, {@code sink} is told of what this device read when it was opened and keeps for every read after
     * (geometry, the superblock chosen): a view's readers depend on those too. Closing the view releases nothing.
     *
     * @return the view, or null when this device cannot record its reads (the default, for devices made before this
     *         method): then nothing can be told of what a reader of it read
     * @since api device 2.9
     */
    default XfsDevice recordingReads(ReadSink sink) throws XfsException {
        return null;
    }
}
