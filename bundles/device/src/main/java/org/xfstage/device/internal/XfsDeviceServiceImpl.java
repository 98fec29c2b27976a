package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;

/**
 * The XFS device access service. With {@code allowedPaths} configured, an image or device is opened only when its
 * real path (symlinks resolved) lies under one of them; the check comes before the open.
 */
@Component(service = XfsDeviceService.class, configurationPid = XfsDeviceServiceImpl.PID)
@Designate(ocd = XfsDeviceServiceImpl.Config.class)
public class XfsDeviceServiceImpl implements XfsDeviceService {
    static final String PID = "org.xfstage.device";

    @ObjectClassDefinition(name = "xfstage XFS device access", description = "Which images and block devices xfs commands may open.")
    public @interface Config {
        @AttributeDefinition(description = "Directories or files under which images and devices may be opened (symlinks are "
                + "resolved first); empty: any path")
        String[] allowedPaths() default {};
    }

    private volatile List<Path> allowed = List.of();

    /** Everything allowed: for tests and benchmarks outside a framework. */
    public XfsDeviceServiceImpl() {
    }

    @Activate
    @Modified
    void configure(Config config) {
        List<Path> paths = new ArrayList<>();
        for (String p : config.allowedPaths()) {
            if (!p.isBlank()) {
                Path path = Path.of(p.strip()).toAbsolutePath().normalize();
                try {
                    path = path.toRealPath(); // a symlinked allowed directory means where it points
                } catch (IOException e) {
                    // not there (yet): kept as written
                }
                paths.add(path);
            }
        }
        allowed = List.copyOf(paths);
    }

    /** The path to open, or the one-line refusal when it is outside the allowed paths. */
    private Path permitted(Path source) throws XfsException {
        List<Path> a = allowed;
        if (a.isEmpty()) {
            return source;
        }
        Path real;
        try {
            real = source.toRealPath();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new XfsException(source + ": no such file or device");
        } catch (IOException e) {
            // a path that cannot be resolved cannot be shown to lie under an allowed one: refused, never opened
            throw new XfsException(source + ": its real path cannot be resolved (" + e.getMessage() + "), so it cannot be checked "
                    + "against the allowed paths (configuration " + PID + ", allowedPaths); not opened");
        }
        for (Path p : a) {
            if (real.startsWith(p)) {
                return real;
            }
        }
        throw new XfsException(source + (real.equals(source.toAbsolutePath().normalize()) ? "" : " (" + real + ")")
                + ": not under an allowed path " + a + " (configuration " + PID + ", allowedPaths)");
    }

    @Override
    public XfsDevice open(Path source, OpenOptions options) throws XfsException {
        return XfsImage.open(permitted(source), options == null ? OpenOptions.readOnly() : options);
    }

    @Override
    public int undo(Path journal, Path image, OpenOptions options) throws XfsException {
        Path target = permitted(image);
        Journal j = Journal.read(journal);
        // the log check is skipped: the journal restores exactly what was there, whatever the log said
        OpenOptions o = new OpenOptions(true, true, options == null ? OpenOptions.PROC_MOUNTINFO : options.mountInfo());
        try (XfsImage fs = XfsImage.open(target, o)) {
            return fs.undo(j);
        }
    }
}
