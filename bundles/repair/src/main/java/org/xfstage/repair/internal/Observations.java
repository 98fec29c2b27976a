package org.xfstage.repair.internal;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import org.xfstage.api.repair.Observation;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * The xfarrays (and xfblobs) one scrub staged, by observation, and the digest of the inode chunks its walk found. Closing closes
 * them, except those borrowed from an earlier scrub (a re-check's, whose owner closes them) and those taken away.
 */
final class Observations implements AutoCloseable {
    private final Map<Observation, XfArray> arrays = new EnumMap<>(Observation.class);
    private final Set<Observation> borrowed = EnumSet.noneOf(Observation.class);
    private final Map<Observation, XfBlob> blobs = new EnumMap<>(Observation.class);
    private byte[] chunks;

    void put(Observation o, XfArray a) {
        arrays.put(o, a);
    }

    /** An observation with a variable-length part (closed with it). */
    void put(Observation o, XfArray a, XfBlob b) {
        arrays.put(o, a);
        blobs.put(o, b);
    }

    XfBlob blob(Observation o) {
        return blobs.get(o);
    }

    void borrow(Observation o, XfArray a) {
        arrays.put(o, a);
        borrowed.add(o);
    }

    /** Borrows an observation with a variable-length part; neither is closed with this. */
    void borrow(Observation o, XfArray a, XfBlob b) {
        borrow(o, a);
        blobs.put(o, b);
    }

    XfArray get(Observation o) {
        return arrays.get(o);
    }

    /** Hands the array over: the caller closes it. */
    XfArray take(Observation o) {
        borrowed.remove(o);
        return arrays.remove(o);
    }

    /** Hands the observation's variable-length part over (null when it has none): the caller closes it. */
    XfBlob takeBlob(Observation o) {
        return blobs.remove(o);
    }

    /** The walk's digest of the inode chunks the inobts list (SpaceWalk#chunks), or null when it did not walk them. */
    byte[] chunks() {
        return chunks;
    }

    void chunks(byte[] digest) {
        chunks = digest;
    }

    @Override
    public void close() {
        arrays.forEach((o, a) -> {
            if (!borrowed.contains(o)) {
                a.close();
            }
        });
        blobs.forEach((o, b) -> {
            if (!borrowed.contains(o)) {
                b.close();
            }
        });
        arrays.clear();
        blobs.clear();
    }
}
