package org.xfstage.api.staging;

/**
 * How {@link XfArray#sort} may work.
 *
 * @param parallelism most threads the sort may use (1 = the caller's thread only)
 */
public record SortOptions(int parallelism) {

    /** Use every processor the JVM has. */
    public static final SortOptions DEFAULT = new SortOptions(Runtime.getRuntime().availableProcessors());

    /** Sort on the caller's thread only. */
    public static final SortOptions SEQUENTIAL = new SortOptions(1);

    public SortOptions {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, not " + parallelism);
        }
    }
}
