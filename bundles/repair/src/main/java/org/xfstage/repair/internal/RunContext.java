package org.xfstage.repair.internal;

import java.util.List;

import org.xfstage.api.device.BlockImage;
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

/** What a strategy sees in a run: the device (or a view of it), its figures and the run's staged observations. */
record RunContext(XfsDevice device, FsInfo info, Observations staged, XfArrayFactory arrays, XfBlobFactory blobs,
        Progress progress) implements ScrubContext {

    @Override
    public XfArray observation(Observation o) {
        return staged.get(o);
    }

    @Override
    public XfBlob observationBlob(Observation o) {
        return staged.blob(o);
    }

    /** The same observations, with the device (and its counters) as a view with {@code blocks} written. */
    RunContext withPlanned(List<BlockImage> blocks) throws XfsException {
        XfsDevice view = device.withPlanned(blocks);
        return new RunContext(view, view.info(), staged, arrays, blobs, progress);
    }
}
