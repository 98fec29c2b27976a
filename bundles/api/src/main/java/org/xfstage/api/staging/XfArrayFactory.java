package org.xfstage.api.staging;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The xfarray service: fixed-size record arrays on {@link XFile}s. When the service, or the xfile service
 * under it, goes away, the arrays it made are closed and fail with {@link StagingClosedException}.
 */
@ProviderType
public interface XfArrayFactory {

    /** Smallest record size. */
    int MIN_RECORD_SIZE = 1;

    /** Largest record size (one page). */
    int MAX_RECORD_SIZE = 4096;

    /**
     * Makes an empty array.
     *
     * @param name       shown in listings ({@code xfs:staging}) and messages
     * @param recordSize bytes per record, {@value #MIN_RECORD_SIZE} to {@value #MAX_RECORD_SIZE}
     * @throws IllegalArgumentException for a record size out of range
     * @throws StagingException         when no staging file can be made (service gone, limits)
     */
    XfArray create(String name, int recordSize) throws StagingException;

    /** The arrays made by this service and not yet closed. */
    List<XfArrayInfo> liveArrays();
}
