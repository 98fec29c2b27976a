package org.xfstage.device.internal;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.xfstage.api.device.FileType;
import org.xfstage.api.device.ManifestEntry;

/**
 * The test corpus: real XFS images made by {@code mkfs.xfs -p protofile} (no mounting) from a deterministic tree
 * with files of many sizes, directories in all four forms, symlinks, a device node and a fifo, on several
 * geometries. Images are cached under target/corpus and rebuilt when missing.
 */
final class Corpus {
    /** Geometry name and the mkfs.xfs options that make it. */
    static final Map<String, List<String>> GEOMETRIES = new TreeMap<>(Map.of(
            "default", List.of(),
            "rmapbt", List.of("-m", "rmapbt=1"),
            "noreflink-nofinobt", List.of("-m", "reflink=0,finobt=0"),
            "b1024", List.of("-b", "size=1024"),
            "agcount16", List.of("-d", "agcount=16"),
            "n8192", List.of("-n", "size=8192"),
            "i1024", List.of("-i", "size=1024")));

    static final Path DIR = Path.of("target", "corpus");

    /** One node of the source tree. */
    record Node(String path, FileType type, int mode, byte[] content, String target, int major, int minor) {
        /** Files named like this get their middle quarter of blocks punched out after mkfs (two extents, a hole). */
        static final String HOLEY = "/holey";
        /** Files named like this get di_size raised to {@link #SPARSE_SIZE} after mkfs (a sparse tail). */
        static final String SPARSE = "/sparse-4g";
        static final long SPARSE_SIZE = 4L << 30;
        /** Symlinks named like this are remote: mkfs 6.1 writes them without the v5 header, which the fixture adds. */
        static final String REMOTE_LINK = "/link-long";
        /** Files named like this are rewritten as {@link #FRAGMENTS} one-block extents with a hole after each, in bmbt format. */
        static final String FRAGMENTED = "/fragmented";
        /** More extents than any corpus inode holds inline (53 for 1 KiB inodes), fewer than a 1 KiB bmbt leaf (59). */
        static final int FRAGMENTS = 56;
        /**
         * On reflink geometries {@code /shared-b} and {@code /shared-c} are made to share the blocks of
         * {@code /shared-a} (all of them, and the first half), so refcounts 3 and 2 meet in one extent: real sharing,
         * made consistent (refcountbt, reflink flags) by xfs_repair.
         */
        static final String SHARED = "/shared-";
    }

    private Corpus() {
    }

    /** xfsprogs must be there under CI=true; elsewhere a test without it is skipped, loudly. */
    static void requireXfsprogs() {
        boolean present = onPath("mkfs.xfs") && onPath("xfs_db") && onPath("xfs_repair");
        if (!present) {
            String msg = "xfsprogs (mkfs.xfs, xfs_db, xfs_repair) not found: install it (apt-get install xfsprogs)";
            if ("true".equals(System.getenv("CI"))) {
                fail(msg + " -- CI=true, so this is a failure, not a skip");
            }
            System.err.println("SKIPPED: " + msg);
            Assumptions.abort(msg);
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
    }

    static String tool(String name) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        return name;
    }

