package org.xfstage.repair.internal;

import java.nio.file.Path;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.RepairException;

/**
 * The write of a repair's re-checked blocks on the open the repair has held since its first read (for writing, with
 * the exclusive lock, so the image is the one it scrubbed and planned on): the device's journaled commit, the undo
 * journal (old contents, digests of the new, the image's size and uuid) forced to disk with its directory before the
 * first block is written, then the blocks, each read back and compared with the plan, so that the image on disk is the
 * one the re-check scrubbed.
 */
final class Commit {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private final Services services;
    private final String run;
    private final XfsDevice held;

    Commit(Services services, String run, XfsDevice held) {
        this.services = services;
        this.run = run;
        this.held = held;
    }

    /** Writes {@code blocks}, the latest images of {@code plans} plans, with an undo journal at {@code journal}. */
    void write(List<BlockImage> blocks, int plans, Path journal) throws RepairException {
        if (services.devices().get() == null) {
            // the open is still ours, but a run writes only while the services it started with are there
            throw new RepairException("the XFS device service went away; nothing was written");
        }
        try {
            held.commit(blocks, journal);
        } catch (XfsException e) {
            throw new RepairException(e.getMessage(), e);
        }
        LOG.info("[{}] write: {} blocks of {} plans written to {} (read back equal), undo journal {}", run, blocks.size(), plans,
                held.source(), journal);
    }
}
