package org.xfstage.strategies.namespace;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;

/**
 * The paths of a few inodes, for findings a person can act on: found by walking the directory tree from the root
 * (the device's manifest, without content checksums) until every inode asked for was met. Only asked for when
 * there is something to report, so a clean scrub never walks the tree twice. A tree that cannot be walked to its
 * end (the damage may be in it) gives the paths met before.
 */
final class InodePaths {
    private InodePaths() {
    }

    /** Ends the walk early once every inode asked for has a path. */
    private static final class AllFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        AllFound() {
            super(null, null, false, false);
        }
    }

    /** Inode number to its first path in directory order; inodes not met are missing. */
    static Map<Long, String> of(ScrubContext ctx, Set<Long> inodes) throws CancelledException {
        Map<Long, String> paths = new HashMap<>();
        if (inodes.isEmpty()) {
            return paths;
        }
        Progress cancelOnly = new Progress() {
            @Override
            public void total(String phase, long units) {
                // the scrub's own progress is the engine's: this walk only listens for cancellation
            }

            @Override
            public void increment(long units) {
            }

            @Override
            public boolean isCancelled() {
                return ctx.progress().isCancelled();
            }
        };
        try {
            ctx.device().manifest(false, cancelOnly, e -> {
                if (inodes.contains(e.inode())) {
                    paths.putIfAbsent(e.inode(), e.path());
                    if (paths.size() == inodes.size()) {
                        throw new AllFound();
                    }
                }
            });
        } catch (AllFound done) {
            // every path is known
        } catch (XfsException e) {
            // the tree is damaged further on: the paths met before it are still right
        }
        return paths;
    }

    /** "inode N" or "inode N (path)". */
    static String location(long ino, Map<Long, String> paths) {
        String path = paths.get(ino);
        return path == null ? "inode " + ino : "inode " + ino + " (" + path + ")";
    }
}
