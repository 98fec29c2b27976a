package org.xfstage.api.staging;

/**
 * A snapshot of one live {@link XfArray}, as listed by {@link XfArrayFactory#liveArrays()}.
 *
 * @param name        the name given at creation
 * @param records     its length
 * @param recordSize  bytes per record
 * @param bytesStaged bytes of staging memory it holds
 */
public record XfArrayInfo(String name, long records, int recordSize, long bytesStaged) {
}