    /** The full tree: every shape the manifest must handle. */
    static List<Node> fullTree() {
        List<Node> t = new ArrayList<>();
        Random rnd = new Random(20261125);
        t.add(dir("/", 0755));
        t.add(file("/empty", 0644, new byte[0]));
        int[] sizes = {1, 100, 4095, 4096, 4097, 65_553, 1_048_579};
        for (int s : sizes) {
            t.add(file("/size-" + s, 0644, bytes(rnd, s)));
        }
        t.add(file("/secret", 0600, bytes(rnd, 333)));
        t.add(file("/tool", 0755, bytes(rnd, 2000)));
        t.add(link("/link-short", "size-100"));
        t.add(link("/link-dir", "deep/a/b"));
        t.add(link(Node.REMOTE_LINK, "deep/" + "very-long-component-of-a-symlink-target/".repeat(22) + "end"));
        t.add(file(Node.HOLEY, 0644, bytes(rnd, 1 << 20)));
        t.add(file(Node.SPARSE, 0644, bytes(rnd, 5000)));
        t.add(file(Node.FRAGMENTED, 0644, bytes(rnd, 1 << 20)));
        t.add(new Node("/null-dev", FileType.CHAR_DEVICE, 0666, null, null, 1, 3));
        t.add(new Node("/pipe", FileType.FIFO, 0644, null, null, 0, 0));
        dirWith(t, "/sf", 3, rnd);
        dirWith(t, "/block", 30, rnd);
        dirWith(t, "/leaf", 300, rnd);
        dirWith(t, "/node", 3000, rnd);
        t.add(dir("/deep", 0755));
        t.add(dir("/deep/a", 0755));
        t.add(dir("/deep/a/b", 0700));
        t.add(file("/deep/a/b/leaf-file", 0640, bytes(rnd, 12_345)));
        // 1 KiB pattern repeated: any block-aligned prefix of /shared-a is the same bytes whatever the block size
        byte[] unit = bytes(rnd, 1024);
        byte[] shared = new byte[32 << 10];
        for (int i = 0; i < shared.length; i += unit.length) {
            System.arraycopy(unit, 0, shared, i, unit.length);
        }
        t.add(file(Node.SHARED + "a", 0644, shared));
        t.add(file(Node.SHARED + "b", 0644, shared.clone()));
        t.add(file(Node.SHARED + "c", 0644, java.util.Arrays.copyOf(shared, 16 << 10)));
        return t;
    }

    /** Many empty files: enough inode chunks that the inode btrees of each AG have two levels. */
    static List<Node> manyInodes(int dirs, int perDir) {
        List<Node> t = new ArrayList<>();
        t.add(dir("/", 0755));
        for (int d = 0; d < dirs; d++) {
            t.add(dir("/d" + d, 0755));
            for (int f = 0; f < perDir; f++) {
                t.add(file("/d" + d + "/f" + f, 0644, new byte[0]));
            }
        }
        return t;
    }

    /** A small tree for the fuzz test: few inodes, every structure kind once. */
    static List<Node> smallTree() {
        List<Node> t = new ArrayList<>();
        Random rnd = new Random(7);
        t.add(dir("/", 0755));
        t.add(file("/a", 0644, bytes(rnd, 5000)));
        t.add(link("/l", "a"));
        dirWith(t, "/sf", 2, rnd);
        dirWith(t, "/block", 20, rnd);
        dirWith(t, "/leaf", 200, rnd);
        return t;
    }

    /**
     * For case-insensitive filesystems: directories of the short, block and leaf forms whose names mix cases, ASCII
     * and (in UTF-8) bytes in the Latin-1 capitals' range, which hash differently depending on who folded them.
     */
    static List<Node> mixedCaseTree() {
        List<Node> t = new ArrayList<>();
        t.add(dir("/", 0755));
        for (int[] d : new int[][] {{3}, {30}, {300}}) {
            String path = "/Dir-" + d[0];
            t.add(dir(path, 0755));
            for (int i = 0; i < d[0]; i++) {
                t.add(file(path + "/Entry-" + i + "-\u00c4\u00d6-MiXeD", 0644, new byte[0]));
            }
        }
        return t;
    }

    private static void dirWith(List<Node> t, String path, int entries, Random rnd) {
        t.add(dir(path, 0755));
        for (int i = 0; i < entries; i++) {
            String name = String.format("entry-%05d-with-a-longer-name", i);
            t.add(file(path + "/" + name, 0644, i % 10 == 0 ? bytes(rnd, 1 + rnd.nextInt(9000)) : new byte[0]));
        }
    }

    private static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static Node dir(String path, int mode) {
        return new Node(path, FileType.DIRECTORY, mode, null, null, 0, 0);
    }

    private static Node file(String path, int mode, byte[] content) {
        return new Node(path, FileType.FILE, mode, content, null, 0, 0);
    }

    private static Node link(String path, String target) {
        return new Node(path, FileType.SYMLINK, 0777, null, target, 0, 0);
    }

