package org.xfstage.api.repair;

import org.osgi.annotation.versioning.ProviderType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
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

    /** For the strategy's own staging (closed by the strategy). */
    XfArrayFactory arrays();

    /** For the strategy's own variable-length staging: names, values, targets (closed by the strategy). */
    XfBlobFactory blobs();

    /** Progress and cancellation of the run. */
    Progress progress();
}
