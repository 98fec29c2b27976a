package org.xfstage.shell.internal;

import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairException;

/** {@code xfs:undo JOURNAL IMAGE}: restores an image from the undo journal of a repair, bit for bit. */
@Service
@Command(scope = "xfs", name = "undo", description = "Restores an image from a repair's undo journal, bit for bit")
public class UndoCommand extends XfsAction {

    @Reference(optional = true)
    RepairEngine engine;

    @Argument(index = 0, name = "journal", description = "The undo journal xfs:repair --apply wrote", required = true)
    @Completion(FileCompleter.class)
    String journal;

    @Argument(index = 1, name = "image", description = "The image it was written for", required = true)
    @Completion(FileCompleter.class)
    String image;

    @Override
    int run() throws Exception {
        RepairEngine engine = Commands.engine(this.engine);
        try {
            int n = engine.undo(Path.of(journal), Path.of(image));
            System.out.printf("%s: %d block(s) restored from %s%n", image, n, journal);
        } catch (RepairException e) {
            throw new CommandFailure("could not undo: " + e.getMessage());
        }
        return OK;
    }
}
