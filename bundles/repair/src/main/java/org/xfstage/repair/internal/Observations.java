package org.xfstage.repair.internal;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.TreeWalkCheck;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfBlob;

/**
 * The xfarrays (and xfblobs) one scrub staged, by observation, the digest of the inode chunks its walk found, and the
 * strategies' tree-walk checks with their findings (RepairStrategy#treeWalkCheck). Closing closes the arrays and the
 * checks, except those borrowed from an earlier scrub (a re-check's, whose owner closes them) and those taken away.
 */
final class Observations implements AutoCloseable {
    private final Map<Observation, XfArray> arrays = new EnumMap<>(Observation.class);
    private final Set<Observation> borrowed = EnumSet.noneOf(Observation.class);
    private final Map<Observation, XfBlob> blobs = new EnumMap<>(Observation.class);
    private byte[] chunks;
    /** The strategies' checks that read the tree walk as it happened, by structure (closed with this). */
    private final Map<String, TreeWalkCheck> walkChecks = new LinkedHashMap<>();
    /** What a strategy's tree-walk check threw (when asked for, or during the walk), by structure. */
    private final Map<String, Exception> walkFailures = new LinkedHashMap<>();
    /**
     * By structure, the findings of the tree-walk checks: reported by this run's (kept for a re-check), or lent by an
     * earlier run's for a run that walks no tree.
     */
    private final Map<String, List<Finding>> walkFindings = new LinkedHashMap<>();
    /** The tree walk's record for plans as this run's walk began staging it at damage (closed with this unless taken). */
    private LateWalkRecord late;

    void late(LateWalkRecord l) {
        late = l;
    }

    /** Hands the late record over (null when there is none): the caller closes it. */
    LateWalkRecord takeLate() {
        LateWalkRecord l = late;
        late = null;
        return l;
    }

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

    void walkCheck(String structure, TreeWalkCheck check) {
        walkChecks.put(structure, check);
    }

    TreeWalkCheck walkCheck(String structure) {
        return walkChecks.get(structure);
    }

    /** Events to the check of {@code structure} stop; the run fails naming it at its check. */
    void walkFailed(String structure, Exception e) {
        walkFailures.putIfAbsent(structure, e);
        TreeWalkCheck c = walkChecks.remove(structure);
        if (c != null) {
            closeQuietly(c);
        }
    }

    Exception walkFailure(String structure) {
        return walkFailures.get(structure);
    }

    void walkFindings(String structure, List<Finding> found) {
        walkFindings.put(structure, List.copyOf(found));
    }

    /** The findings of a tree-walk check, of this run or lent by an earlier one; null when there are none. */
    List<Finding> walkFindings(String structure) {
        return walkFindings.get(structure);
    }

    Map<String, List<Finding>> allWalkFindings() {
        return Map.copyOf(walkFindings);
    }

    private static void closeQuietly(TreeWalkCheck c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            // a strategy's close that fails must not hide the run's own end; its staging goes with the service
        }
    }

    @Override
    public void close() {
        if (late != null) {
            late.close();
            late = null;
        }
        walkChecks.values().forEach(Observations::closeQuietly);
        walkChecks.clear();
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
