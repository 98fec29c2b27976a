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

    /**
     * Blocks for a tree that needs more than it had: {@code count} blocks of AG {@code agno} that the staged space map
     * proves free (used by no owner), none given out before in this repair and none a plan of it writes; blocks that
     * are in no free-space btree either (leaked) first, then the lowest free ones. The engine records them in the plan
     * being made and, because they are now in use while the free-space btrees, the AGFL, the AGF's and superblock's
     * counters (and the rmapbt, where there is one) still say otherwise, plans again on a view with them in use until
     * those are right too (or refuses the repair). Only while a strategy plans; blocks given out are not given back.
     *
     * @return the blocks as extents in AG block order, or null when the AG cannot give that many (or this context
     *         cannot allocate: then plan nothing)
     */
    default java.util.List<org.xfstage.api.device.FreeExtent> allocate(int agno, long count) throws Exception {
        return null;
    }

    /**
     * The blocks of AG {@code agno} that {@link #allocate} gave out in this repair, in AG block order: in use, though
     * the staged space map, read before, may still show them free. A strategy that computes free space from the space
     * map leaves these out.
     */
    default java.util.List<org.xfstage.api.device.FreeExtent> allocated(int agno) {
        return java.util.List.of();
    }
}
