package org.xfstage.api.repair;

import org.osgi.annotation.versioning.ProviderType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;

/** What a strategy sees during a scrub: the device (read-only), its figures, and the staged observations. */
@ProviderType
public interface ScrubContext {
    /** The filesystem, opened read-only; strategies never write to it. */
    XfsDevice device();

    /** Geometry and header counters, per AG. */
    FsInfo info();

    /** A staged observation the strategy declared it needs. */
    XfArray observation(Observation o);

    /**
     * The variable-length part of a staged observation (for {@link Observation#DIRECTORY_WALK}: names, paths, details),
     * or null when the observation has none or was not staged. Owned by the engine: the strategy never closes it.
     */
    default XfBlob observationBlob(Observation o) {
        return null;
    }

    /** For the strategy's own staging (closed by the strategy). */
    XfArrayFactory arrays();

    /** For the strategy's own variable-length staging: names, values, targets (closed by the strategy). */
    XfBlobFactory blobs();

    /** Progress and cancellation of the run. */
    Progress progress();
}
