package org.xfstage.strategies.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.device.SalvagedEntry;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsFormatException;
import org.xfstage.api.repair.DirectoryWalkRecord;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The directory rebuild's plan on walks made up here (the device's rebuild is tested on real images in the device
 * bundle, the whole repair in RepairOracleTest): what is kept, dropped, cut and renamed, which directories are rebuilt
 * with which "..", the link counts that follow from the drops (a file with two names that loses one), and lost+found.
 */
class DirectoryRebuildPlanTest {
    private static final long ROOT = 128;
    private static XFileFactoryImpl xfiles;
    private static XfArrayFactoryImpl arrays;
    private static XfBlobFactoryImpl blobs;

    @BeforeAll
    static void start() {
        xfiles = XFileFactoryImpl.standalone(1L << 30, 1L << 31);
        arrays = new XfArrayFactoryImpl(xfiles);
        blobs = new XfBlobFactoryImpl(xfiles);
    }

    @AfterAll
    static void stop() {
        blobs.deactivate();
        arrays.deactivate();
        xfiles.deactivate();
    }

    /** A walk as the engine stages it, the link counts and inode map it makes, and a device that records rebuilds. */
    private static final class World {
        final List<Object[]> walk = new ArrayList<>();
        final Map<Long, Long> nlink = new TreeMap<>();
        final Map<Long, FileType> types = new TreeMap<>();
        final Map<Long, Boolean> inUse = new TreeMap<>();
        /** Rebuilt directories: inode to its ".." then its entries as "name=child". */
        final Map<Long, List<String>> rebuilt = new LinkedHashMap<>();
        final Map<Long, Long> nlinkSet = new TreeMap<>();
        /** Directories made in free inodes: inode to its ".." then its entries as "name=child". */
        final Map<Long, List<String>> made = new LinkedHashMap<>();
        /** What the device reads in directories the walk did not reach: name to child. */
        final Map<Long, Map<String, Long>> unreached = new TreeMap<>();

        World dir(long ino, long dotdot) {
            inUse.put(ino, true);
            types.put(ino, FileType.DIRECTORY);
            walk.add(new Object[] {"dir", ino});
            walk.add(new Object[] {"entry", ino, ".", ino, FileType.DIRECTORY, null});
            walk.add(new Object[] {"entry", ino, "..", dotdot, FileType.DIRECTORY, FileType.DIRECTORY});
            return this;
        }

        /** An entry of {@code dir}: it records {@code says}, the named inode is {@code is} (null: not in use). */
        World name(long dir, String name, long child, FileType says, FileType is) {
            if (is != null) {
                inUse.put(child, true);
                types.put(child, is);
            }
            walk.add(new Object[] {"entry", dir, name, child, says, is});
            return this;
        }

        World problem(long dir) {
            walk.add(new Object[] {"problem", dir});
            return this;
        }

