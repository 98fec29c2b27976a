package org.xfstage.ssh.internal;

import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.command.CommandFactory;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps Karaf's ssh server from cutting the output of an exec command ({@code bin/client}, {@code ssh host cmd}).
 *
 * <p>Karaf 4.4's exec command ({@code org.apache.karaf.shell.ssh.ShellCommand}) calls the exit callback, which
 * flushes the output and queues EOF, exit status and channel close behind it, and then closes the whole ssh session
 * at once. The output is in the socket by then, but the client may still be reading it, and it sends a window
 * adjustment for every 128 KiB it reads: arriving at a socket the server has closed, that adjustment is answered with
 * a TCP reset, and the reset makes the client's kernel throw away everything the client has not read yet, the exit
 * status included. {@code bin/client} then prints a cut output and exits 0, as it does when no exit status came.
 * Seen with {@code xfs:manifest --json} of some hundred KB, cut at a multiple of 32 KiB (one ssh packet), in one run
 * out of five to twenty.
 *
 * <p>This component wraps the command factory of every {@link SshServer} service (Karaf registers a new one when
 * its ssh configuration changes) with an {@link ExecCommandFactory}, whose exec commands return from the exit
 * callback only once the channel is closed: the client answers the server's channel close after everything sent
 * before it, so by then it has read the whole output, and Karaf's close of the session loses nothing. Unbinding
 * puts the original factory back.
 */
@Component
public final class ExecOutputGuard {
    private static final Logger LOG = LoggerFactory.getLogger(ExecOutputGuard.class);

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    synchronized void bindServer(SshServer server) {
        CommandFactory original = server.getCommandFactory();
        if (original == null || original instanceof ExecCommandFactory) {
            return;
        }
        server.setCommandFactory(new ExecCommandFactory(original));
        LOG.info("ssh server on port {}: exec commands now close the connection after the client has read their output",
                server.getPort());
    }

    synchronized void unbindServer(SshServer server) {
        if (server.getCommandFactory() instanceof ExecCommandFactory ours) {
            server.setCommandFactory(ours.original());
        }
    }
}
