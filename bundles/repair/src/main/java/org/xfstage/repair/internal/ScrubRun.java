package org.xfstage.repair.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.repair.SpaceMapRecord;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlobFactory;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * One scrub of one image, or of a view of it with planned blocks in it (nothing is written): the device opened
 * read-only (in a repair, a view of the open the repair holds), the observations staged by a walk and sorted, then each
 * chosen strategy's check ({@link ParallelChecks}). A repair's first scrub also makes its plans here, while the observations are still staged.
 * Every log line carries the run's id.
 * <p>
 * What cannot be decoded is a finding; a scrub that cannot run (device, staging, a strategy failing or hanging,
 * cancellation) ends with a one-line {@link RepairException}.
 */
final class ScrubRun {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    /** How a scrub stages its observations into the space map it is given and {@link Walking#staged()}. */
    interface Walk {
        /** False when the observations cannot be had this way: then nothing is checked. */
        boolean stage(Walking w) throws StagingException;
    }

    /** What a walk works with, and where its findings and figures go; {@code threads}: how many walk the AGs. */
    record Walking(String run, XfsDevice device, FsInfo info, XfArrayFactory arrays, XfBlobFactory blobs,
            PhaseProgress progress, XfArray space, Observations staged, List<Finding> findings, Map<String, Long> figures,
            long startNanos, Map<String, Registered> chosen, RunContext context, boolean planning, int threads) {
    }

    /** What a repair does after the checks, with the device still open and the observations still staged. */
    interface WhileStaged {
        void accept(Map<String, Registered> chosen, RunContext ctx, List<Finding> findings, Observations staged)
                throws RepairException, CancelledException;
    }

    private final Services services;
    private final String run;
    private final Path image;
    private final Progress progress;
    private final Map<String, Registered> chosen;
    private final XfsDeviceService devices;
    private final XfArrayFactory arrays;
    /** The open a repair holds for its whole run, scrubbed through views of it; null: this scrub opens the image itself. */
    private final XfsDevice held;
    /** A repair's first outcomes of the checks: recorded by its first scrub, reused by its re-checks; null: neither. */
    private KeptChecks keptChecks;

    private ScrubRun(Services services, String run, Path image, Progress progress, Map<String, Registered> chosen,
            XfsDeviceService devices, XfArrayFactory arrays, XfsDevice held) {
        this.services = services;
        this.run = run;
        this.image = image;
        this.progress = progress;
        this.chosen = chosen;
        this.devices = devices;
        this.arrays = arrays;
        this.held = held;
    }

    /**
     * The same scrub on {@code device}, opened by the caller (a repair: from its first read to its last write), read
     * through views of it that this scrub closes (closing a view releases nothing) instead of an open of its own.
     */
    ScrubRun on(XfsDevice device) {
        return new ScrubRun(services, run, image, progress, chosen, devices, arrays, device);
    }

    /**
     * This scrub's checks record their outcomes and what they read into {@code k} (a repair's first scrub), or, once it
     * is sealed, reuse those that stand on the view (a re-check: KeptChecks).
     */
    ScrubRun keeping(KeptChecks k) {
        keptChecks = k;
        return this;
    }

    /** A scrub as run {@code run}, with the strategies active now (those {@code options} name, when it names any). */
    static ScrubRun of(Services services, String run, Path image, ScrubOptions options, Progress progress) throws RepairException {
        Map<String, Registered> chosen = services.strategies().active(); // the snapshot this scrub uses
        Set<String> wanted = options == null ? Set.of() : options.structures();
        if (!wanted.isEmpty()) {
            for (String w : wanted) {
                if (!chosen.containsKey(w)) {
                    throw new RepairException("no strategy checks '" + w + "'; known: " + String.join(", ", chosen.keySet()));
                }
            }
            chosen.keySet().retainAll(wanted);
        }
        XfsDeviceService devs = services.devices().get();
        XfArrayFactory arr = services.arrays().get();
        if (devs == null) {
            throw new RepairException("the XFS device service is not available (is bundle xfstage-device started?)");
        }
        if (arr == null) {
            throw new RepairException("the xfarray staging service is not available (are bundles xfstage-xfarray and xfstage-xfile started?)");
        }
        return new ScrubRun(services, run, image, progress == null ? Progress.NONE : progress, chosen, devs, arr, null);
    }

    /** The image, walked whole. */
    ScrubReport scrub() throws RepairException {
        return scrub((chosen, ctx, findings, staged) -> { });
    }

    /** The image, walked whole; {@code then} runs after the checks. */
    ScrubReport scrub(WhileStaged then) throws RepairException {
        return run(List.of(), WholeWalk::stage, then).orElseThrow();
    }

    /** A view of the image with {@code planned} in it, walked whole. */
    ScrubReport scrubView(List<BlockImage> planned) throws RepairException {
        return scrubView(planned, WholeWalk::stage).orElseThrow();
    }

