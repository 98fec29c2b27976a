package org.xfstage.shell.internal;

/**
 * A command could not run: its message is the one clear line the operator sees (Karaf prints the
 * message of an exception without a stack trace), and {@code bin/client} exits non-zero.
 */
final class CommandFailure extends Exception {
    private static final long serialVersionUID = 1L;

    CommandFailure(String message) {
        super(message, null, false, false);
    }
}
