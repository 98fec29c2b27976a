package org.xfstage.api.repair;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.xfstage.api.device.Btree;
import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.SpaceUse;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.staging.XfArray;

/**
 * The roots an AG header rebuild writes, never read from the header it replaces: of the blocks that look like a
 * tree's root ({@link XfsDevice#findBtreeRoots}: its magic, this AG, standing alone at its level), the tallest that
 * the scrub's walk staged as a block of that tree, so that the tree's other blocks hang from it; where there is an
 * rmapbt, it must also give the block to the tree's owner. Old trees that were rebuilt elsewhere leave blocks that
 * look the same, but the walk did not reach them: they are free or on the AGFL. For the strategies that rebuild the AGF
 * and the AGI (from different bundles).
 */
public final class ProvenRoots {
    private ProvenRoots() {
    }

    /**
     * The proven root of tree {@code type} of the AG, or null when no candidate is one. Only the blocks the walk staged
     * as the tree's are asked about ({@link XfsDevice#rootCandidate}): the same candidates as a search of the whole AG
     * ({@link XfsDevice#findBtreeRoots}) that the walk found in use, without reading the AG's every block.
     */
    public static XfsDevice.BtreeRoot of(ScrubContext ctx, int agno, BtreeType type) throws Exception {
        XfArray space = ctx.observation(Observation.SPACE_MAP);
        SpaceMapRecord r = new SpaceMapRecord();
        SpaceUse use = SpaceUse.of(type);
        List<XfsDevice.BtreeRoot> candidates = new ArrayList<>();
        for (long i = r.first(space, agno, 0); i < space.length() && r.load(space, i).agno() == agno; i++) {
            if (r.use() == use) {
                for (long b = r.agbno(); b < r.end(); b++) { // one block a record, as the walk stages a tree's
                    XfsDevice.BtreeRoot c = ctx.device().rootCandidate(agno, type, b);
                    if (c != null) {
                        candidates.add(c);
                    }
                }
            }
        }
        candidates.sort(Comparator.comparingInt((XfsDevice.BtreeRoot c) -> -c.levels()).thenComparingLong(XfsDevice.BtreeRoot::block));
        for (XfsDevice.BtreeRoot c : candidates) { // tallest first
            if (ownedInRmapbt(ctx, agno, c.block(), use)) {
                return c;
            }
        }
        return null;
    }

    /**
     * Puts the proven root of {@code type} into an AGF's or AGI's fields: root, level and, where the header counts
     * the tree's blocks, their number.
     *
     * @return false when the tree has no proven root
     */
    public static boolean put(ScrubContext ctx, int agno, BtreeType type, Map<HeaderField, Long> fields) throws Exception {
        XfsDevice.BtreeRoot root = of(ctx, agno, type);
        if (root == null) {
            return false;
        }
        fields.put(HeaderField.root(type), root.block());
        fields.put(HeaderField.level(type), (long) root.levels());
        HeaderField blocks = HeaderField.blocks(type);
        if (blocks != null) {
            fields.put(blocks, (long) ctx.device().btreeBlocks(agno, type).length);
        }
        return true;
    }

    /** Whether the rmapbt, where there is one, gives the block to the owner of blocks used so. */
    private static boolean ownedInRmapbt(ScrubContext ctx, int agno, long block, SpaceUse use) throws Exception {
        if (!ctx.info().hasTree(BtreeType.RMAP)) {
            return true;
        }
        long owner = use.owner().code();
        boolean[] owned = {false};
        ctx.device().walkBtree(agno, Btree.RMAP, m -> owned[0] |= m.owner() == owner && m.start() <= block && block < m.start() + m.length());
        return owned[0];
    }
}
