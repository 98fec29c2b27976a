package org.xfstage.xfile.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XFile;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XFileFullException;
import org.xfstage.api.staging.XFileInfo;

/**
 * The xfile service. Configuration changes ({@code @Modified}) apply to files made afterwards, and to
 * the total limit at once; live files keep working. Deactivation closes every live file.
 */
@Component(service = XFileFactory.class, configurationPid = XFileFactoryImpl.PID)
@Designate(ocd = XFileFactoryImpl.Config.class)
public class XFileFactoryImpl implements XFileFactory {
    static final String PID = "org.xfstage.xfile";
    private static final Logger LOG = LoggerFactory.getLogger(XFileFactoryImpl.class);

    @ObjectClassDefinition(name = "xfstage staging files (xfile)",
            description = "Where repair runs stage their records outside the Java heap, and how much they may use.")
    public @interface Config {
        @AttributeDefinition(description = "memfd: anonymous memory files (pageable to swap, no path); "
                + "file: files created in stagingDirectory and unlinked at once")
        String backing() default "memfd";

        @AttributeDefinition(description = "Directory for backing=file; empty means /dev/shm when present, else java.io.tmpdir")
        String stagingDirectory() default "";

        @AttributeDefinition(description = "Most bytes one xfile may have allocated (default 8 GiB)")
        long maxFileBytes() default 8L << 30;

        @AttributeDefinition(description = "Most bytes all live xfiles together may have allocated (default 16 GiB)")
        long maxTotalBytes() default 16L << 30;

        @AttributeDefinition(description = "Size of one memory-mapped window, a power of two (default 2 MiB)")
        int windowBytes() default 2 << 20;
    }

    private final Set<MappedXFile> live = ConcurrentHashMap.newKeySet();
    private final StagingBudget budget = new StagingBudget(Long.MAX_VALUE);
    private volatile StagingSettings settings;
    private volatile LibC libc;
    private volatile boolean deactivated;

    /**
     * A memfd-backed factory configured without a framework, for tests and benchmarks of the bundles above
     * this one. Call {@link #deactivate()} when done.
     */
    public static XFileFactoryImpl standalone(long maxFileBytes, long maxTotalBytes) {
        XFileFactoryImpl f = new XFileFactoryImpl();
        f.apply(new StagingSettings(org.xfstage.api.staging.XFileBacking.MEMFD, StagingSettings.resolveDirectory(""),
                maxFileBytes, maxTotalBytes, 2 << 20));
        return f;
    }

    @Activate
    void activate(Config config) {
        apply(StagingSettings.from(config));
    }

    @Modified
    void modified(Config config) {
        apply(StagingSettings.from(config));
    }

    /** Puts settings in force; also the entry point of unit tests, which run without a framework. */
    void apply(StagingSettings settings) {
        if (libc == null) {
            try {
                libc = LibC.load();
            } catch (LinkageError e) {
                throw new IllegalStateException("xfile needs Linux and JNA to reach libc (memfd_create, fallocate): "
                        + e.getMessage(), e);
            }
        }
        this.settings = settings;
        budget.setLimit(settings.maxTotalBytes());
        LOG.info("xfile staging: backing={} directory={} maxFileBytes={} maxTotalBytes={} windowBytes={}",
                settings.backing(), settings.directory(), settings.maxFileBytes(), settings.maxTotalBytes(),
                settings.windowBytes());
    }

    /** Tests put a fault-injecting libc in front of the real one (a full file system cannot be made without mounting). */
    void useLibC(LibC libc) {
        this.libc = libc;
    }

    @Deactivate
    public void deactivate() {
        deactivated = true;
        int n = live.size();
        for (MappedXFile f : List.copyOf(live)) {
            f.close();
        }
        LOG.info("xfile staging stopped; closed {} live xfile(s)", n);
    }

    @Override
    public XFile create(String name) throws StagingException {
        if (deactivated) {
            throw new StagingClosedException("the xfile service was stopped; get the current XFileFactory service");
        }
        StagingSettings now = settings;
        if (budget.used() >= now.maxTotalBytes()) {
            throw new XFileFullException("staging is full: live xfiles use " + budget.used() + " of maxTotalBytes="
                    + now.maxTotalBytes() + " (configuration org.xfstage.xfile)");
        }
        MappedXFile file = MappedXFile.create(name, libc, now, budget, live::remove);
        live.add(file);
        if (deactivated) { // lost a race with deactivate: do not leak the new file
            file.close();
            throw new StagingClosedException("the xfile service was stopped; get the current XFileFactory service");
        }
        return file;
    }

    @Override
    public List<XFileInfo> liveFiles() {
        List<XFileInfo> out = new ArrayList<>();
        for (MappedXFile f : live) {
            out.add(f.info());
        }
        out.sort(java.util.Comparator.comparing(XFileInfo::name));
        return out;
    }

    @Override
    public long totalLimit() {
        return budget.limit();
    }

    @Override
    public long fileLimit() {
        StagingSettings now = settings;
        return now == null ? Long.MAX_VALUE : now.maxFileBytes();
    }

    @Override
    public long peakBytesUsed() {
        return budget.peak();
    }

    @Override
    public void resetPeak() {
        budget.resetPeak();
    }

    long totalBytesUsed() {
        return budget.used();
    }
}
