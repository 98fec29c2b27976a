package org.xfstage.repair.internal;

import java.util.List;

import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FreeExtent;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * What a strategy sees in a run: the device (or a view of it), its figures and the run's staged observations; while a
 * repair plans, also the repair's {@link Allocator} and the blocks planned so far (which it never gives out).
 */
record RunContext(XfsDevice device, FsInfo info, Observations staged, XfArrayFactory arrays, XfBlobFactory blobs,
        Progress progress, Allocator allocator, List<BlockImage> planned) implements ScrubContext {

    /** A scrub's context: no allocation (checks never allocate). */
    RunContext(XfsDevice device, FsInfo info, Observations staged, XfArrayFactory arrays, XfBlobFactory blobs, Progress progress) {
        this(device, info, staged, arrays, blobs, progress, null, List.of());
    }

    @Override
    public XfArray observation(Observation o) {
        return staged.get(o);
    }

    @Override
    public XfBlob observationBlob(Observation o) {
        return staged.blob(o);
    }

    @Override
    public List<FreeExtent> allocate(int agno, long count) throws Exception {
        return allocator == null ? null : allocator.allocate(this, planned, agno, count);
    }

    @Override
    public List<FreeExtent> allocated(int agno) {
        return allocator == null ? List.of() : allocator.allocated(agno);
    }

    /** The same observations, with the device (and its counters) as a view with {@code blocks} written. */
    RunContext withPlanned(List<BlockImage> blocks) throws XfsException {
        XfsDevice view = device.withPlanned(blocks);
        return new RunContext(view, view.info(), staged, arrays, blobs, progress, allocator, List.copyOf(blocks));
    }

    /** A plan's context: a view with {@code blocks} in it (none: this one's device), allocating through {@code a}. */
    RunContext planning(Allocator a, List<BlockImage> blocks) throws XfsException {
        RunContext base = blocks.isEmpty() ? this : withPlanned(blocks);
        return new RunContext(base.device, base.info, staged, arrays, blobs, progress, a, List.copyOf(blocks));
    }
}