    /** The manifest the image must show: path to entry (inode numbers and link counts are not compared). */
    /** The expected manifest of the full tree on a geometry (the hole of /holey depends on the block size). */
    static Map<String, ManifestEntry> expected(List<Node> tree, int blockSize) throws Exception {
        Map<String, ManifestEntry> out = expected(tree);
        for (Node n : tree) {
            if (n.path().equals(Node.HOLEY)) {
                byte[] c = n.content().clone();
                long[] hole = holeOf(c.length, blockSize);
                java.util.Arrays.fill(c, (int) (hole[0] * blockSize), (int) (hole[1] * blockSize), (byte) 0);
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c));
                out.put(n.path(), new ManifestEntry(n.path(), n.type(), n.mode(), c.length, null, sha, 0, 0));
            } else if (n.path().equals(Node.FRAGMENTED)) {
                byte[] c = n.content().clone();
                for (int i = 0; i < Node.FRAGMENTS - 1; i++) { // file block 2i+1 is a hole
                    java.util.Arrays.fill(c, (2 * i + 1) * blockSize, (2 * i + 2) * blockSize, (byte) 0);
                }
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c));
                out.put(n.path(), new ManifestEntry(n.path(), n.type(), n.mode(), c.length, null, sha, 0, 0));
            } else if (n.path().equals(Node.SPARSE)) {
                // over 1 GiB of holes: the digest takes the mapped blocks (the last one zero-padded by mkfs) and
                // describes the hole after them by its length, after a 0xFF marker
                long mapped = (n.content().length + blockSize - 1) / blockSize * blockSize;
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(java.util.Arrays.copyOf(n.content(), (int) mapped));
                md.update(java.nio.ByteBuffer.allocate(9).put((byte) 0xFF).putLong(Node.SPARSE_SIZE - mapped).array());
                out.put(n.path(), new ManifestEntry(n.path(), n.type(), n.mode(), Node.SPARSE_SIZE, null,
                        "sparse:" + HexFormat.of().formatHex(md.digest()), 0, 0));
            }
        }
        return out;
    }

    /** Blocks [from, to) punched out of a file of {@code bytes}: its second quarter. */
    static long[] holeOf(long bytes, int blockSize) {
        long blocks = (bytes + blockSize - 1) / blockSize;
        return new long[] {blocks / 4, blocks / 2};
    }

    static Map<String, ManifestEntry> expected(List<Node> tree) throws Exception {
        Map<String, ManifestEntry> out = new TreeMap<>();
        for (Node n : tree) {
            long size = switch (n.type()) {
                case FILE -> n.content().length;
                case SYMLINK -> n.target().getBytes(StandardCharsets.UTF_8).length;
                default -> -1;
            };
            String sha = n.type() == FileType.FILE ? HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(n.content())) : null;
            out.put(n.path(), new ManifestEntry(n.path(), n.type(), n.mode(), size, n.target(), sha, 0, 0));
        }
        return out;
    }

    /** The image of {@code tree} made with the options of {@code geometry}, built once and cached. */
    static Path image(String name, List<Node> tree, List<String> mkfsOptions) throws Exception {
        requireXfsprogs();
        Files.createDirectories(DIR);
        Path img = DIR.resolve(name + ".img");
        if (Files.exists(img)) {
            return img;
        }
        Path src = Files.createTempDirectory(DIR, name + "-src");
        StringBuilder proto = new StringBuilder("/dev/null\n0 0\nd--755 0 0\n");
        writeChildren(tree, "/", src, proto, 1);
        proto.append("$\n");
        Path protofile = src.resolve("protofile");
        Files.writeString(protofile, proto.toString());
        Path tmp = DIR.resolve(name + ".img.tmp");
        Files.deleteIfExists(tmp);
        try (var f = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0);
            // sparse; 16 AGs need 2 GiB so that each AG (32 MiB at 512 MiB) can hold the 64 MiB minimum log
            long bytes = mkfsOptions.contains("agcount=16") ? 2L << 30 : 512L << 20;
            f.position(bytes - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        List<String> cmd = new ArrayList<>(List.of(tool("mkfs.xfs"), "-q", "-f", "-p", protofile.toString()));
        cmd.addAll(mkfsOptions);
        cmd.add(tmp.toString());
        run(cmd);
        doctor(tmp, tree);
        Files.move(tmp, img);
        deleteTree(src);
        return img;
    }

    /**
     * What mkfs.xfs -p cannot make, written into the image directly (with CRCs recomputed), then made consistent by
     * a full xfs_repair: a file with a hole (two extents), a 4 GiB sparse file, and the v5 header of remote symlinks.
     */
    private static void doctor(Path img, List<Node> tree) throws Exception {
        boolean any = false;
        Map<String, Long> inodes = new TreeMap<>();
        Geometry g;
        try (XfsImage fs = XfsImage.open(img, org.xfstage.api.device.OpenOptions.readOnly())) {
            g = fs.geometry;
            for (Node n : tree) { // by directory lookups: a manifest would stop at the headerless remote symlink
                if (n.path().equals(Node.HOLEY) || n.path().equals(Node.SPARSE) || n.path().equals(Node.REMOTE_LINK)
                        || n.path().equals(Node.FRAGMENTED) || (n.path().startsWith(Node.SHARED) && g.featureNames().contains("reflink"))) {
                    inodes.put(n.path(), lookup(fs, n.path()));
                }
            }
            try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.READ,
                    java.nio.file.StandardOpenOption.WRITE)) {
                for (Node n : tree) {
                    Long ino = inodes.get(n.path());
                    if (ino == null) {
                        continue;
                    }
                    if (n.path().equals(Node.HOLEY) || n.path().equals(Node.SPARSE)) {
                        Inode inode = Inode.read(fs.image, g, ino);
                        byte[] raw = inode.core.raw().clone();
                        if (n.path().equals(Node.HOLEY)) {
                            Inode.Extent e = inode.extents(fs.image, g).get(0);
                            long[] hole = holeOf(n.content().length, g.blockSize);
                            putExtent(raw, 0, 0, e.startBlock(), hole[0]);
                            putExtent(raw, 1, hole[1], e.startBlock() + hole[1], e.count() - hole[1]);
                            Layouts.DINODE.get("nextents").put(raw, 0, 2);
                            Layouts.DINODE.get("nblocks").put(raw, 0, inode.core.get("nblocks") - (hole[1] - hole[0]));
                        } else {
                            Layouts.DINODE.get("size").put(raw, 0, Node.SPARSE_SIZE);
                        }
                        Checksums.update(raw, 0, g.inodeSize, Layouts.DINODE.crcOffset);
                        ch.write(java.nio.ByteBuffer.wrap(raw), g.inodeOffset(ino));
                        any = true;
                    } else if (n.path().startsWith(Node.SHARED) && !n.path().equals(Node.SHARED + "a")) {
                        long shareFrom = Inode.read(fs.image, g, inodes.get(Node.SHARED + "a")).extents(fs.image, g).get(0).startBlock();
                        Inode inode = Inode.read(fs.image, g, ino);
                        byte[] raw = inode.core.raw().clone();
                        putExtent(raw, 0, 0, shareFrom, inode.extents(fs.image, g).get(0).count());
                        Checksums.update(raw, 0, g.inodeSize, Layouts.DINODE.crcOffset);
                        ch.write(java.nio.ByteBuffer.wrap(raw), g.inodeOffset(ino));
                        any = true;
                    } else if (n.path().equals(Node.FRAGMENTED)) {
                        fragment(ch, fs, g, ino);
                        any = true;
                    } else if (n.path().equals(Node.REMOTE_LINK)) {
                        Inode inode = Inode.read(fs.image, g, ino);
                        Inode.Extent e = inode.extents(fs.image, g).get(0);
                        long offset = g.fsbOffset(e.startBlock());
                        byte[] block = fs.image.read(offset, g.blockSize);
                        byte[] target = n.target().getBytes(StandardCharsets.UTF_8);
                        byte[] fixed = new byte[g.blockSize];
                        System.arraycopy(block, 0, fixed, 56, target.length); // mkfs wrote the bare target
                        Layouts.SYMLINK.get("magic").put(fixed, 0, Contents.SYMLINK_MAGIC);
                        Layouts.SYMLINK.get("offset").put(fixed, 0, 0);
                        Layouts.SYMLINK.get("bytes").put(fixed, 0, target.length);
                        Layouts.SYMLINK.get("uuid0").put(fixed, 0, g.metaUuid0);
                        Layouts.SYMLINK.get("uuid1").put(fixed, 0, g.metaUuid1);
                        Layouts.SYMLINK.get("owner").put(fixed, 0, ino);
                        Layouts.SYMLINK.get("blkno").put(fixed, 0, offset >> 9);
                        Checksums.update(fixed, 0, g.blockSize, Layouts.SYMLINK.crcOffset);
                        ch.write(java.nio.ByteBuffer.wrap(fixed), offset);
                        any = true;
                    }
                }
            }
        }
        if (any) {
            status(List.of(tool("xfs_repair"), img.toString())); // frees the blocks that became a hole
            var check = status(List.of(tool("xfs_repair"), "-n", img.toString()));
            if (check.getKey() != 0) {
                fail("the doctored corpus image is not clean for xfs_repair -n:\n" + check.getValue());
            }
        }
    }

    /**
     * Rewrites a one-extent file as FRAGMENTS extents: file blocks 0, 2, 4, ... 2(F-2) of one block each, then the
     * tail from block 2(F-1); the odd blocks become holes. The records go into a bmbt leaf placed in the first hole's
     * block (already allocated to the file, so no free-space change is needed for it); the inode's fork becomes a
     * bmbt root with one pointer. xfs_repair afterwards frees the other hole blocks.
     */
    private static void fragment(java.nio.channels.FileChannel ch, XfsImage fs, Geometry g, long ino) throws Exception {
        Inode inode = Inode.read(fs.image, g, ino);
        Inode.Extent e = inode.extents(fs.image, g).get(0);
        int f = Node.FRAGMENTS;
        byte[] leaf = new byte[g.blockSize];
        long leafFsb = e.startBlock() + 1;
        long dataBlocks = 0;
        for (int i = 0; i < f; i++) {
            long off = 2L * i;
            long count = i < f - 1 ? 1 : e.count() - off;
            putRecord(leaf, 72 + i * 16, off, e.startBlock() + off, count);
            dataBlocks += count;
        }
        long leafOffset = g.fsbOffset(leafFsb);
        Layouts.LBLOCK.get("magic").put(leaf, 0, Inode.BMBT_MAGIC);
        Layouts.LBLOCK.get("level").put(leaf, 0, 0);
        Layouts.LBLOCK.get("numrecs").put(leaf, 0, f);
        Layouts.LBLOCK.get("leftsib").put(leaf, 0, -1L);
        Layouts.LBLOCK.get("rightsib").put(leaf, 0, -1L);
        Layouts.LBLOCK.get("blkno").put(leaf, 0, leafOffset >> 9);
        Layouts.LBLOCK.get("uuid0").put(leaf, 0, g.metaUuid0);
        Layouts.LBLOCK.get("uuid1").put(leaf, 0, g.metaUuid1);
        Layouts.LBLOCK.get("owner").put(leaf, 0, ino);
        Checksums.update(leaf, 0, g.blockSize, Layouts.LBLOCK.crcOffset);
        ch.write(java.nio.ByteBuffer.wrap(leaf), leafOffset);

        byte[] raw = inode.core.raw().clone();
        int fork = Inode.CORE_SIZE;
        int forkSize = g.inodeSize - Inode.CORE_SIZE;
        java.util.Arrays.fill(raw, fork, g.inodeSize, (byte) 0);
        int maxrecs = (forkSize - 4) / 16;
        raw[fork + 1] = 1; // bb_level = 1
        raw[fork + 3] = 1; // bb_numrecs = 1
        // key[0] = startoff 0 (already zero); ptr[0] = the leaf
        java.nio.ByteBuffer.wrap(raw, fork + 4 + maxrecs * 8, 8).putLong(leafFsb);
        Layouts.DINODE.get("format").put(raw, 0, Inode.FMT_BTREE);
        Layouts.DINODE.get("nextents").put(raw, 0, f);
        Layouts.DINODE.get("nblocks").put(raw, 0, dataBlocks + 1);
        Checksums.update(raw, 0, g.inodeSize, Layouts.DINODE.crcOffset);
        ch.write(java.nio.ByteBuffer.wrap(raw), g.inodeOffset(ino));
    }

    private static void putRecord(byte[] b, int at, long startOff, long startBlock, long count) {
        long l0 = (startOff << 9) | (startBlock >>> 43);
        long l1 = (startBlock << 21) | count;
        java.nio.ByteBuffer.wrap(b, at, 16).putLong(l0).putLong(l1);
    }

    /** The inode number of an absolute path, by directory lookups from the root. */
    static long lookup(XfsImage fs, String path) throws Exception {
        long ino = fs.geometry.rootIno;
        for (String part : path.substring(1).split("/")) {
            long next = -1;
            for (Contents.DirEntry e : fs.contents.directory(Inode.read(fs.image, fs.geometry, ino))) {
                if (e.name().equals(part)) {
                    next = e.ino();
                }
            }
            if (next < 0) {
                fail("no " + part + " in " + path);
            }
            ino = next;
        }
        return ino;
    }

    private static void putExtent(byte[] inode, int index, long startOff, long startBlock, long count) {
        putRecord(inode, Inode.CORE_SIZE + index * 16, startOff, startBlock, count);
    }

    private static void writeChildren(List<Node> tree, String parent, Path src, StringBuilder proto, int depth) throws IOException {
        String prefix = parent.equals("/") ? "/" : parent + "/";
        for (Node n : tree) {
            if (!n.path().startsWith(prefix) || n.path().equals(parent) || n.path().substring(prefix.length()).contains("/")) {
                continue;
            }
            String name = n.path().substring(prefix.length());
            String indent = " ".repeat(depth);
            String perm = String.format("%03o", n.mode() & 0777);
            switch (n.type()) {
                case DIRECTORY -> {
                    proto.append(indent).append(name).append(" d--").append(perm).append(" 0 0\n");
                    writeChildren(tree, n.path(), src, proto, depth + 1);
                    proto.append(indent).append("$\n");
                }
                case FILE -> {
                    Path data = src.resolve("f" + Integer.toHexString(n.path().hashCode()) + "-" + name);
                    Files.write(data, n.content());
                    proto.append(indent).append(name).append(" ---").append(perm).append(" 0 0 ").append(data.toAbsolutePath()).append('\n');
                }
                case SYMLINK -> proto.append(indent).append(name).append(" l--777 0 0 ").append(n.target()).append('\n');
                case CHAR_DEVICE -> proto.append(indent).append(name).append(" c--").append(perm).append(" 0 0 ")
                        .append(n.major()).append(' ').append(n.minor()).append('\n');
                case FIFO -> proto.append(indent).append(name).append(" p--").append(perm).append(" 0 0\n");
                default -> throw new IllegalArgumentException(n.toString());
            }
        }
    }

    /** Runs a command, failing with its output when it exits non-zero; returns its output. */
    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        if (p.exitValue() != 0) {
            fail(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + out);
        }
        return out;
    }

    /** A copy of the default geometry's image named {@code name}.img in {@code dir}, damaged by {@code commands}. */
    static Path damagedDefault(Path dir, String name, List<String> commands) throws Exception {
        Path img = dir.resolve(name + ".img");
        damagedCopy(DeviceCorpusTest.image("default"), img, commands);
        return img;
    }

    /**
     * {@code img}: a sparse copy of corpus image {@code source} with {@code commands} written by {@code xfs_db -x} (none:
     * the copy as it is); returns xfs_db's output.
     */
    static String damagedCopy(Path source, Path img, List<String> commands) throws Exception {
        SparseFiles.copy(source, img);
        if (commands.isEmpty()) {
            return "";
        }
        List<String> cmd = new ArrayList<>(List.of(tool("xfs_db"), "-x"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(img.toString());
        return run(cmd);
    }

    /** Exit status and output of a command (for xfs_repair -n, whose status is the verdict). */
    static Map.Entry<Integer, String> status(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(300, TimeUnit.SECONDS);
        return Map.entry(p.exitValue(), out);
    }

    static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
