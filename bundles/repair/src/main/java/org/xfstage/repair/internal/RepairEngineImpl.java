package org.xfstage.repair.internal;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.RecordComparator;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.repair.internal.StrategyRegistry.Registered;

/**
 * The repair engine. Strategies are a whiteboard: every {@link RepairStrategy} service with a
 * {@value RepairStrategy#STRUCTURE} property; per structure the highest service.ranking wins, as the services stand
 * when a run starts. A run opens the device read-only, walks it once staging the observations the chosen strategies
 * need, sorts them, and lets each strategy check.
 */
@Component(service = RepairEngine.class, configurationPid = RepairEngineImpl.PID)
@Designate(ocd = RepairEngineImpl.Config.class)
public class RepairEngineImpl implements RepairEngine {
    static final String PID = "org.xfstage.repair";
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class);

    @ObjectClassDefinition(name = "xfstage repair engine", description = "How long a repair strategy may take.")
    public @interface Config {
        @AttributeDefinition(description = "Seconds a strategy's check or plan may run before the run is stopped with "
                + "its name (nothing is written)")
        long strategyTimeoutSeconds() default 600;
    }

    private volatile long strategyTimeoutSeconds = 600;
    private final StrategyRunner runner = new StrategyRunner(() -> strategyTimeoutSeconds);
    /** Sorts every observation by its first two longs: (agno, agbno) then length of the space map, ino then state. */
    private static final RecordComparator BY_FIRST_LONG = RecordComparator.unsignedLongs(2);

    private final StrategyRegistry registry = new StrategyRegistry();
    private volatile XfsDeviceService devices;
    private volatile XfArrayFactory arrays;

    public RepairEngineImpl() {
    }

    @Activate
    @Modified
    void configure(Config config) {
        strategyTimeoutSeconds = Math.max(1, config.strategyTimeoutSeconds());
    }

    /** An engine wired by hand, for use without a framework (tests, benchmarks). */
    public RepairEngineImpl(XfsDeviceService devices, XfArrayFactory arrays) {
        this.devices = devices;
        this.arrays = arrays;
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
        return run("scrub " + newRunId(), image, options, progress, null, null);
    }

    /** What a repair run does with the checked structures while the scrub's observations are still staged. */
    private interface Planner {
        void plan(Map<String, Registered> chosen, ScrubContext ctx, List<Finding> findings) throws Exception;
    }

    @Override
    public RepairReport repair(Path image, RepairOptions options, Progress progress) throws RepairException {
        if (options.apply() && options.journal() == null) {
            throw new RepairException("--apply needs an undo journal path");
        }
        List<Plan> plans = new ArrayList<>();
        List<String> unrepaired = new ArrayList<>();
        Map<Long, BlockImage> planned = new LinkedHashMap<>(); // every block to write, by offset, the latest plan's image
        String run = "repair " + newRunId();
        try (Kept kept = new Kept()) {
            return repair(run, image, options, progress, plans, unrepaired, planned, kept);
        }
    }

    private RepairReport repair(String run, Path image, RepairOptions options, Progress progress, List<Plan> plans,
            List<String> unrepaired, Map<Long, BlockImage> planned, Kept kept) throws RepairException {
        ScrubReport before = run(run, image, ScrubOptions.all(), progress, null, (chosen, ctx, findings) -> {
            Map<String, List<Finding>> byStructure = new LinkedHashMap<>();
            for (Finding f : findings) {
                byStructure.computeIfAbsent(f.structure(), k -> new ArrayList<>()).add(f);
            }
            Set<String> covered = new HashSet<>();
            for (String structure : order(chosen, byStructure.keySet())) {
                List<Finding> open = new ArrayList<>();
                for (Finding f : byStructure.get(structure)) {
                    if (!covered.contains(f.structure() + "@" + f.agno())) {
                        open.add(f);
                    }
                }
                if (open.isEmpty()) {
                    continue; // an earlier plan puts these right (a rebuilt bnobt rewrites the cntbt and the AGF)
                }
                Registered r = chosen.get(structure);
                // each plan is made on a view with the earlier plans in it: a header two plans change gets both changes
                ScrubContext planCtx = planned.isEmpty() ? ctx : ((Context) ctx).withPlanned(new ArrayList<>(planned.values()));
                Plan p;
                try {
                    p = r == null ? null : runner.run(r, "plan", () -> r.strategy().plan(planCtx, open));
                } catch (XfsFormatException e) {
                    p = null; // what the plan must read is itself damaged: this strategy cannot repair it
                    LOG.info("[{}] strategy '{}' cannot plan: {}", run, structure, e.getMessage());
                }
                if (p == null) {
                    unrepaired.add(structure);
                    continue;
                }
                for (BlockImage b : p.blocks()) {
                    try {
                        planCtx.device().verify(b);
                    } catch (XfsException e) {
                        throw new RepairException("the plan of strategy '" + structure + "' from " + r.bundle()
                                + " does not verify: " + e.getMessage() + "; nothing was written");
                    }
                }
                for (BlockImage b : p.blocks()) {
                    BlockImage earlier = planned.put(b.offset(), b);
                    if (earlier != null) { // the later plan read it through the view: its image holds both changes
                        LOG.info("[{}] plan: {} supersedes the earlier plan's {}", run, structure, earlier.what());
                        for (int i = 0; i < plans.size(); i++) {
                            Plan q = plans.get(i);
                            List<BlockImage> others = q.blocks().stream().filter(x -> x.offset() != b.offset()).toList();
                            plans.set(i, new Plan(q.structure(), others, q.changes(), q.covers()));
                        }
                    }
                }
                plans.add(p);
                LOG.info("[{}] plan: {} writes {} block(s): {}", run, structure, p.blocks().size(), p.changes());
                covered.addAll(p.covers());
            }
        }, options.apply() ? kept : null, null);
        for (Finding f : before.findings()) {
            // findings no plan was asked about (a header that stopped the scrub before planning) are unrepaired too
            if (plans.stream().noneMatch(p -> p.structure().equals(f.structure()) || p.covers().contains(f.structure() + "@" + f.agno()))
                    && !unrepaired.contains(f.structure())) {
                unrepaired.add(f.structure());
            }
        }
        if (before.clean() || !unrepaired.isEmpty() || !options.apply()) {
            return new RepairReport(before, plans, unrepaired, false, null, null);
        }
        List<BlockImage> blocks = new ArrayList<>(planned.values());
        // the re-check before anything is written: the whole scrub again, on a view of the image with the plans in it;
        // when no plan writes inode space, what the first walk read in the inodes and directories is reused
        ScrubReport after = untouched(kept, blocks) ? run(run, image, ScrubOptions.all(), progress, blocks, null, null, kept) : null;
        if (after == null) {
            after = run(run, image, ScrubOptions.all(), progress, blocks, null);
        }
        if (!after.clean()) {
            Finding f = after.findings().get(0);
            String by = plans.stream().filter(p -> p.structure().equals(f.structure()) || p.covers().contains(f.structure() + "@" + f.agno()))
                    .map(p -> "the plan of strategy '" + p.structure() + "'").findFirst()
                    .orElse("the plans of " + plans.stream().map(p -> "'" + p.structure() + "'").toList());
            throw new RepairException(by + " would leave " + f.structure() + " damaged (" + f.location() + ": " + f.problem()
                    + "); nothing was written");
        }
        XfsDeviceService devs = devices;
        if (devs == null) {
            throw new RepairException("the XFS device service went away; nothing was written");
        }
        try (XfsDevice dev = devs.open(image, OpenOptions.forWriting())) {
            dev.commit(blocks, options.journal());
        } catch (XfsException e) {
            throw new RepairException(e.getMessage(), e);
        }
        LOG.info("[{}] write: {} blocks of {} plans written to {} (read back equal), undo journal {}", run, blocks.size(), plans.size(),
                image, options.journal());
        return new RepairReport(before, plans, unrepaired, true, options.journal().toString(), after);
    }

    /** Structures in an order where each comes after those its strategy names in after(). */
    private static List<String> order(Map<String, Registered> chosen, Collection<String> structures) throws RepairException {
        List<String> out = new ArrayList<>();
        Set<String> visiting = new HashSet<>();
        for (String s : new TreeSet<>(structures)) {
            visit(s, chosen, new HashSet<>(structures), visiting, out);
        }
        return out;
    }

    private static void visit(String s, Map<String, Registered> chosen, Set<String> wanted, Set<String> visiting,
            List<String> out) throws RepairException {
        if (out.contains(s)) {
            return;
        }
        if (!visiting.add(s)) {
            throw new RepairException("repair strategies depend on each other in a cycle through '" + s + "'");
        }
        Registered r = chosen.get(s);
        if (r != null) {
            for (String before : new TreeSet<>(r.strategy().after())) {
                if (wanted.contains(before)) {
                    visit(before, chosen, wanted, visiting, out);
                }
            }
        }
        visiting.remove(s);
        out.add(s);
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

    /**
     * One scrub (and, for a repair, its planning) as run {@code run}: every log line of it carries that id. The walk,
     * the strategies' checks, and the planner while the observations are staged. With {@code planned}, on a view of
     * the image with those blocks in it (nothing is written).
     */
    private ScrubReport run(String run, Path image, ScrubOptions options, Progress progress, List<BlockImage> planned,
            Planner planner) throws RepairException {
        return run(run, image, options, progress, planned, planner, null, null);
    }

    /**
     * As above; {@code keep} receives the observations of the inodes and the tree (space map, inode map, link
     * counts, chunk digest) instead of their being closed; with {@code reuse}, those are taken from an earlier run
     * and only the metadata is walked again; null is returned when the inobts list other chunks than then.
     */
    private ScrubReport run(String run, Path image, ScrubOptions options, Progress progress, List<BlockImage> planned,
            Planner planner, Kept keep, Kept reuse) throws RepairException {
        Progress p = progress == null ? Progress.NONE : progress;
        Map<String, Registered> chosen = registry.active(); // the snapshot this run uses
        Set<String> wanted = options == null ? Set.of() : options.structures();
        if (!wanted.isEmpty()) {
            for (String w : wanted) {
                if (!chosen.containsKey(w)) {
                    throw new RepairException("no strategy checks '" + w + "'; known: " + String.join(", ", chosen.keySet()));
                }
            }
            chosen.keySet().retainAll(wanted);
        }
        XfsDeviceService devs = devices;
        XfArrayFactory arr = arrays;
        if (devs == null) {
            throw new RepairException("the XFS device service is not available (is bundle xfstage-device started?)");
        }
        if (arr == null) {
            throw new RepairException("the xfarray staging service is not available (are bundles xfstage-xfarray and xfstage-xfile started?)");
        }
        long t0 = System.nanoTime();
        List<Finding> findings = new ArrayList<>();
        Map<String, Long> figures = new LinkedHashMap<>();
        Map<String, String> used = new LinkedHashMap<>();
        chosen.forEach((k, v) -> used.put(k, v.bundle()));
        LOG.info("[{}] start {} with {} strategies", run, image, chosen.size());
        try (XfsDevice opened = devs.open(image, OpenOptions.readOnly());
                XfsDevice view = planned == null ? null : opened.withPlanned(planned)) {
            XfsDevice dev = view == null ? opened : view;
            FsInfo info;
            try {
                info = dev.info();
            } catch (XfsFormatException e) {
                // an AG header that cannot be decoded is damage found, not a run that could not start
                findings.add(new Finding(e.getMessage().startsWith("AGI") ? "agi" : "agf", -1, "AG headers", e.getMessage(), null));
                figures.put("millis", (System.nanoTime() - t0) / 1_000_000);
                return new ScrubReport(image.toString(), findings, used, figures);
            }
            EnumSet<Observation> needed = EnumSet.noneOf(Observation.class);
            for (Registered r : chosen.values()) {
                needed.addAll(r.strategy().needs());
            }
            Map<Observation, XfArray> staged = new EnumMap<>(Observation.class);
            try {
                XfArray space = arr.create("scrub " + run + " space map", SpaceWalk.SPACE_RECORD);
                staged.put(Observation.SPACE_MAP, space);
                if (reuse == null) {
                    XfArray inodes = arr.create("scrub " + run + " inode map", SpaceWalk.INODE_RECORD);
                    staged.put(Observation.INODE_MAP, inodes);
                    XfArray links = arr.create("scrub " + run + " link counts", LinkCounter.RECORD);
                    staged.put(Observation.LINK_COUNTS, links);
                    SpaceWalk walk = new SpaceWalk(dev, info, space, inodes, findings::add, p);
                    walk.walk();
                    long t1 = System.nanoTime();
                    LinkCounter counter = new LinkCounter(links);
                    try {
                        dev.manifest(false, p, counter); // every directory, symlink and extent map reachable from the root
                    } catch (XfsException e) {
                        findings.add(new Finding("directory", -1, "tree walk", e.getMessage(), null));
                    }
                    counter.finish();
                    long t2 = System.nanoTime();
                    links.sort(BY_FIRST_LONG, SortOptions.DEFAULT, p);
                    space.sort(BY_FIRST_LONG, SortOptions.DEFAULT, p);
                    if (!walk.inodesInOrder) { // a healthy inobt gives them in order; a damaged one may not
                        inodes.sort(BY_FIRST_LONG, SortOptions.DEFAULT, p);
                    }
                    long t3 = System.nanoTime();
                    figures.put("extents", walk.extents);
                    figures.put("inodes", walk.inodesSeen);
                    figures.put("walk_ms", (t1 - t0) / 1_000_000);
                    figures.put("tree_walk_ms", (t2 - t1) / 1_000_000);
                    figures.put("sort_ms", (t3 - t2) / 1_000_000);
                    if (keep != null) {
                        keep.chunks = walk.chunks();
                        keep.info = info;
                    }
                    LOG.info("[{}] walk: {} extents, {} inodes staged, {} findings", run, walk.extents, walk.inodesSeen, findings.size());
                } else {
                    try (XfArray meta = arr.create("scrub " + run + " metadata space", SpaceWalk.SPACE_RECORD)) {
                        SpaceWalk walk = new SpaceWalk(dev, info, meta, null, findings::add, p);
                        walk.walk();
                        if (!java.util.Arrays.equals(walk.chunks(), reuse.chunks)) {
                            LOG.info("[{}] re-check: the inobts list other chunks now; the inodes are read again", run);
                            return null;
                        }
                        meta.sort(BY_FIRST_LONG, SortOptions.DEFAULT, p);
                        withInodeSpace(meta, reuse.space, space);
                        figures.put("extents", walk.extents + space.length() - meta.length());
                        figures.put("inodes_reused", reuse.inodes.length());
                    }
                    staged.put(Observation.INODE_MAP, reuse.inodes);
                    staged.put(Observation.LINK_COUNTS, reuse.links);
                    LOG.info("[{}] walk: metadata again, the inodes' space, inode map and link counts of the first scrub", run);
                }
                ScrubContext ctx = new Context(dev, info, staged, arr, p);
                for (Registered r : chosen.values()) {
                    if (p.isCancelled()) {
                        throw new CancelledException("scrub cancelled before " + r.structure());
                    }
                    try {
                        List<Finding> found = runner.run(r, "finish its check", () -> {
                            List<Finding> out = new ArrayList<>();
                            r.strategy().check(ctx, out::add);
                            return out;
                        });
                        findings.addAll(found);
                    } catch (StagingException e) { // CancelledException included
                        throw e; // the run's own trouble (cancelled, staging gone or full), not the strategy's
                    } catch (XfsFormatException e) {
                        // the structure the strategy reads is itself unreadable: that is damage found
                        findings.add(new Finding(r.structure(), -1, "while checking", e.getMessage(), null));
                    } catch (Exception e) {
                        throw new RepairException("strategy '" + r.structure() + "' from " + r.bundle() + " failed: " + e, e);
                    }
                }
                if (planner != null && !findings.isEmpty()) {
                    try {
                        planner.plan(chosen, ctx, findings);
                    } catch (RepairException | CancelledException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new RepairException("planning the repair failed: " + e, e);
                    }
                }
                if (keep != null) {
                    keep.space = staged.remove(Observation.SPACE_MAP);
                    keep.inodes = staged.remove(Observation.INODE_MAP);
                    keep.links = staged.remove(Observation.LINK_COUNTS);
                }
            } finally {
                if (reuse != null) { // the earlier run's: its holder closes them
                    staged.remove(Observation.INODE_MAP);
                    staged.remove(Observation.LINK_COUNTS);
                }
                staged.values().forEach(XfArray::close);
            }
        } catch (XfsException e) {
            throw new RepairException(e.getMessage(), e);
        } catch (CancelledException e) {
            throw new RepairException("scrub cancelled; nothing was written", e);
        } catch (StagingException e) {
            if (arrays != arr) {
                throw new RepairException("the xfarray staging service went away during the run (is bundle xfstage-xfarray "
                        + "started?); nothing was written", e);
            }
            throw new RepairException("staging failed: " + e.getMessage(), e);
        }
        figures.put("millis", (System.nanoTime() - t0) / 1_000_000);
        LOG.info("[{}] scrub end: {} findings in {} ms", run, findings.size(), figures.get("millis"));
        return new ScrubReport(image.toString(), findings, used, figures);
    }

    /** What a repair's first scrub found in the inodes and the directory tree, kept for the re-check of its plans. */
    private static final class Kept implements AutoCloseable {
        XfArray space;
        XfArray inodes;
        XfArray links;
        byte[] chunks;
        FsInfo info;

        /**
         * Whether the plans leave the inodes' space, the inodes and the directories alone: none of their blocks is
         * (per the space map) an inode chunk's or a file's; then what the first walk read there still holds.
         */
        boolean untouchedBy(List<BlockImage> blocks) throws StagingException {
            if (space == null || inodes == null || links == null || chunks == null || info == null) {
                return false;
            }
            long agBytes = info.agBlocks() * info.blockSize();
            ByteBuffer r = ByteBuffer.allocate(SpaceWalk.SPACE_RECORD);
            for (BlockImage b : blocks) {
                long agno = b.offset() / agBytes;
                long first = (b.offset() % agBytes) / info.blockSize();
                long last = (b.offset() % agBytes + b.bytes().length - 1) / info.blockSize();
                // the last record starting at or before the block's last, and those before it that may reach it
                long lo = 0;
                long hi = space.length() - 1;
                long at = -1;
                while (lo <= hi) {
                    long mid = (lo + hi) >>> 1;
                    space.load(mid, r);
                    if (Long.compareUnsigned(SpaceWalk.spaceKey(r), SpaceWalk.spaceKey(agno, last)) <= 0) {
                        at = mid;
                        lo = mid + 1;
                    } else {
                        hi = mid - 1;
                    }
                }
                // extents of inode space are at most 2^21 blocks; look back over those that might still cover it
                for (long i = at; i >= 0; i--) {
                    space.load(i, r);
                    long start = SpaceWalk.spaceStart(r);
                    if (SpaceWalk.spaceAg(r) != agno || start + (1L << 21) <= first) {
                        break;
                    }
                    long owner = SpaceWalk.spaceOwner(r);
                    boolean inodeSpace = owner >= 0 || owner == ScrubContext.OWNER_INODES;
                    if (inodeSpace && start + SpaceWalk.spaceLength(r) > first) {
                        return false;
                    }
                }
            }
            return true;
        }

        @Override
        public void close() {
            for (XfArray a : new XfArray[] {space, inodes, links}) {
                if (a != null) {
                    a.close();
                }
            }
        }
    }

    private static boolean untouched(Kept kept, List<BlockImage> blocks) {
        try {
            return kept.untouchedBy(blocks);
        } catch (StagingException e) {
            return false; // cannot tell: the re-check reads everything again
        }
    }

    /** The metadata space map (sorted) with the first scrub's records of inode space merged in, in order, into {@code out}. */
    private static void withInodeSpace(XfArray meta, XfArray first, XfArray out) throws StagingException {
        ByteBuffer a = ByteBuffer.allocate(SpaceWalk.SPACE_RECORD);
        ByteBuffer b = ByteBuffer.allocate(SpaceWalk.SPACE_RECORD);
        long i = meta.loadNext(0, a);
        long j = nextOfInodes(first, 0, b);
        while (i >= 0 || j >= 0) {
            if (j < 0 || (i >= 0 && Long.compareUnsigned(SpaceWalk.spaceKey(a), SpaceWalk.spaceKey(b)) <= 0)) {
                out.append(a.array());
                i = meta.loadNext(i + 1, a);
            } else {
                out.append(b.array());
                j = nextOfInodes(first, j + 1, b);
            }
        }
    }

    /** The next space map record of a file's (owner an inode number), or -1. */
    private static long nextOfInodes(XfArray space, long from, ByteBuffer r) throws StagingException {
        for (long i = space.loadNext(from, r); i >= 0; i = space.loadNext(i + 1, r)) {
            if (SpaceWalk.spaceOwner(r) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private record Context(XfsDevice device, FsInfo info, Map<Observation, XfArray> staged, XfArrayFactory arrays,
            Progress progress) implements ScrubContext {
        @Override
        public XfArray observation(Observation o) {
            return staged.get(o);
        }

        /** The same observations, with the device (and its counters) as a view with {@code blocks} written. */
        Context withPlanned(List<BlockImage> blocks) throws XfsException {
            XfsDevice view = device.withPlanned(blocks);
            return new Context(view, view.info(), staged, arrays, progress);
        }
    }
}
