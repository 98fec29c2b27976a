package org.xfstage.itests;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;

/**
 * mkfs.xfs and xfs_db for the itests: missing xfsprogs is a failure under CI=true and a loud skip elsewhere.
 */
final class Xfsprogs {
    private final String sbin;

    private Xfsprogs(String sbin) {
        this.sbin = sbin;
    }

    static Xfsprogs find() {
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, "mkfs.xfs"))) {
                return new Xfsprogs(dir);
            }
        }
        String msg = "mkfs.xfs not found: install xfsprogs";
        if ("true".equals(System.getenv("CI"))) {
            fail(msg + " (CI=true: a failure, not a skip)");
        }
        System.err.println("SKIPPED: " + msg);
        Assume.assumeTrue(msg, false);
        return null;
    }

    /** A 512 MiB sparse image populated by {@code mkfs.xfs -p} from a protofile. */
    Path mkfs(Path dir, String protofile) throws Exception {
        Files.writeString(dir.resolve("proto"), protofile);
        Path img = dir.resolve("fs.img");
        try (FileChannel f = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            f.position((512L << 20) - 1).write(ByteBuffer.wrap(new byte[1]));
        }
        run(sbin + "/mkfs.xfs", "-q", "-f", "-p", dir.resolve("proto").toString(), img.toString());
        return img;
    }

    /** An image whose root holds one file, /data, with this content. */
    Path oneFileImage(Path dir, String content) throws Exception {
        Files.writeString(dir.resolve("data"), content);
        return mkfs(dir, "/dev/null\n0 0\nd--755 0 0\n data ---644 0 0 " + dir.resolve("data") + "\n$\n");
    }

    /** Applies xfs_db -x commands to an image (damage recipes); returns what xfs_db printed. */
    String db(Path img, String... commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(sbin + "/xfs_db", "-x"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(img.toString());
        return run(cmd.toArray(String[]::new));
    }

    /** The exit status of xfs_repair -n on the image: 0 when it finds it consistent. */
    int repairCheck(Path img) throws Exception {
        Process p = new ProcessBuilder(sbin + "/xfs_repair", "-n", img.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return p.exitValue();
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(String.join(" ", command) + ": " + out, p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0);
        return out;
    }
}
