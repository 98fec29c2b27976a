package org.xfstage.api.staging;

/** A long call stopped because its {@link Progress} asked it to; the call's contract says what state it left. */
public class CancelledException extends StagingException {
    private static final long serialVersionUID = 1L;

    public CancelledException(String message) {
        super(message);
    }
}
