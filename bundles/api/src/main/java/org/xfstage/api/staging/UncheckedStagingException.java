package org.xfstage.api.staging;

/**
 * A {@link StagingException} thrown where no checked exception may be, as from {@link XfArray#iterator}'s
 * {@code next()}: whoever drives the iteration unwraps it with {@link #getCause()}.
 */
public class UncheckedStagingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UncheckedStagingException(StagingException cause) {
        super(cause.getMessage(), cause);
    }

    @Override
    public synchronized StagingException getCause() {
        return (StagingException) super.getCause();
    }
}
