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

    public static String tool(String name) {
        return Corpus.tool(name);
    }

    public static String run(List<String> cmd) throws Exception {
        return Corpus.run(cmd);
    }

    public static Map.Entry<Integer, String> status(List<String> cmd) throws Exception {
        return Corpus.status(cmd);
    }
}