        Plan plan() throws Exception {
            try (XfArray walked = arrays.create("walk", DirectoryWalkRecord.SIZE);
                    XfBlob told = blobs.create("walk bytes");
                    XfArray links = arrays.create("link counts", LinkCountRecord.SIZE);
                    XfArray map = arrays.create("inode map", InodeMapRecord.SIZE)) {
                DirectoryWalkRecord r = new DirectoryWalkRecord();
                LinkCountRecord l = new LinkCountRecord();
                l.inode(ROOT, nlink.getOrDefault(ROOT, 2L), true).appendTo(links);
                for (Object[] w : walk) {
                    long dir = (Long) w[1];
                    switch ((String) w[0]) {
                        case "dir" -> r.directory(dir, told.store("/d".getBytes(StandardCharsets.UTF_8))).appendTo(walked);
                        case "problem" -> r.problem(new DirectoryProblem(dir, DirectoryProblem.Kind.HASH_ORDER, 0, 64, "order", false),
                                told.store("order".getBytes(StandardCharsets.UTF_8))).appendTo(walked);
                        default -> {
                            byte[] name = ((String) w[2]).getBytes(StandardCharsets.UTF_8);
                            long child = (Long) w[3];
                            FileType is = (FileType) w[5];
                            boolean dot = w[2].equals(".");
                            r.entry(new DirectoryEntry(dir, name, 0, child, (FileType) w[4], 64), told.store(name), !dot, is).appendTo(walked);
                            if (dot || w[2].equals("..")) {
                                continue;
                            }
                            // as the engine's LinkCounter counts them
                            if (is != null) {
                                l.inode(child, nlink.getOrDefault(child, is == FileType.DIRECTORY ? 2L : 1L), is == FileType.DIRECTORY)
                                        .appendTo(links);
                            }
                            l.link(child, LinkCountRecord.Kind.ENTRY).appendTo(links);
                            if (is == FileType.DIRECTORY) {
                                l.link(dir, LinkCountRecord.Kind.DOTDOT).appendTo(links);
                            }
                        }
                    }
                }
                links.sort(LinkCountRecord.ORDER, SortOptions.DEFAULT, Progress.NONE);
                InodeMapRecord m = new InodeMapRecord();
                for (Map.Entry<Long, Boolean> e : inUse.entrySet()) {
                    m.set(e.getKey(), e.getValue() ? InodeMapRecord.State.IN_USE : InodeMapRecord.State.FREE).appendTo(map);
                }
                map.sort(InodeMapRecord.ORDER, SortOptions.DEFAULT, Progress.NONE);
                return new DirectoryStrategy().plan(context(walked, told, links, map), List.of(new Finding("directory", -1, "d", "x", null)));
            }
        }

