package org.xfstage.strategies.namespace;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.xfstage.api.device.FileType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlobFactory;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * A scrub's context for strategy tests: observations staged in real xfarrays (as the engine stages them), and a
 * device that knows only a directory tree (for the paths of findings) and counts how often it was walked, the AGI
 * unlinked buckets and inode problems it is given, and which inode cores it was asked to repair (answering with an
 * empty inode).
 */
final class Staging implements ScrubContext, AutoCloseable {
    private final XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(1L << 30, 1L << 31);
    private final XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
    private final Map<Observation, XfArray> staged = new EnumMap<>(Observation.class);
    private final List<ManifestEntry> tree = new ArrayList<>();
    private final FsInfo info;
    /** After how many entries the tree walk fails as a damaged tree would (-1: never). */
    int treeBreaksAfter = -1;
    int treeWalks;
    /** The inode cores the device was asked to repair, with the rules. */
    final Map<Long, java.util.Set<org.xfstage.api.device.InodeProblem.Kind>> repairs = new java.util.TreeMap<>();
    /** What a verifying read of each inode finds now (as plans see it, on a view with the earlier plans in it). */
    final Map<Long, List<org.xfstage.api.device.InodeProblem>> current = new java.util.HashMap<>();
    /** The inodes the device was asked to clear, and those whose attribute fork it was asked to drop. */
    final java.util.Set<Long> cleared = new java.util.TreeSet<>();
    final java.util.Set<Long> attributesDropped = new java.util.TreeSet<>();
    /** Inodes whose attribute fork is short form and salvaged by the stand-in device, and those it salvaged. */
    final java.util.Set<Long> shortFormAttributes = new java.util.TreeSet<>();
    final java.util.Set<Long> attributesSalvaged = new java.util.TreeSet<>();
    /** Inodes whose leaf or node attribute fork the stand-in device salvages (in an inode and a leaf block). */
    final java.util.Set<Long> blockAttributes = new java.util.TreeSet<>();
    /** The inodes whose only fault is their checksum (the device rewrites it); the rest it refuses. */
    final java.util.Set<Long> checksumOnly = new java.util.TreeSet<>();
    /** The symlinks whose remote blocks' headers the device can write again (their target proves them); the rest it refuses. */
    final java.util.Set<Long> symlinksProven = new java.util.TreeSet<>();
    /** The AGI unlinked buckets per AG (none unless set). */
    final Map<Integer, Map<Integer, Long>> unlinked = new java.util.HashMap<>();

    Staging(boolean reflink) {
        List<String> features = new ArrayList<>(List.of("crc", "finobt", "ftype", "sparse"));
        if (reflink) {
            features.add("reflink");
        }
        List<FsInfo.AgInfo> ags = new ArrayList<>();
        for (int agno = 0; agno < 4; agno++) {
            ags.add(new FsInfo.AgInfo(agno, 32768, 30000, 30000, 64, 10, 4, 0, 0, 1));
        }
        info = new FsInfo("uuid", "", 4096, 512, 512, 4, 32768, 131072, 4096, 16384, 65536, 0, 0, 25, features, 256, 40,
                120000, ags);
    }

    /** A path of the tree the device walks. */
    Staging path(String path, long ino) {
        tree.add(new ManifestEntry(path, FileType.FILE, 0644, 0, null, null, ino, 1));
        return this;
    }

    /** The array of an observation, made on first use; records appended to it are staged. */
    XfArray array(Observation o, int recordSize) throws Exception {
        XfArray a = staged.get(o);
        if (a == null) {
            a = arrays.create(o.name(), recordSize);
            staged.put(o, a);
        }
        return a;
    }

    /** The findings of a strategy's check. */
    List<org.xfstage.api.repair.Finding> check(org.xfstage.api.repair.RepairStrategy s) throws Exception {
        List<org.xfstage.api.repair.Finding> out = new ArrayList<>();
        s.check(this, out::add);
        return out;
    }

