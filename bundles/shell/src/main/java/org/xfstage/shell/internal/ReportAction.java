package org.xfstage.shell.internal;

import java.nio.file.Path;
import java.util.List;

import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.support.completers.FileCompleter;

/**
 * A command about one image whose output can be long (a manifest of a million paths, a scrub with many findings),
 * so that it may go to a file rather than through the console or an ssh connection: {@code --output FILE}.
 */
abstract class ReportAction extends XfsAction {

    @Option(name = "--output", description = "Write the output to this file (replaced only when the command completes) and print one line saying so")
    @Completion(FileCompleter.class)
    String output;

    /** The image or device the command reads. */
    abstract String image();

    @Override
    final String outputOption() {
        return output;
    }

    @Override
    List<Path> notOnto() {
        return List.of(Path.of(image()));
    }
}
