package org.xfstage.ssh.internal;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Karaf's exec command, whose exit callback returns only once its channel is closed, so that the session close Karaf
 * makes right after it cannot cut the output the client is still reading (see {@link ExecOutputGuard}).
 */
final class CloseAfterReadCommand implements Command {
    /**
     * How long the command's thread waits for the client after the exit status. The server never has more than one
     * window of unread output in flight (2 MiB for Karaf's client), so this only runs out for a client that stopped
     * reading; it then gets Karaf's close, as before. The wait also ends when the client disconnects.
     */
    static final Duration CLIENT_READ_LIMIT = Duration.ofMinutes(5);

    private static final Logger LOG = LoggerFactory.getLogger(CloseAfterReadCommand.class);

    private final Command shell;
    private final ChannelSession channel;

    CloseAfterReadCommand(Command shell, ChannelSession channel) {
        this.shell = shell;
        this.channel = channel;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
        shell.setExitCallback((status, message, immediately) -> {
            // sends the rest of the output, EOF, the exit status and the channel close, in this order
            callback.onExit(status, message, immediately);
            if (!immediately) {
                awaitClientClose();
            }
        });
    }

    private void awaitClientClose() {
        CountDownLatch closed = new CountDownLatch(1);
        channel.addCloseFutureListener(f -> closed.countDown());
        try {
            if (!closed.await(CLIENT_READ_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{}: the client did not close the channel within {} s of the exit status; closing the session",
                        channel, CLIENT_READ_LIMIT.toSeconds());
            }
        } catch (InterruptedException e) {
            // the command is being destroyed: let Karaf close the session now
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void setInputStream(InputStream in) {
        shell.setInputStream(in);
    }

    @Override
    public void setOutputStream(OutputStream out) {
        shell.setOutputStream(out);
    }

    @Override
    public void setErrorStream(OutputStream err) {
        shell.setErrorStream(err);
    }

    @Override
    public void start(ChannelSession channel, Environment env) throws java.io.IOException {
        shell.start(channel, env);
    }

    @Override
    public void destroy(ChannelSession channel) throws Exception {
        shell.destroy(channel);
    }
}
