package org.xfstage.api.device;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where a device encoder that needs more blocks than a structure has takes them from: the repair engine's allocation
 * (blocks the scrub proves free), handed to the device by a strategy, which may not allocate on its own. The device
 * asks for exactly what it will use; blocks given are used or the whole encoding is refused (a block given and left
 * unused would be neither free nor owned).
 *
 * @since api device 2.5
 */
@ConsumerType
@FunctionalInterface
public interface BlockAllocator {
    /**
     * {@code count} blocks of AG {@code agno}, proven free.
     *
     * @return the blocks as extents in AG block order, or null when the AG cannot give that many
     * @throws Exception when the allocation itself fails (staging, cancellation)
     */
    java.util.List<FreeExtent> allocate(int agno, long count) throws Exception;
}
