package org.xfstage.api.staging;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The xfile service: makes {@link XFile}s within the configured limits and knows the live ones.
 * When the service goes away (its bundle stopped or updated), every file it made is closed.
 */
@ProviderType
public interface XFileFactory {

    /**
     * Makes a new, empty staging file.
     *
     * @param name a short description shown in listings ({@code xfs:staging}) and messages
     * @throws XFileFullException     when the total staging limit is already reached
     * @throws StagingClosedException when this service has been deactivated
     * @throws StagingException       when the backing cannot be created (the message says why)
     */
    XFile create(String name) throws StagingException;

    /** The files made by this service and not yet closed. */
    List<XFileInfo> liveFiles();

    /** The total byte limit over all live files (bytes used), from the configuration ({@code maxTotalBytes}). */
    long totalLimit();

    /** The byte limit of one file (bytes used), from the configuration ({@code maxFileBytes}). */
    long fileLimit();

    /**
     * The most bytes all live files together used at one moment since the service started or since
     * {@link #resetPeak()}: what a run really staged at its peak (runs at the same time count together).
     */
    long peakBytesUsed();

    /** Starts a new {@link #peakBytesUsed()} from the bytes used now. */
    void resetPeak();
}
