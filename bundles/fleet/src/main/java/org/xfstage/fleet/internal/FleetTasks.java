package org.xfstage.fleet.internal;

import java.io.Serializable;
import java.util.concurrent.Callable;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;

/**
 * The work a member sends to another through the cluster's executor: a device id and what to do, never an image.
 * On the receiving member Hazelcast injects its own instance, and the task finds that member's {@link FleetNode} by
 * the instance's name ({@link FleetNode#local}), so the scrub or repair runs there, on the image there.
 */
final class FleetTasks {
    private FleetTasks() {
    }

    /** The base of the tasks: the member it runs on. */
    abstract static class OnMember<T> implements Callable<T>, Serializable, HazelcastInstanceAware {
        private static final long serialVersionUID = 1L;

        private transient HazelcastInstance instance;

        @Override
        public final void setHazelcastInstance(HazelcastInstance instance) {
            this.instance = instance;
        }

        @Override
        public final T call() throws Exception {
            FleetNode node = FleetNode.local(instance);
            if (node == null) {
                // the fleet component of that member is stopping: its instance is still in the cluster for a moment
                throw new MemberStopping(instance == null ? "?" : instance.getName());
            }
            return call(node);
        }

        abstract T call(FleetNode node) throws Exception;
    }

    /** The member a task arrived on is stopping: the caller reports the device as left. */
    static final class MemberStopping extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        MemberStopping(String instance) {
            super("the fleet is stopping on " + instance);
        }
    }

    /** Scrubs one of the receiving member's devices. */
    static final class Scrub extends OnMember<DeviceResult> {
        private static final long serialVersionUID = 1L;
        private final String device;

        Scrub(String device) {
            this.device = device;
        }

        @Override
        DeviceResult call(FleetNode node) {
            return node.scrubLocal(device);
        }
    }

    /** Repairs one of the receiving member's devices (a dry run unless apply). */
    static final class Repair extends OnMember<DeviceResult> {
        private static final long serialVersionUID = 1L;
        private final String device;
        private final boolean apply;
        private final String requester;

        Repair(String device, boolean apply, String requester) {
            this.device = device;
            this.apply = apply;
            this.requester = requester;
        }

        @Override
        DeviceResult call(FleetNode node) {
            return node.repairLocal(device, apply, requester);
        }
    }

    /** The receiving member's description of itself. */
    static final class Info extends OnMember<MemberInfo> {
        private static final long serialVersionUID = 1L;

        @Override
        MemberInfo call(FleetNode node) {
            return node.info();
        }
    }
}
