package org.xfstage.fleet.internal;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.fleet.internal.DeviceResult.Verdict;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.ClassFilter;
import com.hazelcast.config.Config;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.map.IMap;
import com.hazelcast.spi.exception.TargetNotMemberException;

/**
 * One member of the fleet: an embedded Hazelcast member, the devices this member owns, and the fleet's operations.
 *
 * <p>The cluster holds four things, all in the open-source engine: an executor that runs a task on a chosen member
 * (the scrub of a device goes to the member that owns it; the image never moves), a map of devices (who owns what),
 * a map of results (the last verdict per device), and a map of leases: a device's entry there is locked with
 * {@code IMap.tryLock(key, 0, lease)} while a scrub or repair runs on it, so two runs of one device never overlap,
 * from any console; the engine frees a lock when its member dies or the lease runs out. No CP subsystem (it needs
 * three members or Enterprise for its guarantees).
 *
 * <p>Exactly one member schedules: the oldest member of the cluster (the first of {@code getMembers()}, the same on
 * every member), which changes only when that member leaves; membership events make the new oldest look at once.
 */
final class FleetNode implements AutoCloseable {
    static final String EXECUTOR = "xfstage.fleet";
    static final String DEVICES = "xfstage.fleet.devices";
    static final String RESULTS = "xfstage.fleet.results";
    static final String LEASES = "xfstage.fleet.leases";
    static final String HOLDERS = "xfstage.fleet.holders";
    static final String SCHEDULER = "xfstage.fleet.scheduler";

    private static final Logger LOG = LoggerFactory.getLogger(FleetNode.class);

    /** The fleet of each embedded instance in this JVM, by instance name: where a task that arrives finds its member. */
    private static final Map<String, FleetNode> LOCAL = new ConcurrentHashMap<>();

    private final FleetSettings settings;
    private final RepairEngine engine;
    private final String version;
    /** device id to path, the devices this member owns */
    private final Map<String, String> owned = new LinkedHashMap<>();
    private final Map<String, String> refused;
    private final HazelcastInstance hz;
    private final Scheduler scheduler;
    private volatile boolean closing;

    /** A progress that stops the engine's runs when this member stops: their devices are then reported as left. */
    private final Progress stopping = new Progress() {
        @Override
        public void total(String phase, long units) {
        }

        @Override
        public void increment(long units) {
        }

        @Override
        public boolean isCancelled() {
            return closing;
        }
    };