    /** A view of the image with {@code planned} in it, staged by {@code walk}; empty when that walk cannot stage. */
    Optional<ScrubReport> scrubView(List<BlockImage> planned, Walk walk) throws RepairException {
        return run(planned, walk, (chosen, ctx, findings, staged) -> { });
    }

    /** As {@link #scrubView(List, Walk)}; {@code then} runs after the checks (a repair's next round of plans). */
    Optional<ScrubReport> scrubView(List<BlockImage> planned, Walk walk, WhileStaged then) throws RepairException {
        return run(planned, walk, then);
    }

    /** {@code planned} empty: the image itself (a view of no blocks reads as the image). */
    private Optional<ScrubReport> run(List<BlockImage> planned, Walk walk, WhileStaged then) throws RepairException {
        long t0 = System.nanoTime();
        List<Finding> findings = new ArrayList<>();
        Map<String, Long> figures = new LinkedHashMap<>();
        Map<String, String> used = new LinkedHashMap<>();
        chosen.forEach((k, v) -> used.put(k, v.bundle()));
        LOG.info("[{}] start {} with {} strategies", run, image, chosen.size());
        PhaseProgress phases = new PhaseProgress(progress, run, figures);
        // a repair's held open is read through a view (of no blocks: the image itself), which closing releases nothing of
        try (XfsDevice opened = held != null ? held.withPlanned(planned) : devices.open(image, OpenOptions.readOnly());
                XfsDevice view = held != null || planned.isEmpty() ? null : opened.withPlanned(planned)) {
            XfsDevice dev = view == null ? opened : view;
            FsInfo info;
            try {
                info = dev.info();
            } catch (XfsFormatException e) {
                // an AG header that cannot be decoded is damage found, not a run that could not start
                findings.add(new Finding(e.structure() == null ? "agf" : e.structure(), -1, "AG headers", e.getMessage(), null));
                figures.put("millis", (System.nanoTime() - t0) / 1_000_000);
                return Optional.of(new ScrubReport(image.toString(), findings, used, figures));
            }
            if (planned.isEmpty()) { // a re-check's staging is the first scrub's, estimated and checked then
                // the walk stages the tree walk's record only for a check that reads it; for plans it is staged after
                // the checks, and billed then, only when a plan will read it (WalkForPlans)
                boolean walkStaged = WalkForPlans.checksRead(chosen.values());
                StagingBill.billUpFront(run, dev, info, chosen.keySet(), walkStaged, services.xfiles().get(), figures, phases);
            }
            try (Observations staged = new Observations()) {
                XfArray space = arrays.create("scrub " + run + " space map", SpaceMapRecord.SIZE);
                staged.put(Observation.SPACE_MAP, space);
                // strategies make their arrays through a view of the service that lets a run take them away (StrategyRunner)
                RunContext ctx = new RunContext(dev, info, staged, new StrategyStaging(arrays), services.blobsOrMissing(),
                        phases);
                Walking walking = new Walking(run, dev, info, arrays, services.blobs().get(), phases, space, staged, findings,
                        figures, t0, chosen, ctx, held != null, services.threadsToWalk()); // held: a repair's scrub, which plans
                if (!walk.stage(walking)) {
                    return Optional.empty();
                }
                ParallelChecks checks = new ParallelChecks(services, run, chosen, services.threadsToWalk());
                if (keptChecks != null) {
                    checks.keeping(keptChecks, planned);
                }
                checks.check(ctx, findings, phases);
                phases.end();
                KeptChecks.Round round = checks.round();
                if (round != null) {
                    figures.put("checks_reused", (long) round.reused());
                    LOG.info("[{}] re-check: {} check(s) reused as the first scrub ended them (nothing they read changed), "
                            + "run again: {}", run, round.reused(), round.againByReason());
                }
                WalkForPlans.stageIfPlanned(walking, findings, () -> StagingBill.billWalk(run, dev, info, chosen.keySet(),
                        services.xfiles().get(), figures, phases));
                then.accept(chosen, ctx, findings, staged);
                phases.end(); // a repair's plan phase
            }
        } catch (XfsException e) {
            throw new RepairException(e.getMessage(), e);
        } catch (CancelledException e) {
            throw new RepairException("scrub cancelled; nothing was written", e);
        } catch (StagingException e) {
            if (services.arrays().get() != arrays) {
                throw new RepairException("the xfarray staging service went away during the run (is bundle xfstage-xfarray "
                        + "started?); nothing was written", e);
            }
            throw new RepairException("staging failed: " + e.getMessage(), e);
        }
        figures.put("millis", (System.nanoTime() - t0) / 1_000_000);
        XFileFactory xfiles = services.xfiles().get();
        if (xfiles != null && planned.isEmpty()) {
            figures.put("stagingPeak", xfiles.peakBytesUsed());
        }
        LOG.info("[{}] scrub end: {} findings in {} ms", run, findings.size(), figures.get("millis"));
        return Optional.of(new ScrubReport(image.toString(), findings, used, figures));
    }
}
