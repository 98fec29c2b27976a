package org.xfstage.repair.internal;

import java.util.function.IntSupplier;
import java.util.function.Supplier;

import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * What the phases of a run reach through the engine: its whiteboard, its strategy runner, and the device and staging
 * services as bound at the moment they are asked for (they may come and go during a run). The xfile service is asked
 * only for its limits and its peak (the arrays reach it through the xfarray service); without it a run is not checked
 * against the limits before it stages. {@code walkThreads} is the engine's setting of that name (0: one per processor).
 */
record Services(StrategyRegistry strategies, StrategyRunner runner, Supplier<XfsDeviceService> devices,
        Supplier<XfArrayFactory> arrays, Supplier<XfBlobFactory> blobs, Supplier<XFileFactory> xfiles,
        IntSupplier walkThreads) {

    /**
     * Most threads a walk starts, whatever the setting says: a thread per AG of a filesystem of thousands of AGs would
     * only contend for the same device, and each buffers an AG.
     */
    static final int MAX_WALK_THREADS = 64;

    /** The threads a walk uses now: the setting, or one per available processor when it is 0; at most 64. */
    int threadsToWalk() {
        int n = walkThreads.getAsInt();
        return Math.min(MAX_WALK_THREADS, n > 0 ? n : Runtime.getRuntime().availableProcessors());
    }

    /** The blob service as bound now; one whose every create fails, naming the bundle, when there is none. */
    XfBlobFactory blobsOrMissing() {
        XfBlobFactory b = blobs.get();
        return b != null ? b : name -> {
            throw new StagingClosedException("the xfblob staging service is not available (is bundle xfstage-xfarray started?)");
        };
    }
}
