package org.xfstage.shell.internal;

/**
 * Why a command ends with a non-zero status: its message is the one clear line the operator sees last, and its status is what {@code bin/client} exits with ({@link XfsAction#DAMAGE} or
 * {@link XfsAction#FAILED}).
 */
final class CommandFailure extends Exception {
    private static final long serialVersionUID = 1L;

    final int status;

    /** The command could not run (status 2). */
    CommandFailure(String message) {
        this(XfsAction.FAILED, message);
    }

    private CommandFailure(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    /** The command ran and the image is damaged (status 1). */
    static CommandFailure damage(String message) {
        return new CommandFailure(XfsAction.DAMAGE, message);
    }
}
