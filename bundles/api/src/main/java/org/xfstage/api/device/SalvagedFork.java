package org.xfstage.api.device;

import java.util.List;

/**
 * What can still be read of an inode's data or attribute fork ({@link XfsDevice#salvageFork}): the extents that
 * break no rule of their own, in file offset order, those that do with the reason, and the bmbt blocks that read as
 * blocks of this inode's bmbt (which a rewrite may reuse).
 *
 * @param extents     the extents kept, in file offset order, none overlapping another
 * @param dropped     the records that were not kept, in the order the fork holds them
 * @param bmbtBlocks  the bmbt blocks whose records were read, as (AG, AG block), in the order they were met
 * @param lostRecords whether bmbt blocks could not be read, so that records below them are lost without a count
 * @since api device 2.5
 */
public record SalvagedFork(List<FileExtent> extents, List<Dropped> dropped, List<AgBlock> bmbtBlocks, boolean lostRecords) {

    /**
     * A record of the fork that is not kept.
     *
     * @param record its place among the fork's records (the bmbt's leaves in order), or -1 for a bmbt block
     * @param offset its first file block as recorded (the bmbt block, for a block that cannot be read)
     * @param length its blocks as recorded (0 for a bmbt block)
     * @param agno   the AG of its blocks, or -1 when they do not lie in one AG of the filesystem (or it is a bmbt block)
     * @param agbno  its first AG block, or -1 as for {@code agno}
     * @param reason why, in words ("outside the filesystem")
     */
    public record Dropped(long record, long offset, long length, int agno, long agbno, String reason) {
    }

    /**
     * One filesystem block by AG.
     *
     * @param agno  the AG
     * @param agbno the block within it
     */
    public record AgBlock(int agno, long agbno) {
    }
}
