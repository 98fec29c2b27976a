package org.xfstage.ssh.internal;

import java.io.IOException;

import org.apache.karaf.shell.ssh.ShellCommand;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;

/**
 * Karaf's command factory (exec, and scp when enabled), with Karaf's exec commands wrapped in a
 * {@link CloseAfterReadCommand}. Other commands (scp) are left as they are: they do not close the session themselves,
 * and their exit callback may run on an I/O thread, which must never wait for the channel to close.
 */
record ExecCommandFactory(CommandFactory original) implements CommandFactory {

    @Override
    public Command createCommand(ChannelSession channel, String command) throws IOException {
        Command created = original.createCommand(channel, command);
        return created instanceof ShellCommand ? new CloseAfterReadCommand(created, channel) : created;
    }
}
