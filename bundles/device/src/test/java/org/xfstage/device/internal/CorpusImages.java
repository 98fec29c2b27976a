package org.xfstage.device.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The corpus for tests of other bundles (scrub, repair): the same images the device tests use. */
public final class CorpusImages {
    private CorpusImages() {
    }

    public static List<String> geometries() {
        return List.copyOf(Corpus.GEOMETRIES.keySet());
    }

    /** The full-tree image of a geometry, made (and cached) on first use; needs xfsprogs. */
    public static Path image(String geometry) throws Exception {
        return DeviceCorpusTest.image(geometry);
    }

    /**
     * The image of 80,000 files in 80 directories (the device's multi-level inode btree test) on a geometry of the
     * corpus: each AG's inobt is two levels (on the default geometry a root over two leaves).
     */
    public static Path manyInodes(String geometry) throws Exception {
        if ("default".equals(geometry)) {
            return Corpus.image("inodes80k-v1", Corpus.manyInodes(80, 1000), List.of("-i", "maxpct=50"));
        }
        List<String> options = new java.util.ArrayList<>(List.of("-i", "maxpct=50"));
        options.addAll(Corpus.GEOMETRIES.get(geometry));
        return Corpus.image("inodes80k-" + geometry + "-v1", Corpus.manyInodes(80, 1000), options);
    }

    public static String tool(String name) {
        return Corpus.tool(name);
    }

    public static String run(List<String> cmd) throws Exception {
        return Corpus.run(cmd);
    }

    /** Runs {@code xfs_db -x} with each of {@code commands} as a {@code -c} on {@code image}; its output. */
    public static String xfsDb(java.nio.file.Path image, List<String> commands) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(tool("xfs_db"), "-x"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        return run(cmd);
    }

    public static Map.Entry<Integer, String> status(List<String> cmd) throws Exception {
        return Corpus.status(cmd);
    }
}
