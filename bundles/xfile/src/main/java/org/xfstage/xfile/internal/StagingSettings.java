package org.xfstage.xfile.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.xfstage.api.staging.XFileBacking;

/**
 * The staging configuration in force, resolved from {@link XFileFactoryImpl.Config}: where files live and
 * how much they may use.
 *
 * @param backing       memfd or unlinked files in {@code directory}
 * @param directory     the staging directory for {@link XFileBacking#FILE}
 * @param maxFileBytes  most bytes one file may have allocated
 * @param maxTotalBytes most bytes all live files together may have allocated
 * @param windowBytes   size of one mapping window (a power of two, at least one page)
 */
record StagingSettings(XFileBacking backing, Path directory, long maxFileBytes, long maxTotalBytes, int windowBytes) {

    static final int PAGE_SIZE = 4096;

    StagingSettings {
        if (maxFileBytes <= 0 || maxTotalBytes <= 0) {
            throw new IllegalArgumentException("staging limits must be positive: maxFileBytes=" + maxFileBytes
                    + " maxTotalBytes=" + maxTotalBytes);
        }
        if (windowBytes < PAGE_SIZE || Integer.bitCount(windowBytes) != 1) {
            throw new IllegalArgumentException("windowBytes must be a power of two of at least " + PAGE_SIZE
                    + ", not " + windowBytes);
        }
    }

    static StagingSettings from(XFileFactoryImpl.Config config) {
        XFileBacking backing;
        try {
            backing = XFileBacking.valueOf(config.backing().trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backing must be memfd or file, not '" + config.backing() + "'");
        }
        return new StagingSettings(backing, resolveDirectory(config.stagingDirectory()), config.maxFileBytes(),
                config.maxTotalBytes(), config.windowBytes());
    }

    /** An empty setting means /dev/shm (a tmpfs) when it exists, else java.io.tmpdir. */
    static Path resolveDirectory(String configured) {
        if (configured != null && !configured.isBlank()) {
            return Paths.get(configured.trim());
        }
        Path shm = Paths.get("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Paths.get(System.getProperty("java.io.tmpdir"));
    }
}
