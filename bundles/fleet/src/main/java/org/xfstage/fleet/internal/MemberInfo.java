package org.xfstage.fleet.internal;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * What a member says about itself for {@code xfs:fleet-members}.
 *
 * @param node       its name
 * @param address    its Hazelcast address
 * @param version    the version of its xfstage fleet bundle
 * @param strategies the strategies in use: structure to {@code bundle@ranking}
 * @param devices    the devices it owns
 * @param refused    devices in its configuration that it does not own, with why (outside allowedPaths, missing)
 * @param scheduler  whether it is the member that schedules
 */
record MemberInfo(String node, String address, String version, Map<String, String> strategies, List<String> devices,
        Map<String, String> refused, boolean scheduler) implements Serializable {
    private static final long serialVersionUID = 1L;

    MemberInfo {
        strategies = Map.copyOf(strategies);
        devices = List.copyOf(devices);
        refused = Map.copyOf(refused);
    }
}
