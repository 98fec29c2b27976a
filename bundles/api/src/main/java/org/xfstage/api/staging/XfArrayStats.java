package org.xfstage.api.staging;

/**
 * Counters of one {@link XfArray} since it was made.
 *
 * @param loads       records read by {@code load}/{@code loadNext} and sort reads, in records
 * @param stores      records written by {@code store}/{@code append}/{@code storeAnywhere}/{@code unset} and sort writes
 * @param compares    calls of the comparator during sorts
 * @param partitions  radix buckets, in-memory chunks and merge runs the sorts made
 * @param bytesStaged bytes of staging memory the array holds now
 */
public record XfArrayStats(long loads, long stores, long compares, long partitions, long bytesStaged) {
}
