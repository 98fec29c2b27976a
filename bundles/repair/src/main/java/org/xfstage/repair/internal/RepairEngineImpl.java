package org.xfstage.repair.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * The repair engine: the DS component (its configuration, the device and staging services, the strategy whiteboard)
 * and the order of a run's phases. A scrub is one {@link ScrubRun}. A repair is a scrub that makes its plans while its
 * observations are staged ({@link Planner}), then, when everything found has a plan and the plans are to be applied,
 * the {@link Recheck} of the plans on a view of the image, and the journaled write ({@link Commit}), all on one open of
 * the image held from the first read to the last write (for writing when the plans are to be applied).
 */
@Component(service = RepairEngine.class, configurationPid = RepairEngineImpl.PID)
@Designate(ocd = RepairEngineImpl.Config.class)
public class RepairEngineImpl implements RepairEngine {
    static final String PID = "org.xfstage.repair";
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class);

    @ObjectClassDefinition(name = "xfstage repair engine", description = "How long a repair strategy may take, and how "
            + "many threads walk an image.")
    public @interface Config {
        @AttributeDefinition(description = "Seconds a strategy's check or plan may run before the run is stopped with "
                + "its name (nothing is written)")
        long strategyTimeoutSeconds() default 600;

        @AttributeDefinition(description = "Threads that walk a scrub's AGs at once (at most one per AG), and checks "
                + "that run at once; 0: one per available processor; 1: one AG, one check after another on the run's "
                + "thread; at most 64. The findings are the same")
        int walkThreads() default 0;
    }

    private volatile long strategyTimeoutSeconds = 600;
    private volatile int walkThreads = 0;
    private volatile XfsDeviceService devices;
    private volatile XfArrayFactory arrays;
    private volatile XfBlobFactory blobs;
    private volatile XFileFactory xfiles;
    private final StrategyRegistry registry = new StrategyRegistry();
    private final Services services = new Services(registry, new StrategyRunner(() -> strategyTimeoutSeconds), () -> devices,
            () -> arrays, () -> blobs, () -> xfiles, () -> walkThreads);

    public RepairEngineImpl() {
    }

    /** An engine wired by hand, for use without a framework (tests, benchmarks). */
    public RepairEngineImpl(XfsDeviceService devices, XfArrayFactory arrays) {
        this(devices, arrays, null);
    }

    /** An engine wired by hand with a blob service too (strategies that stage names need one). */
    public RepairEngineImpl(XfsDeviceService devices, XfArrayFactory arrays, XfBlobFactory blobs) {
        this(devices, arrays, blobs, null);
    }

    /** An engine wired by hand that also checks each run's staging estimate against the xfile service's limits. */
    public RepairEngineImpl(XfsDeviceService devices, XfArrayFactory arrays, XfBlobFactory blobs, XFileFactory xfiles) {
        this.devices = devices;
        this.arrays = arrays;
        this.blobs = blobs;
        this.xfiles = xfiles;
    }

    @Activate
    @Modified
    void configure(Config config) {
        strategyTimeoutSeconds = Math.max(1, config.strategyTimeoutSeconds());
        walkThreads = Math.max(0, config.walkThreads());
    }

    /**
     * The walkThreads setting of an engine wired by hand (tests, benchmarks), as configuration sets it in a framework:
     * 0 for one thread per available processor.
     */
    public void setWalkThreads(int threads) {
        walkThreads = Math.max(0, threads);
    }

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindDevices(XfsDeviceService s) {
        devices = s;
    }

    void unbindDevices(XfsDeviceService s) {
        if (devices == s) {
            devices = null;
        }
    }

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindArrays(XfArrayFactory f) {
        arrays = f;
    }

    void unbindArrays(XfArrayFactory f) {
        if (arrays == f) {
            arrays = null;
        }
    }

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindBlobs(XfBlobFactory f) {
        blobs = f;
    }

    void unbindBlobs(XfBlobFactory f) {
        if (blobs == f) {
            blobs = null;
        }
    }

    /** Optional: only its limits and peak are read (a run's staging estimate against them). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindXfiles(XFileFactory f) {
        xfiles = f;
    }

    void unbindXfiles(XFileFactory f) {
        if (xfiles == f) {
            xfiles = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, updated = "updatedStrategy")
    public void addStrategy(RepairStrategy s, Map<String, Object> props) {
        registry.add(s, props);
    }

    /** A strategy's service properties changed (its service.ranking, say): the next run sees them. */
    public void updatedStrategy(RepairStrategy s, Map<String, Object> props) {
        registry.update(s, props);
    }

    public void removeStrategy(RepairStrategy s) {
        registry.remove(s);
    }

    @Override
    public List<StrategyInfo> strategies() {
        return registry.strategies();
    }

    @Override
    public ScrubReport scrub(Path image, ScrubOptions options, Progress progress) throws RepairException {
        return ScrubRun.of(services, "scrub " + newRunId(), image, options, progress).scrub();
    }

    @Override
    public RepairReport repair(Path image, RepairOptions options, Progress progress) throws RepairException {
        if (options.apply() && options.journal() == null) {
            throw new RepairException("--apply needs an undo journal path");
        }
        String run = "repair " + newRunId();
        Planner planner = new Planner(run, services.runner());
        try (XfsDevice held = open(image, options.apply());
                Recheck recheck = new Recheck(services, run, image, held, progress)) {
            ScrubReport before = ScrubRun.of(services, run, image, ScrubOptions.all(), progress).on(held)
                    .keeping(recheck.checks()).scrub((chosen, ctx, findings, staged) -> {
                if (!findings.isEmpty()) {
                    planner.plan(chosen, ctx, findings);
                }
                if (!findings.isEmpty()) {
                    recheck.keep(ctx.info(), ctx.device().maxExtentLength(), staged); // so that the re-check can reuse what the walk read in the inodes
                }
            });
            List<String> unrepaired = planner.unrepaired(before.findings());
            if (before.clean() || !unrepaired.isEmpty()) {
                return new RepairReport(before, planner.plans(), unrepaired, false, null, null);
            }
            // a dry run re-checks too, on views (nothing written): it shows every round's plans, the blocks --apply would
            // write, and a plan the re-check refuses is refused now, as --apply would refuse it, not after the operator asks
            ScrubReport after = recheck.check(planner);
            if (!options.apply()) {
                return new RepairReport(before, planner.plans(), unrepaired, false, null, null);
            }
            Progress shown = progress == null ? Progress.NONE : progress;
            shown.total("write", planner.blocks().size(), "blocks"); // one call of the device: the journal, then every block
            new Commit(services, run, held).write(planner.blocks(), planner.plans().size(), options.journal());
            shown.increment(planner.blocks().size());
            return new RepairReport(before, planner.plans(), unrepaired, true, options.journal().toString(), after);
        }
    }

    /**
     * The one open of a repair, held from its first read to its last write: with {@code apply}, for writing with the
     * exclusive lock, so that no other run or process can change (or read) the image between the scrub, the plans,
     * the re-check and the write; a dry run reads, with the shared lock.
     */
    private XfsDevice open(Path image, boolean apply) throws RepairException {
        XfsDeviceService devs = devices;
        if (devs == null) {
            throw new RepairException("the XFS device service is not available (is bundle xfstage-device started?)");
        }
        try {
            return devs.open(image, apply ? OpenOptions.forWriting() : OpenOptions.readOnly());
        } catch (XfsException e) {
            throw new RepairException(e.getMessage(), e);
        }
    }

    @Override
    public int undo(Path journal, Path image) throws RepairException {
        XfsDeviceService devs = devices;
        if (devs == null) {
            throw new RepairException("the XFS device service is not available (is bundle xfstage-device started?)");
        }
        try {
            int n = devs.undo(journal, image, OpenOptions.forWriting());
            LOG.info("undo of {} from {}: {} blocks restored", image, journal, n);
            return n;
        } catch (XfsException e) {
            throw new RepairException(e.getMessage(), e);
        }
    }

    private static String newRunId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
