package org.xfstage.fleet.internal;

import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The configuration of one fleet member (pid {@code org.xfstage.fleet}), checked once: a bad value is one clear line
 * ({@link IllegalArgumentException}) before any socket is opened.
 *
 * @param clusterName        members join only a cluster of the same name (a name, not a password)
 * @param members            the TCP/IP member list, {@code host} or {@code host:port}
 * @param bindInterface      the address this member binds and announces, or empty for Hazelcast's choice
 * @param port               the member's port (no auto-increment: a taken port is an error, not a surprise)
 * @param nodeName           how this member is named in tables and device ids
 * @param devices            the images and devices this member owns, as configured
 * @param scrubIntervalHours how old a device's last verdict may get before the scheduler scrubs it; 0: no schedule
 * @param window             when scheduled scrubs may start
 * @param leaseMinutes       how long a run may hold a device's lease before the cluster frees it anyway
 * @param tickSeconds        how often the scheduler looks for due devices
 * @param poolSize           how many fleet runs one member executes at a time
 * @param properties         extra Hazelcast properties ({@code hazelcast.*}), for tests and tuning
 */
record FleetSettings(String clusterName, List<String> members, String bindInterface, int port, String nodeName,
        List<String> devices, double scrubIntervalHours, Window window, int leaseMinutes, int tickSeconds, int poolSize,
        Map<String, String> properties) {

    FleetSettings {
        if (clusterName == null || clusterName.isBlank()) {
            throw new IllegalArgumentException("clusterName is empty");
        }
        if (members.isEmpty()) {
            throw new IllegalArgumentException("members is empty: list this member and its peers (host or host:port)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
        if (scrubIntervalHours < 0 || leaseMinutes < 1 || tickSeconds < 1 || poolSize < 1) {
            throw new IllegalArgumentException("scrubIntervalHours must be >= 0, leaseMinutes, tickSeconds and poolSize >= 1");
        }
        members = List.copyOf(members);
        devices = List.copyOf(devices);
        properties = Map.copyOf(properties);
    }

    /** The values of a multi-valued property that may also come as one comma-separated string (a .cfg file). */
    static List<String> list(String[] values) {
        List<String> out = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                for (String part : v.split(",")) {
                    if (!part.isBlank()) {
                        out.add(part.strip());
                    }
                }
            }
        }
        return out;
    }

    /** The id of one of this member's devices across the cluster: its member's name and its path. */
    String deviceId(String path) {
        return nodeName + ":" + path;
    }

    /**
     * When scheduled scrubs may start, in local time: {@code HH:mm-HH:mm}, wrapping midnight when the end is earlier
     * than the start (Ceph's osd_scrub_begin_hour/end_hour); {@link #ALWAYS} when empty.
     */
    record Window(LocalTime begin, LocalTime end) {
        static final Window ALWAYS = new Window(null, null);

        static Window parse(String text) {
            if (text == null || text.isBlank()) {
                return ALWAYS;
            }
            String[] parts = text.strip().split("-");
            try {
                if (parts.length == 2) {
                    return new Window(LocalTime.parse(parts[0].strip()), LocalTime.parse(parts[1].strip()));
                }
            } catch (DateTimeParseException e) {
                // the one message below
            }
            throw new IllegalArgumentException("scrubWindow '" + text + "' is not HH:mm-HH:mm (e.g. 01:00-05:00)");
        }

        boolean contains(LocalTime t) {
            if (begin == null) {
                return true;
            }
            if (begin.equals(end)) {
                return true;
            }
            return begin.isBefore(end) ? !t.isBefore(begin) && t.isBefore(end) : !t.isBefore(begin) || t.isBefore(end);
        }

        @Override
        public String toString() {
            return begin == null ? "any time" : begin + "-" + end;
        }
    }
}
