package org.xfstage.strategies.namespace;

import java.util.List;

import org.xfstage.api.device.BlockImage;

/**
 * What a rebuild that needs fewer blocks than the directory mapped tells the report. The device's
 * {@code resizeDirectory} sizes a directory to its entries (as xfs_repair's rebuild does) and unmaps the blocks it no
 * longer needs; they are then in use by nothing and free nowhere, and the engine's next rounds give them back (the
 * free-space btrees, the AGF and superblock counters, the rmapbt), as they take in the blocks a growing directory was
 * given. The plan says how many were unmapped, from the inode's image (the device describes the change there): a
 * person reading the plan learns that the directory got smaller and why free space is planned again.
 */
final class DirectoryShrink {
    private DirectoryShrink() {
    }

    /** Adds a change line for {@code block} when it is the inode of a directory whose rebuild unmapped blocks. */
    static void report(long dir, BlockImage block, List<String> changes, int max) {
        String what = block.what();
        if (what != null && what.startsWith("inode " + dir + " (") && what.contains("unmapped") && changes.size() < max) {
            changes.add("directory inode " + dir + ": " + what.substring(what.indexOf('(') + 1, what.length() - 1)
                    + " (given back to free space in the next round)");
        }
    }
}
