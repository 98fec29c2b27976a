package org.xfstage.api.device;

/**
 * One path of a filesystem, as {@link XfsDevice#manifest} reports it: enough to prove that nothing was lost or
 * changed by a repair.
 *
 * @param path       absolute path from the root ("/" for the root)
 * @param type       file type
 * @param mode       permission bits (07777)
 * @param size       size in bytes (di_size)
 * @param linkTarget the target of a symlink, else null
 * @param sha256     hex SHA-256 of the content read through the extent map (holes as zeros) for regular files when
 *                   checksums were asked for, else null; a file with more than 1 GiB of holes gets "sparse:" and the
 *                   SHA-256 of its data with each hole replaced by its length, so that hashing never reads terabytes
 *                   of zeros
 * @param inode      inode number
 * @param nlink      link count
 */
public record ManifestEntry(String path, FileType type, int mode, long size, String linkTarget, String sha256, long inode,
        int nlink) {
}
