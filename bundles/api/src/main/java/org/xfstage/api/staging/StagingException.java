package org.xfstage.api.staging;

/**
 * Base type of every failure of the staging services. Its message is meant for an operator:
 * it names the staging object and what went wrong.
 */
public class StagingException extends Exception {
    private static final long serialVersionUID = 1L;

    public StagingException(String message) {
        super(message);
    }

    public StagingException(String message, Throwable cause) {
        super(message, cause);
    }
}
