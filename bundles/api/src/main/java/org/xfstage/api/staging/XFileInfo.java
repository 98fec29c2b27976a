package org.xfstage.api.staging;

/**
 * A snapshot of one live {@link XFile}, as listed by {@link XFileFactory#liveFiles()}.
 *
 * @param name      the name given at creation
 * @param size      logical size: one past the highest byte ever stored
 * @param bytesUsed bytes really allocated to it (pages written and not discarded)
 * @param backing   where its bytes live
 */
public record XFileInfo(String name, long size, long bytesUsed, XFileBacking backing) {
}
