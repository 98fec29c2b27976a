package org.xfstage.device.internal;

import java.nio.file.Path;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;

/** The XFS device access service. */
@Component(service = XfsDeviceService.class)
public class XfsDeviceServiceImpl implements XfsDeviceService {

    @Override
    public XfsDevice open(Path source, OpenOptions options) throws XfsException {
        return XfsImage.open(source, options == null ? OpenOptions.readOnly() : options);
    }

    @Override
    public int undo(Path journal, Path image, OpenOptions options) throws XfsException {
        Journal j = Journal.read(journal);
        // the log check is skipped: the journal restores exactly what was there, whatever the log said
        OpenOptions o = new OpenOptions(true, true, options == null ? OpenOptions.PROC_MOUNTINFO : options.mountInfo());
        try (XfsImage fs = XfsImage.open(image, o)) {
            return fs.undo(j);
        }
    }
}
