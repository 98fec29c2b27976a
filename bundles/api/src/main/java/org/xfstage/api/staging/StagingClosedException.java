package org.xfstage.api.staging;

/**
 * The staging object was closed, or the service that made it went away (its bundle stopped or was
 * updated). Everything it held is gone; make a new one from the current service.
 */
public class StagingClosedException extends StagingException {
    private static final long serialVersionUID = 1L;

    public StagingClosedException(String message) {
        super(message);
    }
}
