package org.xfstage.api.device;

/**
 * A filesystem could not be opened or read. The message is one line an operator can act on: it names the image
 * and what is wrong (missing, not XFS, truncated, mounted, dirty log, locked by another run).
 */
public class XfsException extends Exception {
    private static final long serialVersionUID = 1L;

    public XfsException(String message) {
        super(message);
    }

    public XfsException(String message, Throwable cause) {
        super(message, cause);
    }
}
