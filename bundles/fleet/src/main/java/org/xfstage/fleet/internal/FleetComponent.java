package org.xfstage.fleet.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
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

/**
 * This Karaf's member of the fleet, configured by pid {@code org.xfstage.fleet} (nothing starts without it). A change
 * of the configuration restarts the member. Each configured device is opened once, read-only, through the device
 * service before it is owned, so the device service's {@code allowedPaths} decide here as they do for xfs:scrub.
 */
@Component(service = FleetComponent.class, configurationPid = FleetComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        immediate = true)
@Designate(ocd = FleetComponent.Config.class)
public class FleetComponent {
    static final String PID = "org.xfstage.fleet";

    private static final Logger LOG = LoggerFactory.getLogger(FleetComponent.class);

    @ObjectClassDefinition(name = "xfstage fleet", description = "Scrub and repair across Karaf nodes on an embedded Hazelcast member.")
    public @interface Config {
        @AttributeDefinition(description = "Members join only a cluster of this name (a label, not a password)")
        String clusterName() default "xfstage";

        @AttributeDefinition(description = "The TCP/IP member list: host or host:port of this member and its peers (no multicast)")
        String[] members() default { "127.0.0.1" };

        @AttributeDefinition(description = "The address this member binds and announces (only it, not 0.0.0.0); empty: Hazelcast picks")
        String interface$() default "127.0.0.1";

        @AttributeDefinition(description = "The member's TCP port")
        int port() default 5701;

        @AttributeDefinition(description = "This member's name in tables and device ids; empty: host:port")
        String nodeName() default "";

        @AttributeDefinition(description = "The images and unmounted devices this member owns (checked against org.xfstage.device allowedPaths)")
        String[] devices() default {};

        @AttributeDefinition(description = "Scrub a device when its last verdict is older than this; 0: no schedule")
        double scrubIntervalHours() default 24;

        @AttributeDefinition(description = "When scheduled scrubs may start, local time HH:mm-HH:mm (may wrap midnight); empty: any time")
        String scrubWindow() default "";

        @AttributeDefinition(description = "How long a scrub or repair may hold a device's lease before the cluster frees it")
        int leaseMinutes() default 240;

        @AttributeDefinition(description = "How often the scheduler looks for due devices, in seconds")
        int tickSeconds() default 60;

        @AttributeDefinition(description = "How many fleet runs this member executes at a time")
        int poolSize() default 4;
    }

    @Reference
    RepairEngine engine;

    @Reference
    XfsDeviceService deviceService;

    private volatile FleetNode node;

    @Activate
    void activate(BundleContext context, Config config) {
        FleetSettings settings = settings(config, Map.of());
        List<String> owned = new ArrayList<>();
        Map<String, String> refused = new LinkedHashMap<>();
        for (String p : settings.devices()) {
            String why = check(p);
            if (why == null) {
                owned.add(p);
            } else {
                refused.put(p, why);
                LOG.warn("fleet {}: device {} not owned: {}", settings.nodeName(), p, why);
            }
        }
        node = new FleetNode(settings, engine, context.getBundle().getVersion().toString(), owned, refused);
    }

    @Deactivate
    void deactivate() {
        FleetNode n = node;
        node = null;
        if (n != null) {
            n.close();
        }
    }

    /** The running member, or null while it starts or stops. */
    FleetNode node() {
        return node;
    }

    static FleetSettings settings(Config c, Map<String, String> properties) {
        String iface = c.interface$() == null ? "" : c.interface$().strip();
        String name = c.nodeName() == null || c.nodeName().isBlank() ? host(iface) + ":" + c.port() : c.nodeName().strip();
        return new FleetSettings(c.clusterName(), FleetSettings.list(c.members()), iface, c.port(), name, FleetSettings.list(c.devices()),
                c.scrubIntervalHours(), FleetSettings.Window.parse(c.scrubWindow()), c.leaseMinutes(), c.tickSeconds(), c.poolSize(),
                properties);
    }

    private static String host(String iface) {
        if (!iface.isBlank()) {
            return iface;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /** Null when the device service opens the path read-only (allowed, there, XFS), else why not. */
    private String check(String path) {
        try (XfsDevice d = deviceService.open(Path.of(path), OpenOptions.readOnly())) {
            return null;
        } catch (XfsException | RuntimeException e) {
            return e.getMessage();
        }
    }
}
