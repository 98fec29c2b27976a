package org.xfstage.strategies.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.HeaderField;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.SortOptions;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlobFactory;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The directory strategy's own checks, on walks made up here (the device's reader is tested on real images in the
 * device bundle): problems become findings, capped; entries naming free inodes or no inode; file types against the
 * named inode; a name twice in a directory; a directory named twice; a ".." that is not the parent.
 */
class DirectoryStrategyTest {
    private static final long ROOT = 128;
    private static final long RTBITMAP = 129;
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

    /** A walk as the device would report it, and the inodes the inode map holds (ino to in use). */
    private static final class Tree {
        final List<Consumer<DirectorySink>> events = new ArrayList<>();
        final Map<Long, Boolean> inodes = new TreeMap<>();
        /** The inodes entries name, as the engine's walk stages them in the link counts. */
        final List<Long> named = new ArrayList<>();

        Tree dir(long ino, String path, long parent) {
            inodes.put(ino, true);
            events.add(s -> s.directory(ino, path));
            events.add(s -> s.entry(entry(ino, ".", ino, FileType.DIRECTORY)));
            events.add(s -> s.entry(entry(ino, "..", parent, FileType.DIRECTORY)));
            return this;
        }

        Tree name(long dir, String name, long child, FileType says, FileType is) {
            inodes.putIfAbsent(child, is != null);
            named.add(child);
            events.add(s -> {
                s.entry(entry(dir, name, child, says));
                s.child(child, is);
            });
            return this;
        }

        Tree problem(long dir, String detail) {
            events.add(s -> s.problem(new DirectoryProblem(dir, DirectoryProblem.Kind.HASH, 0, 64, detail, false)));
            return this;
        }

        private static DirectoryEntry entry(long dir, String name, long child, FileType type) {
            return new DirectoryEntry(dir, name.getBytes(StandardCharsets.UTF_8), name.hashCode(), child, type, 64);
        }
    }

    /** A clean tree: the root with a file and a subdirectory. */
    private static Tree clean() {
        return new Tree().dir(ROOT, "/", ROOT).name(ROOT, "a", 200, FileType.DIRECTORY, FileType.DIRECTORY)
                .name(ROOT, "f", 300, FileType.FILE, FileType.FILE).dir(200, "/a", ROOT);
    }

