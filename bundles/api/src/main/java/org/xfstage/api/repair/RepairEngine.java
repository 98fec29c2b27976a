package org.xfstage.api.repair;

import java.nio.file.Path;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.xfstage.api.staging.Progress;

/** Runs scrubs: one walk staging observations, then every strategy's check. */
@ProviderType
public interface RepairEngine {

    /**
     * Scrubs an image or unmounted device.
     *
     * @throws RepairException when the scrub cannot run (the message is one line); damage is reported as findings
     */
    ScrubReport scrub(Path image, ScrubOptions options, Progress progress) throws RepairException;

    /**
     * Scrubs, plans a repair for every structure with findings, verifies the plans and, with
     * {@link RepairOptions#apply()}, writes them through an undo journal that is durable first. When any finding has
     * no strategy that repairs it, nothing is written.
     */
    RepairReport repair(Path image, RepairOptions options, Progress progress) throws RepairException;

    /** Restores an image from an undo journal, bit for bit; returns the number of blocks restored. */
    int undo(Path journal, Path image) throws RepairException;

    /** The strategies known now: structure, provider bundle, ranking, and whether it is the one in use. */
    List<StrategyInfo> strategies();

    /**
     * One registered strategy.
     *
     * @param structure what it covers
     * @param bundle    the symbolic name of the bundle that registered it
     * @param ranking   its service.ranking
     * @param active    whether it is the highest ranked for its structure
     */
    record StrategyInfo(String structure, String bundle, int ranking, boolean active) {
    }
}
