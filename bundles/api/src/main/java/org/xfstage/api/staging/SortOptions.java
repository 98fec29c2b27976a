package org.xfstage.api.staging;

/**
 * How {@link XfArray#sort} may work.
 *
 * @param parallelism  most threads the sort may use (1 = the caller's thread only)
 * @param consumeInput whether the sort may give the array's pages back as it reads them, so that a sort of more than
 *                     one chunk stages about one array's worth at its peak instead of two; a sort that is cancelled or
 *                     fails half-way then leaves the array with records lost (not a permutation of its input): for
 *                     arrays whose owner drops them when the sort does not finish
 */
public record SortOptions(int parallelism, boolean consumeInput) {

    /** Use every processor the JVM has. */
    public static final SortOptions DEFAULT = new SortOptions(Runtime.getRuntime().availableProcessors());

    /** Sort on the caller's thread only. */
    public static final SortOptions SEQUENTIAL = new SortOptions(1);

    public SortOptions {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, not " + parallelism);
        }
    }

    /** A sort that keeps its input whole until it is done (a cancelled sort leaves a permutation of it). */
    public SortOptions(int parallelism) {
        this(parallelism, false);
    }

    /** The same options, with the input's pages given back as the sort reads them (see {@link #consumeInput}). */
    public SortOptions consumingInput() {
        return new SortOptions(parallelism, true);
    }
}
