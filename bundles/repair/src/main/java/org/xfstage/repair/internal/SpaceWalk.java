package org.xfstage.repair.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.function.Consumer;

import org.xfstage.api.device.BtreeType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.MappingRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;

/**
 * The one walk of a scrub: for every AG, the static space (headers, AGFL, log), every block of every btree, every
 * inode chunk (runs of their blocks as one extent) and every inode's blocks go into the space map; every inode of every chunk goes into the inode map,
 * and what the device finds wrong in it, in the same read, into the inode problems (for the inode, bmap, symlink and
 * xattr strategies). Whatever cannot be read becomes a finding, and the walk goes on with the next structure.
 * <p>
 * Without an inode map, only the metadata: the inodes are not read (a repair's re-check reuses what the first walk
 * found in them when no plan wrote inode space); the chunks the inobt lists are summed up in {@link #chunks()} so
 * that the re-check can tell whether they are the same.
 * <p>
 * With {@link #threads} above one, the AGs are walked by that many threads ({@link AgWorkers}): an AG walked before
 * its turn stages into arrays of its own, appended to the walk's in AG order, so that the walk stages the same records
 * in the same order, and reports the same findings, whatever the number of threads. {@link AgWalk} walks one AG,
 * {@link AgStaging} says where its records go.
 */
final class SpaceWalk {
    private final XfsDevice device;
    private final FsInfo info;
    /** The walk's arrays by kind (AgStaging's); the inode map, problems and mappings are null when not staged. */
    private final XfArray[] out;
    private final Consumer<Finding> findings;
    private final Progress progress;
    private final MessageDigest chunkDigest = sha256();
    private int threads = 1;
    /** Where an AG walked ahead of its turn stages (null: one thread, no AG is ahead). */
    private XfArrayFactory buffers;
    private AgWorkers workers;
    /** Where an AG keeps its rmapbt records until its merge (null: they are not staged). */
    private XfArrayFactory apart;
    long extents;
    long inodesSeen;
    /** Whether the inode map was appended in increasing inode order (inobt order, AG by AG): then it needs no sort. */
    boolean inodesInOrder = true;
    private long lastIno = -1;

    SpaceWalk(XfsDevice device, FsInfo info, XfArray space, XfArray inodes, Consumer<Finding> findings, Progress progress) {
        this(device, info, space, inodes, null, findings, progress);
    }

    /** A walk that also stages, in {@code problems}, what the device finds wrong in each inode as it reads it. */
    SpaceWalk(XfsDevice device, FsInfo info, XfArray space, XfArray inodes, XfArray problems, Consumer<Finding> findings,
            Progress progress) {
        this(device, info, space, inodes, problems, null, findings, progress);
    }

    /**
     * A walk that also stages, in {@code mappings} (null: not), every extent of every inode as the reverse mapping it
     * should have (Observation.FILE_MAPPINGS), from the same read.
     */
    SpaceWalk(XfsDevice device, FsInfo info, XfArray space, XfArray inodes, XfArray problems, XfArray mappings,
            Consumer<Finding> findings, Progress progress) {
        this.device = device;
        this.info = info;
        this.out = new XfArray[] {space, inodes, problems, mappings, null};
        this.findings = findings;
        this.progress = progress;
    }

    /**
     * Walks with {@code n} threads (the engine's walkThreads; at most one per AG), an AG walked ahead of its turn staging
     * into arrays made by {@code buffers} until it is appended; one thread walks the AGs in turn on the calling thread.
     */
    SpaceWalk threads(int n, XfArrayFactory buffers) {
        this.threads = Math.max(1, n);
        this.buffers = buffers;
        return this;
    }

    /**
     * Also stages the rmapbt's records of every AG whose rmapbt reads whole (Observation.RMAPBT_RECORDS), when a
     * strategy of run {@code w} needs them: the walk reads every record of the tree anyway, and the checks would each
     * walk it again. Each AG's wait in an array of its own until it is merged.
     */
    SpaceWalk rmapbtRecords(ScrubRun.Walking w) throws StagingException {
        if (w.info().hasTree(BtreeType.RMAP) && WholeWalk.needed(w, Observation.RMAPBT_RECORDS)) {
            out[AgStaging.RMAPBT] = w.arrays().create("scrub " + w.run() + " rmapbt records", MappingRecord.SIZE);
            w.staged().put(Observation.RMAPBT_RECORDS, out[AgStaging.RMAPBT]);
            apart = w.arrays();
        }
        return this;
    }

    void walk() throws StagingException {
        progress.total("scrub: walk", info.agCount());
        List<FsInfo.AgInfo> ags = info.ags();
        if (threads <= 1 || ags.size() <= 1 || buffers == null) {
            for (FsInfo.AgInfo ag : ags) {
                if (progress.isCancelled()) {
                    throw new CancelledException("scrub cancelled during the walk of AG " + ag.agno());
                }
                AgWalk a = agWalk(ag.agno());
                a.goDirect();
                a.walk();
                a.merge();
                progress.increment(1);
            }
            return;
        }
        workers = new AgWorkers(threads, progress);
        workers.run(ags.size(), i -> agWalk(ags.get(i).agno()));
    }

    private AgWalk agWalk(int agno) {
        return new AgWalk(this, agno, device, info, new AgStaging(agno, out, buffers, apart), workers);
    }

    /** An AG's findings and counts made the walk's, in AG order (AgWorkers merges them so). */
    void merged(AgWalk a) {
        a.found.forEach(findings);
        extents += a.extents;
        inodesSeen += a.inodesSeen;
        if (a.firstIno >= 0) {
            inodesInOrder &= a.inOrder && a.firstIno > lastIno;
            lastIno = a.lastIno;
        }
        chunkDigest.update(a.digest.digest());
    }

    /** A digest of the inode chunks the inobts list (AG, first inode, holes): of each AG's digest, in AG order. */
    byte[] chunks() {
        return chunkDigest.digest();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java platform has SHA-256
        }
    }
}