    @Override
    public XfsDevice device() {
        return (XfsDevice) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {XfsDevice.class}, (p, m, args) -> {
            if (m.getName().equals("repairInodeCore")) {
                @SuppressWarnings("unchecked")
                java.util.Set<org.xfstage.api.device.InodeProblem.Kind> rules = (java.util.Set<org.xfstage.api.device.InodeProblem.Kind>) args[1];
                repairs.put((Long) args[0], java.util.Set.copyOf(rules));
                return new org.xfstage.api.device.BlockImage((Long) args[0] * 512, new byte[512], "inode " + args[0]);
            }
            if (m.getName().equals("checkInode")) {
                org.xfstage.api.device.XfsDevice.ProblemSink sink = (org.xfstage.api.device.XfsDevice.ProblemSink) args[1];
                current.getOrDefault((Long) args[0], List.of()).forEach(sink::problem);
                return true;
            }
            if (m.getName().equals("clearInode") || m.getName().equals("dropAttributeFork")) {
                (m.getName().equals("clearInode") ? cleared : attributesDropped).add((Long) args[0]);
                return new org.xfstage.api.device.BlockImage((Long) args[0] * 512, new byte[512], "inode " + args[0]);
            }
            if (m.getName().equals("salvageShortFormAttributes")) {
                if (!shortFormAttributes.contains((Long) args[0])) {
                    throw new XfsFormatException("inode " + args[0] + " has no short-form attribute fork");
                }
                attributesSalvaged.add((Long) args[0]);
                return new org.xfstage.api.device.BlockImage((Long) args[0] * 512, new byte[512], "inode " + args[0]
                        + " (attributes: 1 of 3 attribute(s) kept, cut before entry 1: a name of no length)");
            }
            if (m.getName().equals("salvageAttributeBlocks")) {
                if (!blockAttributes.contains((Long) args[0])) {
                    throw new XfsFormatException("inode " + args[0] + ": nothing of its attribute blocks reads");
                }
                attributesSalvaged.add((Long) args[0]);
                return List.of(new org.xfstage.api.device.BlockImage((Long) args[0] * 512, new byte[512], "inode " + args[0]
                        + " (attributes: 2 of 3 attribute(s) kept as one leaf block; dropped: user.b (its remote value block 1"
                        + " does not verify); 2 block(s) unmapped)"), new org.xfstage.api.device.BlockImage(1 << 20, new byte[4096], "leaf"));
            }
            if (m.getName().equals("rewriteInodeChecksum")) {
                if (!checksumOnly.contains((Long) args[0])) {
                    throw new XfsFormatException("inode " + args[0] + ": bad magic (not an inode)");
                }
                return new org.xfstage.api.device.BlockImage((Long) args[0] * 512, new byte[512], "inode " + args[0] + " (checksum)");
            }
            if (m.getName().equals("rebuildSymlinkBlocks")) {
                if (!symlinksProven.contains((Long) args[0])) {
                    throw new XfsFormatException("symlink inode " + args[0] + " block 300 has no XSLM magic: it may hold anything");
                }
                return List.of(new org.xfstage.api.device.BlockImage(300L * 4096, new byte[4096], "remote symlink block 300"));
            }
            if (m.getName().equals("directoryTree")) {
                // the tree's paths as entries of their parent directories (inode 0 for every directory: not asked)
                treeWalks++;
                org.xfstage.api.device.DirectorySink sink = (org.xfstage.api.device.DirectorySink) args[1];
                for (int i = 0; i < tree.size(); i++) {
                    if (i == treeBreaksAfter) {
                        throw new XfsFormatException("directory inode 128 block 0: checksum mismatch");
                    }
                    String path = tree.get(i).path();
                    int slash = path.lastIndexOf('/');
                    sink.directory(0, slash == 0 ? "/" : path.substring(0, slash));
                    sink.entry(new org.xfstage.api.device.DirectoryEntry(0, path.substring(slash + 1).getBytes(
                            java.nio.charset.StandardCharsets.UTF_8), 0, tree.get(i).inode(), FileType.FILE, 0));
                }
                return null;
            }
            if (m.getName().equals("unlinkedBuckets")) {
                return unlinked.getOrDefault((Integer) args[0], Map.of());
            }
            if (!m.getName().equals("manifest")) {
                throw new UnsupportedOperationException("the strategies read only the tree: " + m.getName());
            }
            treeWalks++;
            @SuppressWarnings("unchecked")
            Consumer<ManifestEntry> sink = (Consumer<ManifestEntry>) args[2];
            for (int i = 0; i < tree.size(); i++) {
                if (i == treeBreaksAfter) {
                    throw new XfsFormatException("directory inode 128 block 0: checksum mismatch");
                }
                sink.accept(tree.get(i));
            }
            return null;
        });
    }

    @Override
    public FsInfo info() {
        return info;
    }

    @Override
    public XfArray observation(Observation o) {
        return staged.get(o);
    }

    @Override
    public XfArrayFactory arrays() {
        return arrays;
    }

    @Override
    public XfBlobFactory blobs() {
        throw new UnsupportedOperationException("no strategy of this bundle stages blobs");
    }

    @Override
    public Progress progress() {
        return Progress.NONE;
    }

    @Override
    public void close() {
        staged.values().forEach(XfArray::close);
        arrays.deactivate();
        xfiles.deactivate();
    }
}
