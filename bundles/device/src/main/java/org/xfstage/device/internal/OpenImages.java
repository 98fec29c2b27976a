package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.xfstage.api.device.XfsException;

/**
 * The images this JVM has open, by file identity (device and inode number), so that a second open of one in this JVM
 * is refused before a channel is opened on it. Refusing only when its lock fails is too late: POSIX record locks
 * belong to the process, and closing any descriptor of the file (the refused open's) releases them all, the first
 * open's lock included, which would let other processes in while the first run goes on.
 */
final class OpenImages {
    private static final Set<Object> OPEN = ConcurrentHashMap.newKeySet();

    private OpenImages() {
    }

    /**
     * Claims the file at {@code path} for one open, or refuses when this JVM has it open already.
     *
     * @return what to release when the open is closed; null when the file cannot be identified (missing: the open
     *         reports that itself), and nothing was claimed
     */
    static Object claim(Path path) throws XfsException {
        Object key;
        try {
            key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
        if (key != null && !OPEN.add(key)) {
            throw new XfsException(path + ": is already open in this container by another xfstage run; wait for it to finish");
        }
        return key;
    }

    /** Releases a claim, once the open's channel (and with it its lock) is closed. */
    static void release(Object claim) {
        if (claim != null) {
            OPEN.remove(claim);
        }
    }
}