        private ScrubContext context(XfArray walked, XfBlob told, XfArray links, XfArray map) {
            XfsDevice device = (XfsDevice) Proxy.newProxyInstance(XfsDevice.class.getClassLoader(), new Class<?>[] {XfsDevice.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "rebuildDirectory", "resizeDirectory" -> {
                            List<String> got = new ArrayList<>(List.of(".." + "=" + args[1]));
                            @SuppressWarnings("unchecked")
                            java.util.Iterator<SalvagedEntry> it = (java.util.Iterator<SalvagedEntry>) args[2];
                            it.forEachRemaining(e -> got.add(new String(e.name(), StandardCharsets.UTF_8) + "=" + e.child()
                                    + (e.type() == null ? "" : ":" + e.type().name().charAt(0))));
                            rebuilt.put((Long) args[0], got);
                            yield List.of(new BlockImage((Long) args[0] * 1000, new byte[1], "directory " + args[0]));
                        }
                        case "updateInode" -> {
                            @SuppressWarnings("unchecked")
                            Map<InodeField, Long> f = (Map<InodeField, Long>) args[1];
                            nlinkSet.put((Long) args[0], f.get(InodeField.NLINK));
                            yield new BlockImage((Long) args[0] * 1000 + 1, new byte[1], "inode " + args[0]);
                        }
                        case "fileType" -> inUse.getOrDefault((Long) args[0], false) ? types.get((Long) args[0]) : null;
                        case "directory" -> {
                            org.xfstage.api.device.DirectorySink sink = (org.xfstage.api.device.DirectorySink) args[1];
                            unreached.get((Long) args[0]).forEach((n, c) -> sink.entry(new DirectoryEntry((Long) args[0],
                                    n.getBytes(StandardCharsets.UTF_8), 0, c, types.get(c), 64)));
                            yield null;
                        }
                        case "newDirectory" -> {
                            List<String> got = new ArrayList<>(List.of(".." + "=" + args[1]));
                            @SuppressWarnings("unchecked")
                            java.util.Iterator<SalvagedEntry> it = (java.util.Iterator<SalvagedEntry>) args[2];
                            it.forEachRemaining(e -> got.add(new String(e.name(), StandardCharsets.UTF_8) + "=" + e.child()
                                    + (e.type() == null ? "" : ":" + e.type().name().charAt(0))));
                            made.put((Long) args[0], got);
                            BlockImage b = new BlockImage((Long) args[0] * 1000 + 2, new byte[1], "new directory " + args[0]);
                            yield args.length == 4 ? List.of(b) : b; // with an allocator: the inode and any blocks
                        }
                        case "inodeNumber" -> (Integer) args[0] * 1_000_000L + (Long) args[1];
                        case "withPlanned" -> proxy;
                        case "close" -> null;
                        case "header" -> Map.of(HeaderField.SB_ROOTINO, ROOT);
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
            FsInfo info = new FsInfo("u", "", 4096, 512, 512, 1, 1000, 1000, 4096, 0, 0, 0, 0, 25, List.of("crc", "ftype"), 0, 0, 0,
                    List.of());
            return new ScrubContext() {
                @Override
                public XfsDevice device() {
                    return device;
                }

                @Override
                public FsInfo info() {
                    return info;
                }

                @Override
                public XfArray observation(Observation o) {
                    return switch (o) {
                        case DIRECTORY_WALK -> walked;
                        case LINK_COUNTS -> links;
                        case INODE_MAP -> map;
                        default -> null;
                    };
                }

                @Override
                public XfBlob observationBlob(Observation o) {
                    return o == Observation.DIRECTORY_WALK ? told : null;
                }

                @Override
                public XfArrayFactory arrays() {
                    return arrays;
                }

                @Override
                public XfBlobFactory blobs() {
                    return blobs;
                }

                @Override
                public Progress progress() {
                    return Progress.NONE;
                }
            };
        }
    }

    /** The root with subdirectory 200, which holds "a" (300) and "b" (301); 301 is also the root's "x". */
    private static World tree() {
        World w = new World().dir(ROOT, ROOT).name(ROOT, "d", 200, FileType.DIRECTORY, FileType.DIRECTORY)
                .name(ROOT, "x", 301, FileType.FILE, FileType.FILE).dir(200, ROOT).name(200, "a", 300, FileType.FILE, FileType.FILE)
                .name(200, "b", 301, FileType.FILE, FileType.FILE);
        w.nlink.put(ROOT, 3L);
        w.nlink.put(301L, 2L);
        return w;
    }

    @Test
    void aDirectoryWithAProblemIsRebuiltFromItsOwnEntriesAndNothingElse() throws Exception {
        World w = tree().problem(200);
        Plan p = w.plan();
        assertEquals(Map.of(200L, List.of("..=128", "a=300:F", "b=301:F")), w.rebuilt);
        assertEquals(Map.of(), w.nlinkSet, "no entry dropped: every count stays");
        assertTrue(p.covers().stream().anyMatch(c -> c.structure().equals("nlinks")), "the plan answers for the link counts");
    }

    /**
     * A name held twice keeps the first; the second named 301, which keeps its other name: its count goes from the
     * three names the damaged tree showed (it had been set so) to two. An entry naming a free inode is dropped, a name
     * with a '/' is cut, a file type is taken from the inode, a ".." naming another directory is set to the parent, an
     * entry naming the root is dropped (the subdirectory link it gave 200 with it: 200 keeps its count).
     */
    @Test
    void entriesAreKeptDroppedCutAndRetypedAndTheLinkCountsFollow() throws Exception {
        World w = new World().dir(ROOT, ROOT).name(ROOT, "d", 200, FileType.DIRECTORY, FileType.DIRECTORY)
                .name(ROOT, "x", 301, FileType.FILE, FileType.FILE).dir(200, 999).name(200, "a", 300, FileType.FILE, FileType.FILE)
                .name(200, "b", 301, FileType.SYMLINK, FileType.FILE).name(200, "a", 301, FileType.FILE, FileType.FILE)
                .name(200, "gone", 302, FileType.FILE, null).name(200, "c/ut", 303, FileType.FILE, FileType.FILE)
                .name(200, "up", ROOT, FileType.DIRECTORY, FileType.DIRECTORY);
        w.inUse.put(302L, false);
        w.nlink.put(ROOT, 3L);
        w.nlink.put(301L, 3L);
        Plan p = w.plan();
        assertEquals(Map.of(200L, List.of("..=128", "a=300:F", "b=301:F", "c=303:F")), w.rebuilt);
        assertEquals(Map.of(301L, 2L), w.nlinkSet);
        String changes = String.join("\n", p.changes());
        assertTrue(changes.contains("\"a\" held twice: the one naming inode 301 dropped") && changes.contains("\"gone\" dropped")
                && changes.contains("\"up\" dropped: it names the root directory") && changes.contains("renamed \"c\"") && changes.contains("file type set") && changes.contains(".. set to inode 128"),
                changes);
    }

    /** A "." recorded with another file type than a directory's: the directory is rebuilt (its "." made anew). */
    @Test
    void aDotEntryWithTheWrongFileTypeIsRebuilt() throws Exception {
        World w = tree();
        for (int i = 0; i < w.walk.size(); i++) {
            Object[] e = w.walk.get(i);
            if (e[0].equals("entry") && e[1].equals(200L) && e[2].equals(".")) {
                w.walk.set(i, new Object[] {"entry", 200L, ".", 200L, FileType.FILE, null});
            }
        }
        Plan p = w.plan();
        assertEquals(Map.of(200L, List.of("..=128", "a=300:F", "b=301:F")), w.rebuilt);
        assertTrue(String.join("\n", p.changes()).contains("\".\": file type set to directory"), String.join("\n", p.changes()));
    }

    /** The root with directories 200 and 201, each naming directory 202 ("s" and "t"), whose ".." is {@code dotdot}. */
    private static World namedTwice(long dotdot) {
        World w = new World().dir(ROOT, ROOT).name(ROOT, "p", 200, FileType.DIRECTORY, FileType.DIRECTORY)
                .name(ROOT, "q", 201, FileType.DIRECTORY, FileType.DIRECTORY).dir(200, ROOT)
                .name(200, "s", 202, FileType.DIRECTORY, FileType.DIRECTORY).dir(201, ROOT)
                .name(201, "t", 202, FileType.DIRECTORY, FileType.DIRECTORY).dir(202, dotdot);
        w.nlink.put(ROOT, 4L);
        w.nlink.put(200L, 3L);
        w.nlink.put(201L, 3L);
        return w;
    }

    /**
     * A directory named by two directories keeps the name in the one its ".." names, as xfs_repair's phase 6 keeps it;
     * when its ".." names neither, the name in the lowest-numbered one (the first phase 6 reaches), and its ".." is set
     * to it. The other directory is rebuilt without the name and loses the subdirectory's link.
     */
    @Test
    void aDirectoryNamedByTwoDirectoriesKeepsTheNameItsDotDotNames() throws Exception {
        World byDotDot = namedTwice(201);
        Plan p = byDotDot.plan();
        assertEquals(Map.of(200L, List.of("..=128")), byDotDot.rebuilt);
        assertEquals(Map.of(200L, 2L), byDotDot.nlinkSet);
        assertTrue(String.join("\n", p.changes()).contains("the entry naming directory inode 202 dropped: that directory is named by"
                + " inode 201 too, which its .. names"), String.join("\n", p.changes()));

        World byOrder = namedTwice(999);
        byOrder.plan();
        assertEquals(Map.of(201L, List.of("..=128"), 202L, List.of("..=200")), byOrder.rebuilt);
        assertEquals(Map.of(201L, 2L), byOrder.nlinkSet);
    }

    /**
     * A file left with no name needs lost+found: made in the first free inode of the map when there is none (the root
     * rebuilt with its entry and a link more), refused when no chunk has a free inode or the root names a file
     * "lost+found"; named there by its number.
     */
    @Test
    void aFileLeftWithoutANameGoesToLostFoundMadeWhenMissing() throws Exception {
        World noFree = tree().name(200, "a", 304, FileType.FILE, FileType.FILE);
        XfsFormatException x = assertThrows(XfsFormatException.class, noFree::plan);
        assertTrue(x.getMessage().contains("inode 304 would be named by no directory") && x.getMessage().contains("no inode chunk has a free inode"),
                x.getMessage());

        World without = tree().name(200, "a", 304, FileType.FILE, FileType.FILE);
        without.inUse.put(160L, false);
        without.inUse.put(170L, false);
        Plan p = without.plan();
        assertEquals(Map.of(160L, List.of("..=128", "304=304:F")), without.made, "the first free inode made lost+found, holding the file");
        assertEquals(List.of("..=128", "d=200:D", "x=301:F", "lost+found=160:D"), without.rebuilt.get(ROOT), "named last in the root");
        assertEquals(List.of("..=128", "a=300:F", "b=301:F"), without.rebuilt.get(200L), "the second \"a\" dropped");
        assertEquals(4L, without.nlinkSet.get(ROOT), "the root's .. links: its own, d's and lost+found's");
        assertTrue(String.join("\n", p.changes()).contains("inode 160 (free) made /lost+found"), p.changes().toString());

        World named = tree().name(200, "a", 304, FileType.FILE, FileType.FILE).name(ROOT, "lost+found", 305, FileType.FILE, FileType.FILE);
        named.inUse.put(160L, false);
        x = assertThrows(XfsFormatException.class, named::plan);
        assertTrue(x.getMessage().contains("names something else lost+found"), x.getMessage());

        World with = new World().dir(ROOT, ROOT).name(ROOT, "lost+found", 150, FileType.DIRECTORY, FileType.DIRECTORY)
                .name(ROOT, "d", 200, FileType.DIRECTORY, FileType.DIRECTORY).dir(150, ROOT).name(150, "304", 77, FileType.FILE, FileType.FILE)
                .dir(200, ROOT).name(200, "a", 300, FileType.FILE, FileType.FILE).name(200, "a", 304, FileType.FILE, FileType.FILE);
        with.inUse.put(500L, true); // no entry names it: disconnected before the repair
        with.types.put(500L, FileType.SOCKET);
        with.nlink.put(ROOT, 4L);
        with.nlink.put(304L, 1L);
        with.plan();
        assertEquals(List.of("..=128", "a=300:F"), with.rebuilt.get(200L));
        assertEquals(List.of("..=128", "304=77:F", "304.1=304:F", "500=500:S"), with.rebuilt.get(150L),
                "named by number, a suffix where lost+found holds the name");
        assertEquals(Map.of(500L, 1L), with.nlinkSet, "the disconnected file's count is set to its one name; 304 keeps its one");
    }

    /**
     * A disconnected directory goes to lost+found whole: named there, its ".." set to lost+found (which gains a link),
     * its own entries kept; the file below it stays below it. Directories that only name each other have no top.
     */
    @Test
    void aDisconnectedDirectoryMovesToLostFoundWithWhatItHolds() throws Exception {
        World w = new World().dir(ROOT, ROOT).name(ROOT, "lost+found", 150, FileType.DIRECTORY, FileType.DIRECTORY).dir(150, ROOT);
        w.nlink.put(ROOT, 3L);
        w.inUse.put(600L, true);
        w.types.put(600L, FileType.DIRECTORY);
        w.inUse.put(601L, true);
        w.types.put(601L, FileType.FILE);
        w.unreached.put(600L, Map.of("f", 601L));
        w.plan();
        assertEquals(List.of("..=128", "600=600:D"), w.rebuilt.get(150L));
        assertEquals(List.of("..=150", "f=601:F"), w.rebuilt.get(600L));
        assertEquals(Map.of(150L, 3L), w.nlinkSet, "lost+found's .. links: its own and the directory moved in");

        World loop = new World().dir(ROOT, ROOT).name(ROOT, "lost+found", 150, FileType.DIRECTORY, FileType.DIRECTORY).dir(150, ROOT);
        loop.nlink.put(ROOT, 3L);
        for (long d : new long[] {600, 700}) {
            loop.inUse.put(d, true);
            loop.types.put(d, FileType.DIRECTORY);
        }
        loop.unreached.put(600L, Map.of("b", 700L));
        loop.unreached.put(700L, Map.of("a", 600L));
        XfsFormatException x = assertThrows(XfsFormatException.class, loop::plan);
        assertTrue(x.getMessage().contains("name each other"), x.getMessage());
    }
}
