package org.xfstage.api.staging;

/** Where the bytes of an {@link XFile} live. */
public enum XFileBacking {
    /** An anonymous memory file ({@code memfd_create}): pageable to swap, no path at all. */
    MEMFD,
    /** A file created in the staging directory and unlinked at once. */
    FILE
}
