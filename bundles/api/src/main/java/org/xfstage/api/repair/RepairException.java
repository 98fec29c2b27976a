package org.xfstage.api.repair;

/**
 * A scrub or repair could not run (bad path, not XFS, mounted, dirty log, staging full, a service went away, a
 * strategy failed). The message is one line an operator can act on. Damage that was found is not an exception: it
 * is a finding.
 */
public class RepairException extends Exception {
    private static final long serialVersionUID = 1L;

    public RepairException(String message) {
        super(message);
    }

    public RepairException(String message, Throwable cause) {
        super(message, cause);
    }
}
