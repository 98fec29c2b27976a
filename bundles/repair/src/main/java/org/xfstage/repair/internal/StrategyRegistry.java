package org.xfstage.repair.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.repair.RepairEngine.StrategyInfo;
import org.xfstage.api.repair.RepairStrategy;

/**
 * The strategy whiteboard: every {@link RepairStrategy} service with a {@value RepairStrategy#STRUCTURE} property, as
 * registered, updated and unregistered. Per structure one is active: the highest service.ranking, then the lowest
 * service id (the OSGi tie rule). A run takes a snapshot of the active ones when it starts, so a strategy that comes,
 * goes or changes its ranking during a run takes effect for the next.
 */
final class StrategyRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(RepairEngineImpl.class); // the engine's lines, as before

    /** One registered strategy and what was registered with it. */
    record Registered(RepairStrategy strategy, String structure, int ranking, long serviceId, String bundle) {
    }

    private final Map<RepairStrategy, Registered> strategies = new ConcurrentHashMap<>();

    void add(RepairStrategy s, Map<String, Object> props) {
        Registered r = registered(s, props);
        if (r != null) {
            strategies.put(s, r);
        }
    }

    /**
     * New properties of a registered strategy: without DS's updated callback a changed ranking would count only
     * once the service is bound again. One that lost its structure property leaves the whiteboard, as it would not
     * have joined it.
     */
    void update(RepairStrategy s, Map<String, Object> props) {
        Registered now = registered(s, props);
        Registered before = now == null ? strategies.remove(s) : strategies.put(s, now);
        if (before != null && now != null && before.ranking() != now.ranking()) {
            LOG.info("repair strategy '{}' from {}: service.ranking {} -> {}", now.structure(), now.bundle(), before.ranking(),
                    now.ranking());
        }
    }

    void remove(RepairStrategy s) {
        strategies.remove(s);
    }

    /** What the properties register, or null (with a warning) when they name no structure. */
    private static Registered registered(RepairStrategy s, Map<String, Object> props) {
        Object structure = props.get(RepairStrategy.STRUCTURE);
        if (!(structure instanceof String name) || name.isBlank()) {
            LOG.warn("ignoring a repair strategy without a {} property: {}", RepairStrategy.STRUCTURE, s.getClass().getName());
            return null;
        }
        Object ranking = props.get(Constants.SERVICE_RANKING);
        Object id = props.get(Constants.SERVICE_ID);
        Bundle b = FrameworkUtil.getBundle(s.getClass());
        return new Registered(s, name, ranking instanceof Integer r ? r : 0, id instanceof Long l ? l : 0,
                b == null ? "(no bundle)" : b.getSymbolicName());
    }

    /** The strategy in use per structure, as the registrations stand now: the snapshot a run uses. */
    Map<String, Registered> active() {
        return active(List.copyOf(strategies.values()));
    }

    /** The registrations known now, with whether each is the active one of its structure. */
    List<StrategyInfo> strategies() {
        List<Registered> all = List.copyOf(strategies.values()); // one snapshot: an update between two reads would show none active
        Map<String, Registered> active = active(all);
        List<StrategyInfo> out = new ArrayList<>();
        for (Registered r : all) {
            out.add(new StrategyInfo(r.structure(), r.bundle(), r.ranking(), active.get(r.structure()) == r));
        }
        out.sort(Comparator.comparing(StrategyInfo::structure).thenComparing(i -> -i.ranking()));
        return out;
    }

    private static Map<String, Registered> active(List<Registered> all) {
        Map<String, Registered> out = new TreeMap<>();
        for (Registered r : all) {
            out.merge(r.structure(), r, (a, b) -> a.ranking() > b.ranking() || (a.ranking() == b.ranking() && a.serviceId() < b.serviceId()) ? a : b);
        }
        return out;
    }
}
