package org.xfstage.api.device;

import java.util.List;
import java.util.Map;

/**
 * How a device chose the superblock it opened the filesystem on, as xfs_repair chooses it: the primary (AG 0) is
 * checked for plausibility, every copy (AG 1 to agcount-1) is read where the agreed geometry puts it, and the copies
 * vote on the geometry (block size, data blocks, AG size and count, log place and size, sector and inode size,
 * realtime sizes, alignment bits). The primary is trusted only when it passes every check, the vote agrees with its
 * geometry, and no field the copies all share (identity, features, sizes) is its alone; otherwise the filesystem is
 * opened on a copy that has the agreed geometry, merged as xfs_repair's copy_sb merges it (see
 * {@link XfsDevice#primarySuperblockFromAgreed()}). Where no geometry gets enough votes, the device is not opened.
 *
 * @param primaryProblems   the checks the primary fails, in words (empty when it passes them all)
 * @param disagreements     the fields in which the primary differs from the agreed superblock; when the primary is
 *                          trusted, empty
 * @param copies            superblock copies the filesystem has (agcount - 1)
 * @param validCopies       copies that pass every check
 * @param agreeingCopies    valid copies with the agreed geometry
 * @param sourceAg          the AG whose superblock the filesystem was opened on: 0 when the primary is trusted
 * @param badCopies         copies that fail a check, by AG, with what is wrong (a copy with another geometry but no
 *                          failed check is not here: it differs from the agreed superblock in fields)
 */
public record SuperblockVerdict(List<String> primaryProblems, List<Disagreement> disagreements, int copies, int validCopies,
        int agreeingCopies, int sourceAg, Map<Integer, String> badCopies) {

    /** The lists and map are copied: a verdict does not change. */
    public SuperblockVerdict {
        primaryProblems = List.copyOf(primaryProblems);
        disagreements = List.copyOf(disagreements);
        badCopies = Map.copyOf(badCopies);
    }

    /** Whether the primary passes every plausibility check (it may still be outvoted by its copies). */
    public boolean primaryValid() {
        return primaryProblems.isEmpty();
    }

    /**
     * Whether the filesystem was opened on the primary: it passes every check and agrees with its copies. Only a
     * trusted primary may be copied into the copies.
     */
    public boolean primaryTrusted() {
        return sourceAg == 0;
    }

    /**
     * A field in which the primary differs from the superblock the copies agree on.
     *
     * @param field   the superblock field
     * @param primary the primary's value
     * @param agreed  the agreed value
     * @param copies  how many valid copies hold the agreed value
     */
    public record Disagreement(HeaderField field, long primary, long agreed, int copies) {
    }
}
