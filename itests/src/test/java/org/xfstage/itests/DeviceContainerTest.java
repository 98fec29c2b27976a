package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.xfstage.api.device.XfsDeviceService;

/** xfs:info and xfs:manifest in a real Karaf, on an image made by mkfs.xfs -p, and their one-line failures. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DeviceContainerTest extends ContainerSupport {

    @Inject
    XfsDeviceService devices;

    private static String mkfs() {
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, "mkfs.xfs"))) {
                return dir + "/mkfs.xfs";
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

    @Test
    public void infoAndManifestReadARealImage() throws Exception {
        String mkfs = mkfs();
        Path dir = Files.createTempDirectory("xfstage-itest");
        byte[] content = "hello from an XFS image\n".repeat(500).getBytes(StandardCharsets.UTF_8);
        Path data = dir.resolve("data");
        Files.write(data, content);
        Files.writeString(dir.resolve("proto"), "/dev/null\n0 0\nd--755 0 0\n hello ---644 0 0 " + data
                + "\n sub d--750 0 0\n  link l--777 0 0 ../hello\n $\n$\n");
        Path img = dir.resolve("fs.img");
        try (var f = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.position((512L << 20) - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        Process p = new ProcessBuilder(mkfs, "-q", "-f", "-p", dir.resolve("proto").toString(), img.toString())
                .redirectErrorStream(true).start();
        String mkfsOut = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(mkfsOut, p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0);

        String info = run("xfs:info " + img);
        assertTrue(info, info.contains("agcount=4") && info.contains("bsize=4096") && info.contains("Free inodes"));
        String infoJson = run("xfs:info --json " + img);
        assertTrue(infoJson, infoJson.contains("\"blockSize\":4096") && infoJson.contains("\"features\":[\"crc\""));

        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        String manifest = run("xfs:manifest " + img);
        assertTrue(manifest, manifest.contains("- 0644        " + content.length + " " + sha + " /hello"));
        assertTrue(manifest, manifest.contains("d 0750"));
        assertTrue(manifest, manifest.contains("/sub/link -> ../hello"));
        assertEquals(manifest, 3, manifest.lines().filter(l -> !l.isBlank()).count() - 1);

        String clean = run("xfs:scrub " + img);
        assertTrue(clean, clean.contains(": clean (11 strategies"));
        String strategies = run("xfs:strategies");
        assertTrue(strategies, strategies.contains("bnobt") && strategies.contains("xfstage-strategies-inodes") && strategies.contains("active"));
        Process db = new ProcessBuilder(mkfs.replace("mkfs.xfs", "xfs_db"), "-x", "-c", "agf 1", "-c", "write -d longest 7", img.toString())
                .redirectErrorStream(true).start();
        db.getInputStream().readAllBytes();
        assertTrue(db.waitFor(60, TimeUnit.SECONDS) && db.exitValue() == 0);
        String damaged = failure("xfs:scrub " + img);
        assertTrue(damaged, damaged.endsWith("damage found (1 finding(s))"));
        String dry = run("xfs:repair " + img);
        assertTrue(dry, dry.contains("AG 1 agf_longest: 7 -> ") && dry.contains("dry run: nothing was written"));
        Path journal = dir.resolve("fs.undo");
        String applied = run("xfs:repair --apply --undo-file " + journal + " " + img);
        assertTrue(applied, applied.contains("written; undo journal " + journal) && applied.endsWith(img + ": clean\n"));
        assertTrue(run("xfs:scrub " + img).contains(": clean ("));
        String undone = run("xfs:undo " + journal + " " + img);
        assertTrue(undone, undone.contains("1 block(s) restored"));
        assertTrue(failure("xfs:scrub " + img).endsWith("damage found (1 finding(s))"));
        String wrongJournal = failure("xfs:undo " + dir.resolve("proto") + " " + img);
        assertTrue(wrongJournal, wrongJournal.contains("is not an xfstage undo journal"));
        String json = run("xfs:scrub --json --structure agi " + img);
        assertTrue(json, json.contains("\"clean\":true") && json.contains("\"strategies\":{\"agi\""));

        String missing = failure("xfs:info " + dir.resolve("nope.img"));
        assertTrue(missing, missing.endsWith("nope.img: no such file or device"));
        Path junk = dir.resolve("junk.img");
        Files.write(junk, new byte[1 << 16]);
        String notXfs = failure("xfs:manifest " + junk);
        assertTrue(notXfs, notXfs.contains("not an XFS filesystem"));
        assertTrue(notXfs, !notXfs.contains("\tat "));
    }
}
