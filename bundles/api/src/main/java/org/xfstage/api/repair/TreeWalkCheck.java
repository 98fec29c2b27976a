package org.xfstage.api.repair;

import java.util.function.Consumer;

import org.osgi.annotation.versioning.ConsumerType;
import org.xfstage.api.device.DirectorySink;

/**
 * A check that reads the engine's walk of the directory tree as the walk reads it (each directory reached from the
 * root, read once by the device's verifying reader, each inode an entry names read for its type and link count), so
 * that neither a second read of the tree nor a staged copy of every entry is needed. A strategy offers one through
 * {@link RepairStrategy#treeWalkCheck}; the engine gives it every event of its one tree walk, then, in the check phase,
 * calls {@link #finish} instead of the strategy's {@link RepairStrategy#check}, and closes it when the run's
 * observations are closed.
 * <p>
 * The events arrive on the engine's walking thread, in the order {@link DirectorySink} describes: each must do bounded
 * work and must not block (the strategy's time limit applies only to {@link #finish}). An unchecked exception from an
 * event stops the events to this check; {@link #finish} is then not called and the run fails naming the strategy.
 */
@ConsumerType
public interface TreeWalkCheck extends DirectorySink, AutoCloseable {

    /**
     * After the walk and the engine's sorts, on the strategy's thread and within its time limit: what only the whole
     * tree shows is checked, and every finding of the walk and of this is reported.
     *
     * @param context the run's context, with every observation the strategy needs staged and sorted
     * @throws Exception when it cannot check (the engine reports the strategy by name and stops the run)
     */
    void finish(ScrubContext context, Consumer<Finding> findings) throws Exception;

    /** Frees what the check staged; called once, whether {@link #finish} ran or not. */
    @Override
    void close();
}
