package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import javax.inject.Inject;

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

    @Test
    public void infoAndManifestReadARealImage() throws Exception {
        Xfsprogs xfsprogs = Xfsprogs.find();
        Path dir = tempDirectory("itest");
        byte[] content = "hello from an XFS image\n".repeat(500).getBytes(StandardCharsets.UTF_8);
        Path data = dir.resolve("data");
        Files.write(data, content);
        Path img = xfsprogs.mkfs(dir, "/dev/null\n0 0\nd--755 0 0\n hello ---644 0 0 " + data
                + "\n sub d--750 0 0\n  link l--777 0 0 ../hello\n $\n$\n");

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
        assertTrue(clean, clean.contains(": clean (18 strategies"));
        String strategies = run("xfs:strategies");
        assertTrue(strategies, strategies.contains("bnobt") && strategies.contains("xfstage-strategies-inodes") && strategies.contains("active"));
        xfsprogs.db(img, "agf 1", "write -d longest 7");
        String damaged = failure("xfs:scrub " + img, 1);
        assertTrue(damaged, damaged.endsWith("damage found (1 finding(s))"));
        Result dryRun = exec("xfs:repair " + img);
        assertEquals("a dry run leaves the damage: status 1", 1, dryRun.status());
        String dry = dryRun.out();
        assertTrue(dry, dry.contains("AG 1 agf_longest: 7 -> ") && dry.contains("dry run: nothing was written"));
        Result dryJson = exec("xfs:repair --json " + img);
        assertEquals(1, dryJson.status());
        assertTrue(dryJson.out(), dryJson.out().startsWith("{\"image\":") && dryJson.out().contains("\"plans\":[{\"structure\":\"agf\",\"blocks\":1")
                && dryJson.out().contains("\"applied\":false") && dryJson.out().lines().count() == 1);
        Path journal = dir.resolve("fs.undo");
        String applied = run("xfs:repair --apply --undo-file " + journal + " " + img);
        assertTrue(applied, applied.contains("written; undo journal " + journal) && applied.endsWith(img + ": clean\n"));
        assertTrue(run("xfs:scrub " + img).contains(": clean ("));
        String undone = run("xfs:undo " + journal + " " + img);
        assertTrue(undone, undone.contains("1 block(s) restored"));
        assertTrue(failure("xfs:scrub " + img, 1).endsWith("damage found (1 finding(s))"));
        String wrongJournal = failure("xfs:undo " + dir.resolve("proto") + " " + img, 2);
        assertTrue(wrongJournal, wrongJournal.contains("is not an xfstage undo journal"));
        String json = run("xfs:scrub --json --structure agi " + img);
        assertTrue(json, json.contains("\"clean\":true") && json.contains("\"strategies\":{\"agi\""));

        String missing = failure("xfs:info " + dir.resolve("nope.img"), 2);
        assertTrue(missing, missing.endsWith("nope.img: no such file or device"));
        Path junk = dir.resolve("junk.img");
        Files.write(junk, new byte[1 << 16]);
        String notXfs = failure("xfs:manifest " + junk, 2);
        assertTrue(notXfs, notXfs.contains("not an XFS filesystem"));
        assertTrue(notXfs, !notXfs.contains("\tat "));
    }
}
