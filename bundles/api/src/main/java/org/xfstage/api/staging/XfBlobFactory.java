package org.xfstage.api.staging;

import org.osgi.annotation.versioning.ProviderType;

/** Hands out {@link XfBlob}s on the xfile service. */
@ProviderType
public interface XfBlobFactory {
    /** Largest blob, in bytes: an attribute value of XFS is at most 64 KiB; this leaves room. */
    int MAX_BLOB = 1 << 20;

    /** A new, empty blob store; the caller closes it. */
    XfBlob create(String name) throws StagingException;
}
