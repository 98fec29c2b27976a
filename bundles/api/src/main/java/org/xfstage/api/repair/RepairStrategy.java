package org.xfstage.api.repair;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The strategy SPI: checks one structure and plans its rebuild. Register an implementation as an OSGi
 * service with the property {@value #STRUCTURE} naming the structure ({@code bnobt}, {@code agf}, ...) and an
 * optional {@code service.ranking}: for each structure the engine uses the strategy with the highest ranking, as
 * the services stand when a run starts. Strategies use this API only and never write to the device.
 */
@ConsumerType
public interface RepairStrategy {
    /** Service property that names the structure a strategy covers. */
    String STRUCTURE = "xfstage.structure";

    /** The observations the engine must stage before {@link #check}. */
    Set<Observation> needs();

    /**
     * The observations {@link #plan} reads beyond {@link #needs()}: staged only by the scrubs of a repair, so that a
     * scrub does not pay for what only a plan reads (a directory rebuild salvages from the tree walk's record).
     */
    default Set<Observation> planNeeds() {
        return Set.of();
    }

    /**
     * Compares what the structure says with what the observations show, and reports each difference.
     *
     * @throws Exception when it cannot check (the engine reports the strategy by name and stops the run)
     */
    void check(ScrubContext context, Consumer<Finding> findings) throws Exception;

    /**
     * A check that reads the engine's tree walk as it happens, instead of {@link #check}; null (the default) when this
     * strategy has none. When the engine walks the directory tree, it asks for one just before: the
     * {@link Observation#INODE_MAP} is then staged and sorted, the other observations are not yet. The engine then calls
     * {@link TreeWalkCheck#finish} in the check phase instead of {@link #check}. When a run walks no tree (a repair's
     * re-check that finds the inodes and directories untouched by every plan and reuses the first scrub's walk), the
     * findings the first scrub's tree-walk check reported stand for this strategy's check; {@link #check} is called
     * when the engine walks the tree without asking (or when this returns null).
     *
     * @throws Exception when it cannot check (the engine reports the strategy by name and stops the run)
     */
    default TreeWalkCheck treeWalkCheck(ScrubContext context) throws Exception {
        return null;
    }

    /**
     * Plans the repair of this structure from the observations, given what {@link #check} found. The plan holds
     * block images made by the device's encoders; the engine verifies them and writes them (or not).
     *
     * @return the plan, or null when this strategy cannot repair what it found
     */
    default Plan plan(ScrubContext context, java.util.List<Finding> findings) throws Exception {
        return null;
    }

    /**
     * The structures that must be repaired before this one (its plan reads them): the engine orders plans by these,
     * and never by strategy class.
     */
    default Set<String> after() {
        return Set.of();
    }
}
