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
        Files.move(tmp, img);
        deleteTree(src);
        return img;
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
