package org.xfstage.repair.internal;

import java.nio.file.Path;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.RepairException;

/**
 * The write of a repair's re-checked blocks: the image opened for writing (an exclusive lock), and the device's
 * journaled commit: the undo journal (old contents, digests of the new, the image's size and uuid) forced to disk
 * with its directory before the first block is written, then the blocks, each read back and compared with the plan,
 * so that the image on disk is the one the re-check scrubbed.
 */
final class Commit {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    private final Services services;
    private final String run;
    private final Path image;

    Commit(Services services, String run, Path image) {
        this.services = services;
        this.run = run;
        this.image = image;
    }

    /** Writes {@code blocks}, the latest images of {@code plans} plans, with an undo journal at {@code journal}. */
    void write(List<BlockImage> blocks, int plans, Path journal) throws RepairException {
        XfsDeviceService devs = services.devices().get();
        if (devs == null) {
            throw new RepairException("the XFS device service went away; nothing was written");
        }
        try (XfsDevice dev = devs.open(image, OpenOptions.forWriting())) {
            dev.commit(blocks, journal);
        } catch (XfsException e) {
            throw new RepairException(e.getMessage(), e);
        }
        LOG.info("[{}] write: {} blocks of {} plans written to {} (read back equal), undo journal {}", run, blocks.size(), plans,
                image, journal);
    }
}
