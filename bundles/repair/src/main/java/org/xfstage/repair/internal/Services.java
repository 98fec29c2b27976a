package org.xfstage.repair.internal;

import java.util.function.Supplier;

import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.staging.XfArrayFactory;

/**
 * What the phases of a run reach through the engine: its whiteboard, its strategy runner, and the device and staging
 * services as bound at the moment they are asked for (they may come and go during a run).
 */
record Services(StrategyRegistry strategies, StrategyRunner runner, Supplier<XfsDeviceService> devices,
        Supplier<XfArrayFactory> arrays) {
}
