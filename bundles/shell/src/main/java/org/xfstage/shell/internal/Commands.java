package org.xfstage.shell.internal;

import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.repair.RepairEngine;

/** What the commands share: the clear line when a service they need is not there. */
final class Commands {
    private Commands() {
    }

    static XfsDeviceService device(XfsDeviceService devices) throws CommandFailure {
        if (devices == null) {
            throw new CommandFailure("the XFS device service is not available (is bundle xfstage-device started?)");
        }
        return devices;
    }

    static RepairEngine engine(RepairEngine engine) throws CommandFailure {
        if (engine == null) {
            throw new CommandFailure("the repair engine is not available (is bundle xfstage-repair started?)");
        }
        return engine;
    }
}
