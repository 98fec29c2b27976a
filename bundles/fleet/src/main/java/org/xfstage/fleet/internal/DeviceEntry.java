package org.xfstage.fleet.internal;

import java.io.Serializable;

/**
 * One device in the cluster's device map: who owns it. Kept after its member leaves, so that the status still shows
 * the device (overdue, member absent) until the member comes back.
 *
 * @param device     the device id ({@code node:path})
 * @param node       the owning member's name
 * @param path       the image or device on that member
 * @param memberUuid the Hazelcast member that registered it (changes when the member restarts)
 */
record DeviceEntry(String device, String node, String path, String memberUuid) implements Serializable {
    private static final long serialVersionUID = 1L;
}
