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

    /** Releases the image and its lock. */
    @Override
    void close();
}
