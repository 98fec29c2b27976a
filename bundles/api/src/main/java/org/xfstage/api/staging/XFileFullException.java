package org.xfstage.api.staging;

/**
 * A staging limit was reached: the per-file or total byte limit of the configuration, or the space
 * of the staging file system. The message names the limit.
 */
public class XFileFullException extends StagingException {
    private static final long serialVersionUID = 1L;

    public XFileFullException(String message) {
        super(message);
    }

    public XFileFullException(String message, Throwable cause) {
        super(message, cause);
    }
}
