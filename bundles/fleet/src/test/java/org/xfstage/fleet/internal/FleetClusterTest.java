package org.xfstage.fleet.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.RepairEngine;
import org.xfstage.api.repair.RepairException;
import org.xfstage.api.repair.RepairOptions;
import org.xfstage.api.repair.RepairReport;
import org.xfstage.api.repair.ScrubOptions;
import org.xfstage.api.repair.ScrubReport;
import org.xfstage.api.staging.Progress;
import org.xfstage.fleet.internal.DeviceResult.Verdict;

import com.hazelcast.map.IMap;

/**
 * Three Hazelcast members in this JVM, on 127.0.0.1 with ports of their own and a member list, each with its own
 * engine. The engines here are stand-ins that answer per path and can be held at a gate: what is proven is the
 * fleet's part (where a run goes, what is gathered, the lease, the scheduler), not the XFS checks, which the repair
 * bundle's oracle tests prove on real images (and scripts/fleet-demo.sh runs the whole on three Karafs with real
 * images). Every wait is bounded.
 */
// in a thread of its own: a test that waits on a Hazelcast future is not ended by an interrupt
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FleetClusterTest {

    private final List<FleetNode> nodes = new ArrayList<>();
    private final List<StandInEngine> engines = new ArrayList<>();

    @AfterEach
    void stop() {
        engines.forEach(StandInEngine::open);
        for (FleetNode n : nodes) {
            n.close();
        }
    }

    @Test
    void aScrubGathersTheVerdictOfEveryDeviceFromTheMemberThatOwnsIt() throws Exception {
        cluster(3, 0, 1, "n2:/img/n2-b");

        List<DeviceResult> results = nodes.get(0).scrubAll(2);

        assertEquals(6, results.size(), results.toString());
        for (DeviceResult r : results) {
            assertEquals(r.device().equals("n2:/img/n2-b") ? Verdict.DAMAGED : Verdict.CLEAN, r.verdict(), r.toString());
            assertEquals(r.device().substring(0, 2), r.node(), "reported by its owner");
        }
        assertEquals(List.of("agf ag 1 agf 1: longest wrong (expected 32744)"), results.get(5).findings(), "in device order");
        for (int i = 0; i < 3; i++) {
            assertEquals(Set.of("/img/n" + i + "-a", "/img/n" + i + "-b"), Set.copyOf(engines.get(i).scrubbed),
                    "each member scrubbed its own devices and no other's");
        }
        IMap<String, DeviceResult> shared = nodes.get(2).instance().getMap(FleetNode.RESULTS);
        assertEquals(6, shared.size(), "the verdicts are in the cluster's map, seen from any member");
        assertEquals(Verdict.DAMAGED, shared.get("n2:/img/n2-b").verdict());

        List<MemberInfo> members = nodes.get(1).members();
        assertEquals(List.of("n0", "n1", "n2"), members.stream().map(MemberInfo::node).toList(), "oldest first");
        assertEquals(List.of("agf: n0 org.xfstage.strategies.space@0, n1 org.xfstage.strategies.space@0, n2 org.xfstage.strategies.space@10"),
                FleetMembersCommand.differences(members), "the member with another strategy ranking is flagged");

        IMap<String, Object> other = nodes.get(0).instance().getMap("not-the-fleet's");
        other.set("k", new java.io.File("/etc/passwd"));
        com.hazelcast.nio.serialization.HazelcastSerializationException refused = org.junit.jupiter.api.Assertions.assertThrows(
                com.hazelcast.nio.serialization.HazelcastSerializationException.class, () -> nodes.get(1).instance().getMap("not-the-fleet's").get("k"));
        assertTrue(String.valueOf(refused.getMessage()).contains("java.io.File"),
                "a class outside the fleet's and the JDK's basic ones is not deserialized: " + refused.getMessage());
    }

    @Test
    void aMemberThatStopsDuringARunIsReportedAsLeftAndTheOthersVerdictsAreKept() throws Exception {
        cluster(3, 0, 1);
        StandInEngine third = engines.get(2);
        third.holdScrubs();

        CompletableFuture<List<DeviceResult>> run = CompletableFuture.supplyAsync(() -> {
            try {
                return nodes.get(0).scrubAll(1);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(third.entered.await(20, TimeUnit.SECONDS), "the third member started a scrub");
        // as kill -9 does: no goodbye to the cluster, the others find out from the broken connections
        nodes.get(2).instance().getLifecycleService().terminate();

        List<DeviceResult> results = run.get(40, TimeUnit.SECONDS);
        assertEquals(6, results.size());
        for (DeviceResult r : results) {
            assertEquals(r.node().equals("n2") ? Verdict.MEMBER_LEFT : Verdict.CLEAN, r.verdict(), r.toString());
        }
        IMap<String, DeviceResult> shared = nodes.get(1).instance().getMap(FleetNode.RESULTS);
        assertEquals(Verdict.MEMBER_LEFT, shared.get("n2:/img/n2-a").verdict(), "recorded in the cluster's map too");
        assertEquals(Verdict.CLEAN, shared.get("n1:/img/n1-a").verdict());
        FleetNode.Status absent = nodes.get(1).status().stream().filter(s -> s.device().node().equals("n2")).findFirst().orElseThrow();
        assertFalse(absent.present(), "the status shows the member absent");
    }

    @Test
    void aSecondRepairOfADeviceUnderLeaseIsRefusedFromAnyMember() throws Exception {
        cluster(3, 0, 1, "n1:/img/n1-a");
        StandInEngine owner = engines.get(1);
        owner.holdRepairs();

        CompletableFuture<List<DeviceResult>> first = CompletableFuture.supplyAsync(() -> {
            try {
                return nodes.get(0).repair(List.of("n1:/img/n1-a"), true, "alice@n0");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(owner.entered.await(20, TimeUnit.SECONDS), "the first repair runs on the owner");

        DeviceResult second = nodes.get(2).repair(List.of("/img/n1-a"), true, "bob@n2").get(0);
        assertEquals(Verdict.BUSY, second.verdict(), second.toString());
        assertTrue(second.detail().contains("repair --apply from alice@n0"), "says who holds it: " + second.detail());
        FleetNode.Status leased = nodes.get(0).status().stream().filter(s -> s.device().device().equals("n1:/img/n1-a")).findFirst().orElseThrow();
        assertTrue(leased.lease().startsWith("n1 repair --apply from alice@n0"), "the status shows the lease: " + leased.lease());
        DeviceResult scrub = nodes.get(2).scrubAll(1).stream().filter(r -> r.device().equals("n1:/img/n1-a")).findFirst().orElseThrow();
        assertEquals(Verdict.BUSY, scrub.verdict(), "nor does a scrub read it while it is being written");

        owner.open();
        DeviceResult done = first.get(20, TimeUnit.SECONDS).get(0);
        assertEquals(Verdict.REPAIRED, done.verdict(), done.toString());
        assertTrue(done.journal().startsWith("/img/n1-a.xfstage-undo-"), "the journal is beside the image on its member: " + done.journal());
        assertEquals(1, owner.repairs.get(), "the refused repair never reached the engine");
        assertEquals(Verdict.CLEAN, nodes.get(2).repair(List.of("n1:/img/n1-a"), true, "bob@n2").get(0).verdict(),
                "after the first repair the lease is free again");
    }

    @Test
    void theOldestMemberSchedulesAndAnotherTakesOverWhenItStops() throws Exception {
        // a device is due 1.8 s after its last verdict; the scheduler looks every second
        cluster(3, 0.0005, 1);
        assertTrue(nodes.get(0).isScheduler() && !nodes.get(1).isScheduler() && !nodes.get(2).isScheduler(), "the oldest schedules");
        IMap<String, DeviceResult> shared = nodes.get(1).instance().getMap(FleetNode.RESULTS);
        await(() -> shared.size() == 6, "every device scrubbed by the schedule");

        nodes.get(0).close();
        long moved = System.currentTimeMillis();
        await(() -> nodes.get(1).isScheduler(), "the next oldest schedules");
        assertFalse(nodes.get(2).isScheduler(), "and only it");
        await(() -> "n1".equals(nodes.get(2).schedulerName()), "and says so in the cluster");
        await(() -> shared.get("n2:/img/n2-a").startMillis() > moved && shared.get("n2:/img/n2-b").startMillis() > moved,
                "the new scheduler scrubs the devices as they fall due");
        for (StandInEngine e : engines) {
            assertTrue(e.mostAtOnce.get() <= 1, "at most one scheduled scrub per member at a time");
        }
    }

    @Test
    void theWindowWrapsMidnight() {
        FleetSettings.Window night = FleetSettings.Window.parse("22:00-04:00");
        assertTrue(night.contains(java.time.LocalTime.of(23, 30)));
        assertTrue(night.contains(java.time.LocalTime.of(3, 59)));
        assertFalse(night.contains(java.time.LocalTime.of(12, 0)));
        assertTrue(FleetSettings.Window.parse("").contains(java.time.LocalTime.NOON));
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FleetSettings.Window.parse("late"));
        assertTrue(bad.getMessage().contains("HH:mm-HH:mm"));
    }

    /** Members n0..n{count-1}, started one after the other so the first is the oldest; each owns /img/nI-a and -b. */
    private void cluster(int count, double intervalHours, int tickSeconds, String... damaged) throws IOException, InterruptedException {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                ports.add(s.getLocalPort());
            }
        }
        List<String> members = ports.stream().map(p -> "127.0.0.1:" + p).toList();
        Map<String, String> fast = Map.of(
                "hazelcast.logging.type", "none",
                // the members start one after the other: nothing to wait for before joining
                "hazelcast.wait.seconds.before.join", "0",
                "hazelcast.partition.count", "23",
                "hazelcast.heartbeat.interval.seconds", "1",
                "hazelcast.max.no.heartbeat.seconds", "6",
                "hazelcast.graceful.shutdown.max.wait", "10");
        for (int i = 0; i < count; i++) {
            String name = "n" + i;
            FleetSettings s = new FleetSettings("fleet-test-" + ports.get(0), members, "127.0.0.1", ports.get(i), name,
                    List.of("/img/" + name + "-a", "/img/" + name + "-b"), intervalHours, FleetSettings.Window.ALWAYS, 5, tickSeconds, 4, fast);
            Set<String> bad = new java.util.HashSet<>();
            for (String d : damaged) {
                if (d.startsWith(name + ":")) {
                    bad.add(d.substring(name.length() + 1));
                }
            }
            StandInEngine engine = new StandInEngine(bad, i == 2 ? 10 : 0);
            engines.add(engine);
            nodes.add(new FleetNode(s, engine, "test", s.devices(), Map.of()));
        }
        await(() -> nodes.stream().allMatch(n -> n.instance().getCluster().getMembers().size() == count), "all members joined");
        await(() -> nodes.get(0).devices().size() == 2 * count, "all devices registered");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(50);
        }
    }

    /** An engine that finds damage in the paths it is told and can hold scrubs or repairs until opened. */
    static final class StandInEngine implements RepairEngine {
        final Set<String> damaged;
        final int ranking;
        final List<String> scrubbed = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger repairs = new AtomicInteger();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch gate = new CountDownLatch(1);
        private volatile boolean holdScrubs;
        private volatile boolean holdRepairs;

        StandInEngine(Set<String> damaged, int ranking) {
            this.damaged = damaged;
            this.ranking = ranking;
        }

        void holdScrubs() {
            holdScrubs = true;
        }

        void holdRepairs() {
            holdRepairs = true;
        }

        void open() {
            gate.countDown();
        }

        @Override
        public ScrubReport scrub(Path image, ScrubOptions options, Progress progress) throws RepairException {
            int now = running.incrementAndGet();
            mostAtOnce.accumulateAndGet(now, Math::max);
            try {
                scrubbed.add(image.toString());
                if (holdScrubs) {
                    hold(progress);
                }
                return report(image);
            } finally {
                running.decrementAndGet();
            }
        }

        private ScrubReport report(Path image) {
            List<Finding> f = damaged.contains(image.toString()) ? List.of(new Finding("agf", 1, "agf 1", "longest wrong", "32744")) : List.of();
            return new ScrubReport(image.toString(), f, Map.of(), Map.of());
        }

        private void hold(Progress progress) throws RepairException {
            entered.countDown();
            try {
                while (!gate.await(20, TimeUnit.MILLISECONDS)) {
                    if (progress.isCancelled()) {
                        throw new RepairException("cancelled");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RepairException("interrupted");
            }
        }

        @Override
        public RepairReport repair(Path image, RepairOptions options, Progress progress) throws RepairException {
            // only the first is held: a second one that got past the lease would come back at once, and fail the test
            if (repairs.incrementAndGet() == 1 && holdRepairs) {
                hold(progress);
            }
            boolean damagedNow = damaged.remove(image.toString());
            ScrubReport before = damagedNow ? new ScrubReport(image.toString(),
                    List.of(new Finding("agf", 1, "agf 1", "longest wrong", "32744")), Map.of(), Map.of()) : report(image);
            if (!damagedNow) {
                return new RepairReport(before, List.of(), List.of(), false, null, null);
            }
            return new RepairReport(before, List.of(), List.of(), options.apply(), options.apply() ? options.journal().toString() : null,
                    options.apply() ? report(image) : null);
        }

        @Override
        public int undo(Path journal, Path image) {
            return 0;
        }

        @Override
        public List<StrategyInfo> strategies() {
            return List.of(new StrategyInfo("agf", "org.xfstage.strategies.space", ranking, true));
        }
    }
}