    private static List<Finding> check(Tree tree) throws Exception {
        try (XfArray map = arrays.create("inode map", InodeMapRecord.SIZE);
                XfArray links = arrays.create("link counts", LinkCountRecord.SIZE)) {
            LinkCountRecord l = new LinkCountRecord();
            for (long child : tree.named) {
                l.link(child, LinkCountRecord.Kind.ENTRY).appendTo(links);
            }
            links.sort(LinkCountRecord.ORDER, SortOptions.DEFAULT, Progress.NONE);
            InodeMapRecord r = new InodeMapRecord();
            tree.inodes.forEach((ino, used) -> {
                try {
                    r.set(ino, used ? InodeMapRecord.State.IN_USE : InodeMapRecord.State.FREE).appendTo(map);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            XfsDevice device = (XfsDevice) Proxy.newProxyInstance(XfsDevice.class.getClassLoader(), new Class<?>[] {XfsDevice.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("directoryTree")) {
                            DirectorySink sink = (DirectorySink) args[1];
                            tree.events.forEach(e -> e.accept(sink));
                            return null;
                        }
                        if (method.getName().equals("header")) { // the superblock: the root and a realtime bitmap
                            return Map.of(HeaderField.SB_ROOTINO, ROOT, HeaderField.SB_RBMINO, RTBITMAP);
                        }
                        throw new UnsupportedOperationException(method.getName());
                    });
            FsInfo info = new FsInfo("u", "", 4096, 512, 512, 1, 1000, 1000, 4096, 0, 0, 0, 0, 25, List.of("crc", "ftype"), 0, 0, 0,
                    List.of());
            ScrubContext ctx = new ScrubContext() {
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
                    return o == Observation.INODE_MAP ? map : o == Observation.LINK_COUNTS ? links : null;
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
            List<Finding> out = new ArrayList<>();
            new DirectoryStrategy().check(ctx, out::add);
            assertEquals(2, arrays.liveArrays().size(), "the strategy closed its own arrays (the inode map and links are the test's)");
            return out;
        }
    }

    private static void assertOneFinding(List<Finding> found, String fragment) {
        assertEquals(1, found.size(), found.toString());
        assertTrue(found.get(0).structure().equals("directory") && found.get(0).problem().contains(fragment), found.toString());
    }

    @Test
    void aConsistentTreeHasNoFindings() throws Exception {
        assertEquals(List.of(), check(clean()));
    }

    @Test
    void theDevicesProblemsBecomeFindingsAtMostAHundredAndACount() throws Exception {
        Tree t = clean();
        for (int i = 0; i < 150; i++) {
            t.problem(200, "damage " + i);
        }
        List<Finding> found = check(t);
        assertEquals(DirectoryStrategy.MAX_FINDINGS + 1, found.size());
        assertEquals("directory /a (inode 200) block 0 offset 64", found.get(0).location());
        assertEquals("bad hash: damage 0", found.get(0).problem());
        assertEquals("50 more findings not listed", found.get(found.size() - 1).problem());
    }

    /**
     * An inode in use that no entry names is disconnected (xfs_repair moves it to lost+found); a free one is not, nor
     * are the root and the metadata inodes the superblock names.
     */
    @Test
    void anInodeInUseThatNoEntryNamesIsDisconnected() throws Exception {
        Tree t = clean();
        t.inodes.put(RTBITMAP, true);
        t.inodes.put(400L, true);
        t.inodes.put(401L, false);
        List<Finding> found = check(t);
        assertOneFinding(found, "in use, but no directory reached from the root names it (disconnected)");
        assertEquals("inode 400", found.get(0).location());
    }

    @Test
    void anEntryNamingAFreeInodeIsFound() throws Exception {
        assertOneFinding(check(clean().name(200, "gone", 301, FileType.FILE, null)), "names inode 301, which is free");
    }

    @Test
    void anEntryNamingNoInodeIsFound() throws Exception {
        Tree t = clean();
        t.events.add(s -> s.entry(Tree.entry(200, "nowhere", 999, FileType.FILE)));
        t.events.add(s -> s.child(999, null));
        assertOneFinding(check(t), "names inode 999, which no inode chunk holds");
    }

    /** An inode map missing a whole AG's chunks (its inobt unreadable) makes no finding of names that read in use. */
    @Test
    void theInodeMapIsAskedOnlyForNamedInodesThatDoNotReadInUse() throws Exception {
        Tree t = new Tree().dir(ROOT, "/", ROOT);
        t.events.add(s -> s.child(ROOT, FileType.DIRECTORY));
        t.name(ROOT, "a", 200, FileType.DIRECTORY, FileType.DIRECTORY).dir(200, "/a", ROOT);
        t.events.add(s -> s.child(ROOT, FileType.DIRECTORY));
        t.inodes.remove(ROOT);
        t.inodes.remove(200L);
        assertEquals(List.of(), check(t));
    }

    @Test
    void aDotDotNamingAFreeInodeIsFound() throws Exception {
        Tree t = clean().dir(201, "/b", 250).name(ROOT, "b", 201, FileType.DIRECTORY, FileType.DIRECTORY);
        t.events.add(t.events.size() - 1, s -> s.child(250, null)); // right after /b's ".."
        t.inodes.put(250L, false);
        List<Finding> found = check(t);
        assertTrue(found.stream().anyMatch(f -> f.problem().equals("names inode 250, which is free")), found.toString());
    }

    @Test
    void aFileTypeThatIsNotTheInodesIsFound() throws Exception {
        assertOneFinding(check(clean().name(200, "l", 302, FileType.SYMLINK, FileType.FILE)), "file type symlink, but inode 302 is a file");
    }

    @Test
    void aDotEntryWhoseFileTypeIsNotDirectoryIsFound() throws Exception {
        Tree t = clean();
        t.events.add(s -> s.directory(201, "/c"));
        t.events.add(s -> s.entry(Tree.entry(201, ".", 201, FileType.CHAR_DEVICE)));
        t.events.add(s -> s.entry(Tree.entry(201, "..", ROOT, FileType.DIRECTORY)));
        t.name(ROOT, "c", 201, FileType.DIRECTORY, FileType.DIRECTORY);
        assertOneFinding(check(t), "file type char device, but it names a directory");
    }

    @Test
    void aNameHeldTwiceInOneDirectoryIsFound() throws Exception {
        // in walk order: a directory's entries come together, after its directory event
        Tree t = new Tree().dir(ROOT, "/", ROOT).name(ROOT, "a", 200, FileType.DIRECTORY, FileType.DIRECTORY)
                .name(ROOT, "f", 300, FileType.FILE, FileType.FILE).name(ROOT, "f", 301, FileType.FILE, FileType.FILE)
                .dir(200, "/a", ROOT).name(200, "f", 302, FileType.FILE, FileType.FILE);
        List<Finding> found = check(t);
        assertOneFinding(found, "holds \"f\" twice (inodes 300 and 301)");
        assertEquals("directory / (inode 128)", found.get(0).location());
    }

    @Test
    void aNameHeldTwiceInADirectoryTooLargeForTheHeapIsFound() throws Exception {
        // past DirectoryNames' bound the directory's names are staged and sorted: one copy before it, one after
        Tree t = new Tree().dir(ROOT, "/", ROOT).name(ROOT, "twice", 300, FileType.FILE, FileType.FILE);
        for (int i = 0; i < DirectoryNames.MAX_NAMES + 10; i++) {
            t.name(ROOT, "n" + i, 1000 + i, FileType.FILE, FileType.FILE);
        }
        t.name(ROOT, "twice", 301, FileType.FILE, FileType.FILE).name(ROOT, "a", 200, FileType.DIRECTORY, FileType.DIRECTORY)
                .dir(200, "/a", ROOT).name(200, "twice", 302, FileType.FILE, FileType.FILE);
        List<Finding> found = check(t);
        assertOneFinding(found, "holds \"twice\" twice (inodes ");
        assertEquals("directory / (inode 128)", found.get(0).location());
    }

    @Test
    void aDirectoryNamedByTwoDirectoriesIsFound() throws Exception {
        List<Finding> found = check(clean().name(ROOT, "b", 201, FileType.DIRECTORY, FileType.DIRECTORY).dir(201, "/b", ROOT)
                .name(201, "again", 200, FileType.DIRECTORY, FileType.DIRECTORY));
        assertOneFinding(found, "named by 2 directories: / (inode 128), /b (inode 201)");
    }

    @Test
    void aDotDotThatIsNotTheParentIsFound() throws Exception {
        Tree t = new Tree().dir(ROOT, "/", ROOT).name(ROOT, "a", 200, FileType.DIRECTORY, FileType.DIRECTORY)
                .name(ROOT, "b", 201, FileType.DIRECTORY, FileType.DIRECTORY).dir(200, "/a", 201).dir(201, "/b", ROOT);
        List<Finding> found = check(t);
        assertOneFinding(found, ".. names /b (inode 201), but the directory is in / (inode 128)");
        assertEquals("directory /a (inode 200)", found.get(0).location());
    }

    @Test
    void theRootNamedByAnEntryIsFound() throws Exception {
        assertOneFinding(check(clean().name(200, "up", ROOT, FileType.DIRECTORY, FileType.DIRECTORY)),
                "the root directory is named by 1 directory: /a (inode 200)");
    }
}
