package org.xfstage.fleet.internal;

import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.fleet.internal.DeviceResult.Verdict;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.map.IMap;

/**
 * The schedule, as Ceph's: every {@code tickSeconds} the member that schedules (the oldest, {@link FleetNode#isScheduler})
 * looks for devices whose last verdict is older than {@code scrubIntervalHours}, and, inside the window, sends the
 * oldest first to their members, at most one scheduled run per member and one per device at a time (Ceph's
 * osd_max_scrubs = 1: a scheduled scrub never takes a member's whole disk bandwidth). Every member runs this loop;
 * all but one return at once. A run that the previous scheduler started is still protected by its device lease: the
 * new scheduler's run of that device answers "busy" and is tried again on a later tick.
 */
final class Scheduler {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private final FleetNode node;
    private final FleetSettings settings;
    private final ScheduledExecutorService timer;
    /** devices whose scheduled run has not answered yet, and the members running them */
    private final Map<String, String> inFlight = new ConcurrentHashMap<>();
    private volatile boolean leading;

    Scheduler(FleetNode node, FleetSettings settings) {
        this.node = node;
        this.settings = settings;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "xfstage-fleet-scheduler-" + settings.nodeName());
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        timer.scheduleWithFixedDelay(this::tick, 0, settings.tickSeconds(), TimeUnit.SECONDS);
    }

    /** Looks at once (the membership changed: this member may have become the oldest). */
    void nudge() {
        try {
            timer.execute(this::tick);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopped
        }
    }

    void stop() {
        timer.shutdownNow();
    }

    private void tick() {
        try {
            if (!node.isScheduler()) {
                if (leading) {
                    LOG.info("fleet {}: no longer the scheduler", settings.nodeName());
                }
                leading = false;
                return;
            }
            if (!leading) {
                LOG.info("fleet {}: this member schedules now (the oldest member of the cluster)", settings.nodeName());
                leading = true;
                inFlight.clear();
            }
            node.instance().<String, String>getMap(FleetNode.SCHEDULER).set("scheduler", settings.nodeName());
            if (settings.scrubIntervalHours() <= 0 || !settings.window().contains(LocalTime.now())) {
                return;
            }
            dispatch();
        } catch (HazelcastInstanceNotActiveException e) {
            // this member is stopping
        } catch (RuntimeException e) {
            // the next tick tries again; the timer must not die with one bad tick
            LOG.warn("fleet {}: scheduler tick failed: {}", settings.nodeName(), e.toString());
        }
    }

    /** Sends due devices, oldest verdict first, to members that have no scheduled run going. */
    private void dispatch() {
        IMap<String, DeviceResult> results = node.instance().getMap(FleetNode.RESULTS);
        long now = System.currentTimeMillis();
        List<DeviceEntry> due = new ArrayList<>();
        Map<String, Long> last = new ConcurrentHashMap<>();
        for (DeviceEntry e : node.devices()) {
            DeviceResult r = results.get(e.device());
            if (r != null && r.verdict() == Verdict.FAILED && now - r.startMillis() < node.intervalMillis()) {
                continue; // could not be scrubbed (missing, refused, locked): tried again an interval later, not every tick
            }
            if (!inFlight.containsKey(e.device()) && node.member(e.memberUuid()) != null && node.overdue(r, now)) {
                due.add(e);
                last.put(e.device(), r == null ? 0L : r.lastCompletedMillis());
            }
        }
        due.sort(Comparator.comparing((DeviceEntry e) -> last.get(e.device())).thenComparing(DeviceEntry::device));
        Set<String> busyMembers = new HashSet<>(inFlight.values());
        for (DeviceEntry e : due) {
            if (busyMembers.contains(e.memberUuid())) {
                continue;
            }
            Member m = node.member(e.memberUuid());
            if (m == null) {
                continue;
            }
            busyMembers.add(e.memberUuid());
            inFlight.put(e.device(), e.memberUuid());
            LOG.info("fleet {}: scheduled scrub of {}", settings.nodeName(), e.device());
            node.executor().submitToMember(new FleetTasks.Scrub(e.device()), m, new ExecutionCallback<DeviceResult>() {
                @Override
                public void onResponse(DeviceResult r) {
                    inFlight.remove(e.device());
                    if (r.verdict() == Verdict.BUSY) {
                        LOG.info("fleet {}: scheduled scrub of {} put off: {}", settings.nodeName(), e.device(), r.detail());
                    }
                }

                @Override
                public void onFailure(Throwable t) {
                    inFlight.remove(e.device());
                    LOG.info("fleet {}: scheduled scrub of {} did not answer: {}", settings.nodeName(), e.device(), t.toString());
                }
            });
        }
    }
}