    /**
     * Starts the member and joins the cluster (this can take seconds: the member list is tried first).
     *
     * @param paths   the devices this member owns, already checked against the device service's allowedPaths
     * @param refused configured devices left out, with the reason
     */
    FleetNode(FleetSettings settings, RepairEngine engine, String version, List<String> paths, Map<String, String> refused) {
        this.settings = settings;
        this.engine = engine;
        this.version = version;
        this.refused = Map.copyOf(refused);
        for (String p : paths) {
            owned.put(settings.deviceId(p), p);
        }
        hz = Hazelcast.newHazelcastInstance(config(settings));
        LOCAL.put(hz.getName(), this);
        register();
        scheduler = new Scheduler(this, settings);
        hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                LOG.info("fleet {}: member {} joined", settings.nodeName(), e.getMember().getAddress());
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                LOG.info("fleet {}: member {} left", settings.nodeName(), e.getMember().getAddress());
                scheduler.nudge();
            }
        });
        scheduler.start();
        LOG.info("fleet {}: member of cluster '{}' at {} with {} device(s)", settings.nodeName(), settings.clusterName(),
                hz.getCluster().getLocalMember().getAddress(), owned.size());
    }

    /** The Hazelcast configuration: TCP/IP member list only, the configured interface, no phone home, no Jet. */
    static Config config(FleetSettings s) {
        Config c = new Config();
        c.setClusterName(s.clusterName());
        // unique per JVM (tests run several members in one); tasks find their member by it
        c.setInstanceName("xfstage-fleet-" + s.nodeName() + "-" + INSTANCES.incrementAndGet());
        // tasks and results are classes of this bundle: Hazelcast must deserialize them with its loader
        c.setClassLoader(FleetNode.class.getClassLoader());
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.shutdownhook.enabled", "false"); // the component stops the member with Karaf
        c.setProperty("hazelcast.logging.type", "jdk"); // Karaf's pax-logging takes java.util.logging; no slf4j 2 needed
        s.properties().forEach(c::setProperty);
        c.getJetConfig().setEnabled(false);
        // tasks and results come from other members through Java serialization: only the fleet's own classes and the
        // JDK and Hazelcast types they are made of are read ("[" lets arrays through, their elements are checked), in
        // place of Hazelcast's default list, which lets every java* class through; so a process that reaches the port
        // cannot have a member deserialize a gadget chain of other classes
        JavaSerializationFilterConfig filter = new JavaSerializationFilterConfig().setDefaultsDisabled(true).setWhitelist(new ClassFilter()
                .addPrefixes(FleetNode.class.getPackageName() + ".", "java.lang.", "java.util.", "java.time.", "com.hazelcast.", "["));
        c.getSerializationConfig().setJavaSerializationFilterConfig(filter);
        c.getExecutorConfig(EXECUTOR).setPoolSize(s.poolSize());
        NetworkConfig n = c.getNetworkConfig();
        n.setPort(s.port()).setPortAutoIncrement(false);
        if (!s.bindInterface().isBlank()) {
            n.getInterfaces().setEnabled(true).addInterface(s.bindInterface());
            // bind that interface only, not 0.0.0.0
            c.setProperty("hazelcast.socket.bind.any", "false");
        }
        JoinConfig j = n.getJoin();
        j.getMulticastConfig().setEnabled(false);
        j.getAutoDetectionConfig().setEnabled(false);
        j.getTcpIpConfig().setEnabled(true).setMembers(s.members());
        return c;
    }

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /** The fleet of the member a task arrived on, or null when it is stopping. */
    static FleetNode local(HazelcastInstance instance) {
        return instance == null ? null : LOCAL.get(instance.getName());
    }

    /** Publishes this member's devices, replacing what an earlier run of this member published. */
    private void register() {
        IMap<String, DeviceEntry> devices = hz.getMap(DEVICES);
        String uuid = hz.getCluster().getLocalMember().getUuid().toString();
        for (DeviceEntry e : devices.values()) {
            if (e.node().equals(settings.nodeName()) && !owned.containsKey(e.device())) {
                devices.delete(e.device()); // no longer configured here
            }
        }
        owned.forEach((id, path) -> devices.set(id, new DeviceEntry(id, settings.nodeName(), path, uuid)));
    }

    String nodeName() {
        return settings.nodeName();
    }

    HazelcastInstance instance() {
        return hz;
    }

    FleetSettings settings() {
        return settings;
    }

    /** Whether this member schedules: it is the oldest in the cluster. */
    boolean isScheduler() {
        if (closing || !hz.getLifecycleService().isRunning()) {
            return false;
        }
        Set<Member> members = hz.getCluster().getMembers();
        return !members.isEmpty() && members.iterator().next().localMember();
    }

    // ---- on the owning member -------------------------------------------------------------------------------------

    /** Scrubs one of this member's devices under its lease and records the verdict in the results map. */
    DeviceResult scrubLocal(String device) {
        String path = owned.get(device);
        long start = System.currentTimeMillis();
        if (path == null) {
            return new DeviceResult(device, nodeName(), null, start, Verdict.FAILED, List.of(), 0, "not a device of " + nodeName(), null, 0);
        }
        IMap<String, String> leases = hz.getMap(LEASES);
        IMap<String, String> holders = hz.getMap(HOLDERS);
        if (!lease(leases, device)) {
            return busy(device, path, start, holders.get(device));
        }
        IMap<String, DeviceResult> results = hz.getMap(RESULTS);
        String holder = nodeName() + " scrub since " + Instant.ofEpochMilli(start);
        try {
            holders.set(device, holder);
            LOG.info("fleet {}: scrub of {} starts", nodeName(), path);
            ScrubReport r = engine.scrub(Path.of(path), ScrubOptions.all(), stopping);
            long took = System.currentTimeMillis() - start;
            DeviceResult res = new DeviceResult(device, nodeName(), path, start, r.clean() ? Verdict.CLEAN : Verdict.DAMAGED,
                    lines(r.findings()), took, null, null, start);
            results.set(device, res);
            LOG.info("fleet {}: scrub of {}: {} ({} finding(s), {} ms)", nodeName(), path, res.verdict(), r.findings().size(), took);
            return res;
        } catch (Exception e) {
            return trouble(results, device, path, start, "scrub", e);
        } finally {
            release(leases, holders, device, holder);
        }
    }

    /** Repairs one of this member's devices under its lease; the undo journal is written here, next to the image. */
    DeviceResult repairLocal(String device, boolean apply, String requester) {
        String path = owned.get(device);
        long start = System.currentTimeMillis();
        if (path == null) {
            return new DeviceResult(device, nodeName(), null, start, Verdict.FAILED, List.of(), 0, "not a device of " + nodeName(), null, 0);
        }
        IMap<String, String> leases = hz.getMap(LEASES);
        IMap<String, String> holders = hz.getMap(HOLDERS);
        if (!lease(leases, device)) {
            LOG.info("fleet {}: repair of {} for {} refused: the device is under a lease", nodeName(), path, requester);
            return busy(device, path, start, holders.get(device));
        }
        IMap<String, DeviceResult> results = hz.getMap(RESULTS);
        String holder = nodeName() + " repair" + (apply ? " --apply" : "") + " from " + requester + " since " + Instant.ofEpochMilli(start);
        try {
            holders.set(device, holder);
            Path journal = apply ? Path.of(path + ".xfstage-undo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))
                    : null;
            LOG.info("fleet {}: repair{} of {} for {} starts", nodeName(), apply ? " --apply" : " (dry run)", path, requester);
            RepairReport r = engine.repair(Path.of(path), new RepairOptions(apply, journal), stopping);
            long took = System.currentTimeMillis() - start;
            List<String> found = lines(r.before().findings());
            int blocks = r.plans().stream().mapToInt(p -> p.blocks().size()).sum();
            DeviceResult res;
            if (r.before().clean()) {
                res = new DeviceResult(device, nodeName(), path, start, Verdict.CLEAN, found, took, "nothing to repair", null, start);
                results.set(device, res);
            } else if (!r.unrepaired().isEmpty()) {
                res = new DeviceResult(device, nodeName(), path, start, Verdict.NOT_REPAIRED, found, took,
                        "no strategy repairs " + String.join(", ", r.unrepaired()) + "; nothing was written", null, 0);
            } else if (!r.applied()) {
                res = new DeviceResult(device, nodeName(), path, start, Verdict.DRY_RUN, found, took,
                        r.plans().size() + " plan(s), " + blocks + " block(s) to write; nothing was written", null, 0);
            } else {
                boolean clean = r.after().clean();
                res = new DeviceResult(device, nodeName(), path, start, clean ? Verdict.REPAIRED : Verdict.NOT_REPAIRED,
                        clean ? found : lines(r.after().findings()), took,
                        blocks + " block(s) written" + (clean ? "" : "; still damaged after writing"), r.journal(), 0);
                // what the scrub after writing says is now the device's last verdict
                results.set(device, new DeviceResult(device, nodeName(), path, start, clean ? Verdict.CLEAN : Verdict.DAMAGED,
                        lines(r.after().findings()), took, "after a repair; undo journal " + r.journal() + " on " + nodeName(), r.journal(), start));
            }
            LOG.info("fleet {}: repair of {}: {} ({})", nodeName(), path, res.verdict(), res.detail());
            return res;
        } catch (Exception e) {
            return trouble(results, device, path, start, "repair", e);
        } finally {
            release(leases, holders, device, holder);
        }
    }

    private boolean lease(IMap<String, String> leases, String device) {
        try {
            return leases.tryLock(device, 0, TimeUnit.SECONDS, settings.leaseMinutes(), TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Frees the lease. Who holds it is kept in a map of its own: a write to a locked key by another thread blocks, so
     * nothing but the lock is done on the leases map, and the holder entry is removed only if it is still this run's
     * (after a lease ran out, the next run's entry stays).
     */
    private static void release(IMap<String, String> leases, IMap<String, String> holders, String device, String holder) {
        try {
            holders.remove(device, holder);
            leases.unlock(device);
        } catch (HazelcastInstanceNotActiveException | IllegalMonitorStateException e) {
            // this member is stopping (the cluster frees its locks) or the lease ran out: nothing left to free
        }
    }

    private DeviceResult busy(String device, String path, long start, String holder) {
        return new DeviceResult(device, nodeName(), path, start, Verdict.BUSY, List.of(), 0,
                "under a lease: " + (holder == null ? "another run" : holder), null, 0);
    }

    /** A run that did not come to a verdict: stopped with this member, or could not run. */
    private DeviceResult trouble(IMap<String, DeviceResult> results, String device, String path, long start, String what, Exception e) {
        long took = System.currentTimeMillis() - start;
        if (closing) {
            return new DeviceResult(device, nodeName(), path, start, Verdict.MEMBER_LEFT, List.of(), took, "member stopped during the " + what,
                    null, 0);
        }
        if (!(e instanceof org.xfstage.api.repair.RepairException)) {
            LOG.error("fleet {}: {} of {} failed", nodeName(), what, path, e);
        }
        DeviceResult res = new DeviceResult(device, nodeName(), path, start, Verdict.FAILED, List.of(), took,
                "could not " + what + ": " + e.getMessage(), null, 0);
        try {
            results.set(device, keepLastCompleted(results, res));
        } catch (HazelcastInstanceNotActiveException x) {
            // stopping: the caller reports the device as left
        }
        return res;
    }

    private static DeviceResult keepLastCompleted(IMap<String, DeviceResult> results, DeviceResult r) {
        DeviceResult before = results.get(r.device());
        long last = before == null ? 0 : before.lastCompletedMillis();
        return new DeviceResult(r.device(), r.node(), r.path(), r.startMillis(), r.verdict(), r.findings(), r.durationMillis(), r.detail(),
                r.journal(), last);
    }

    static List<String> lines(List<Finding> findings) {
        List<String> out = new ArrayList<>();
        for (Finding f : findings) {
            out.add(f.structure() + (f.agno() < 0 ? "" : " ag " + f.agno()) + " " + f.location() + ": " + f.problem()
                    + (f.expected() == null ? "" : " (expected " + f.expected() + ")"));
        }
        return out;
    }

    /** What this member says about itself. */
    MemberInfo info() {
        Map<String, String> strategies = new TreeMap<>();
        for (RepairEngine.StrategyInfo s : engine.strategies()) {
            if (s.active()) {
                strategies.put(s.structure(), s.bundle() + "@" + s.ranking());
            }
        }
        return new MemberInfo(nodeName(), String.valueOf(hz.getCluster().getLocalMember().getAddress()), version, strategies,
                new ArrayList<>(owned.keySet()), refused, isScheduler());
    }

    // ---- from any member ------------------------------------------------------------------------------------------

    /** Every member's description, oldest member first; a member that leaves while asked is left out. */
    List<MemberInfo> members() throws InterruptedException {
        Map<Member, Future<MemberInfo>> answers = executor().submitToAllMembers(new FleetTasks.Info());
        List<MemberInfo> out = new ArrayList<>();
        for (Member m : hz.getCluster().getMembers()) {
            Future<MemberInfo> f = answers.get(m);
            if (f == null) {
                continue;
            }
            try {
                MemberInfo info = answer(f, () -> !hz.getCluster().getMembers().contains(m));
                if (info != null) {
                    out.add(info);
                }
            } catch (ExecutionException e) {
                LOG.info("fleet {}: member {} did not answer: {}", nodeName(), m.getAddress(), e.getCause().toString());
            }
        }
        return out;
    }

    /** The devices of the cluster, by id. */
    List<DeviceEntry> devices() {
        List<DeviceEntry> list = new ArrayList<>(hz.<String, DeviceEntry>getMap(DEVICES).values());
        list.sort(Comparator.comparing(DeviceEntry::device));
        return list;
    }

    /**
     * Scrubs every device of the cluster on the member that owns it, at most {@code parallel} at a time per member,
     * and returns the verdicts in device order. A device whose member leaves (or is absent) is reported as left;
     * the other members' verdicts are kept.
     */
    List<DeviceResult> scrubAll(int parallel) throws InterruptedException {
        if (parallel < 1) {
            throw new IllegalArgumentException("--parallel must be at least 1");
        }
        List<DeviceEntry> entries = devices();
        Map<String, ConcurrentLinkedQueue<DeviceEntry>> byMember = new LinkedHashMap<>();
        for (DeviceEntry e : entries) {
            byMember.computeIfAbsent(e.memberUuid(), k -> new ConcurrentLinkedQueue<>()).add(e);
        }
        Map<String, DeviceResult> results = new ConcurrentHashMap<>();
        int threads = byMember.values().stream().mapToInt(q -> Math.min(parallel, q.size())).sum();
        if (threads == 0) {
            return List.of();
        }
        // the calling side waits for each answer on a thread of its own; the members do the work
        ExecutorService callers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "xfstage-fleet-scrub-" + nodeName());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (ConcurrentLinkedQueue<DeviceEntry> q : byMember.values()) {
                for (int i = 0; i < Math.min(parallel, q.size()); i++) {
                    workers.add(callers.submit(() -> {
                        for (DeviceEntry e; (e = q.poll()) != null;) {
                            results.put(e.device(), runOn(e, new FleetTasks.Scrub(e.device())));
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> w : workers) {
                try {
                    w.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("fleet scrub failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            callers.shutdownNow(); // after an interrupt: stop waiting (the members finish their runs and record them)
        }
        List<DeviceResult> out = new ArrayList<>();
        for (DeviceEntry e : entries) {
            out.add(results.get(e.device()));
        }
        return out;
    }

    /**
     * Repairs the named devices (ids, or paths that only one member owns), each on its member under its lease, one
     * after the other.
     */
    List<DeviceResult> repair(List<String> names, boolean apply, String requester) throws InterruptedException {
        List<DeviceEntry> entries = devices();
        List<DeviceResult> out = new ArrayList<>();
        for (String name : names) {
            List<DeviceEntry> match = entries.stream().filter(e -> e.device().equals(name)).toList();
            if (match.isEmpty()) {
                match = entries.stream().filter(e -> e.path().equals(name)).toList();
            }
            long now = System.currentTimeMillis();
            if (match.size() != 1) {
                out.add(new DeviceResult(name, "-", name, now, Verdict.UNKNOWN, List.of(), 0, match.isEmpty() ? "no member owns it"
                        : "owned by several members, name one: " + match.stream().map(DeviceEntry::device).toList(), null, 0));
                continue;
            }
            DeviceEntry e = match.get(0);
            LOG.info("fleet {}: repair{} of {} sent to its member for {}", nodeName(), apply ? " --apply" : "", e.device(), requester);
            out.add(runOn(e, new FleetTasks.Repair(e.device(), apply, requester)));
        }
        return out;
    }

    /** Runs a task on the device's member and waits for it; a member that is gone or goes answers "member left". */
    private DeviceResult runOn(DeviceEntry e, FleetTasks.OnMember<DeviceResult> task) throws InterruptedException {
        Member m = member(e.memberUuid());
        if (m == null) {
            return left(e, "its member is not in the cluster");
        }
        Future<DeviceResult> f = null;
        try {
            f = executor().submitToMember(task, m);
            DeviceResult r = answer(f, () -> member(e.memberUuid()) == null);
            return r != null ? r : left(e, "left during the run");
        } catch (ExecutionException | RejectedExecutionException | TargetNotMemberException x) {
            if (memberGone(x) || member(e.memberUuid()) == null) {
                return left(e, "left during the run");
            }
            Throwable cause = x instanceof ExecutionException ? x.getCause() : x;
            return new DeviceResult(e.device(), e.node(), e.path(), System.currentTimeMillis(), Verdict.FAILED, List.of(), 0,
                    "could not run on " + e.node() + ": " + cause, null, 0);
        } catch (InterruptedException x) {
            if (f != null) {
                f.cancel(true);
            }
            throw x;
        }
    }

    /** How often a wait for a member's answer looks at the interrupt flag and at the member. */
    private static final long POLL_MILLIS = 200;

    /**
     * A member's answer, or null when the member is gone and the answer has not come. Hazelcast's {@code get()} parks
     * again after an interrupt, so the answer is polled: Ctrl-C (an interrupt of the command's thread) ends the wait
     * and cancels the task, and a member that is no longer in the cluster ends it too.
     */
    static <T> T answer(Future<T> f, java.util.function.BooleanSupplier gone) throws InterruptedException, ExecutionException {
        while (true) {
            if (Thread.interrupted()) {
                f.cancel(true);
                throw new InterruptedException();
            }
            try {
                return f.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException t) {
                if (gone.getAsBoolean() && !f.isDone()) {
                    return null;
                }
            }
        }
    }

    private static boolean memberGone(Throwable x) {
        for (Throwable t = x; t != null; t = t.getCause()) {
            if (t instanceof MemberLeftException || t instanceof TargetNotMemberException || t instanceof HazelcastInstanceNotActiveException
                    || t instanceof FleetTasks.MemberStopping) {
                return true;
            }
        }
        return false;
    }

    /** The device's member left: recorded so (its last scrub time kept, from which it becomes overdue). */
    private DeviceResult left(DeviceEntry e, String detail) {
        IMap<String, DeviceResult> results = hz.getMap(RESULTS);
        DeviceResult r = keepLastCompleted(results, new DeviceResult(e.device(), e.node(), e.path(), System.currentTimeMillis(),
                Verdict.MEMBER_LEFT, List.of(), 0, detail, null, 0));
        results.set(e.device(), r);
        return r;
    }

    /** The live member of that uuid, or null. */
    Member member(String uuid) {
        for (Member m : hz.getCluster().getMembers()) {
            if (m.getUuid().toString().equals(uuid)) {
                return m;
            }
        }
        return null;
    }

    IExecutorService executor() {
        return hz.getExecutorService(EXECUTOR);
    }

    /** One row of {@code xfs:fleet-status}: the device, its last result, and who holds its lease now (or null). */
    record Status(DeviceEntry device, DeviceResult last, boolean present, boolean overdue, String lease) {
    }

    /** The last verdict of every device, and which are overdue by this member's scrubIntervalHours. */
    List<Status> status() {
        IMap<String, DeviceResult> results = hz.getMap(RESULTS);
        IMap<String, String> leases = hz.getMap(LEASES);
        IMap<String, String> holders = hz.getMap(HOLDERS);
        long now = System.currentTimeMillis();
        List<Status> out = new ArrayList<>();
        for (DeviceEntry e : devices()) {
            DeviceResult r = results.get(e.device());
            // a holder entry outlives a member that died holding the lease; the lock does not
            String lease = leases.isLocked(e.device()) ? holders.get(e.device()) : null;
            out.add(new Status(e, r, member(e.memberUuid()) != null, overdue(r, now), lease));
        }
        return out;
    }

    /** Never scrubbed to a verdict, or longer ago than the interval; nothing is overdue without a schedule. */
    boolean overdue(DeviceResult r, long now) {
        if (settings.scrubIntervalHours() <= 0) {
            return false;
        }
        return r == null || r.lastCompletedMillis() == 0 || now - r.lastCompletedMillis() > intervalMillis();
    }

    long intervalMillis() {
        return (long) (settings.scrubIntervalHours() * 3_600_000d);
    }

    /** The member that schedules, as it last said. */
    String schedulerName() {
        return hz.<String, String>getMap(SCHEDULER).get("scheduler");
    }

    /** Stops scheduling, stops this member's runs (their devices are reported as left) and leaves the cluster. */
    @Override
    public void close() {
        closing = true;
        scheduler.stop();
        LOCAL.remove(hz.getName());
        try {
            hz.shutdown();
        } catch (RuntimeException e) {
            LOG.warn("fleet {}: leaving the cluster: {}", nodeName(), e.toString());
        }
        LOG.info("fleet {}: left the cluster", nodeName());
    }
}
