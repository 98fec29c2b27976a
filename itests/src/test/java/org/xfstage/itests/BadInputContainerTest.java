package org.xfstage.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The bad-input matrix through the shell: every input below, given to xfs:scrub and to xfs:repair --apply, ends
 * with exit status 2, one clear last line, no stack trace, and the file unchanged (no journal either).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BadInputContainerTest extends ContainerSupport {

    @Test
    public void badInputsGetOneLineAndStatusTwoAndAreLeftAlone() throws Exception {
        Xfsprogs xfsprogs = Xfsprogs.find();
        Path dir = tempDirectory("bad");
        Path good = xfsprogs.oneFileImage(dir, "bad input\n");
        byte[] head = new byte[1 << 20];
        try (var in = Files.newInputStream(good)) {
            in.readNBytes(head, 0, head.length);
        }
        Map<String, Path> inputs = new LinkedHashMap<>();
        inputs.put("missing path", dir.resolve("missing.img"));
        inputs.put("a directory", Files.createDirectories(dir.resolve("a-directory")));
        inputs.put("an empty file", Files.createFile(dir.resolve("empty.img")));
        byte[] noise = new byte[1 << 20];
        new Random(42).nextBytes(noise);
        inputs.put("random bytes", Files.write(dir.resolve("random.img"), noise));
        inputs.put("a truncated image", Files.write(dir.resolve("truncated.img"), head));

        StringBuilder matrix = new StringBuilder();
        for (Map.Entry<String, Path> in : inputs.entrySet()) {
            Path p = in.getValue();
            String before = digest(p);
            for (String command : List.of("xfs:scrub ", "xfs:repair --apply --undo-file " + dir.resolve("j") + " ", "xfs:info ")) {
                Result r = exec(command + p);
                String last = r.out().strip().lines().reduce("", (a, b) -> b);
                matrix.append(String.format("BADINPUT %-30s %-12s exit %d: %s%n", in.getKey(), command.split(" ")[0], r.status(), last));
                assertEquals(in.getKey() + " " + command + ": " + r.out(), 2, r.status());
                assertEquals(in.getKey() + " " + command + ": one line, got " + r.out(), 1, r.out().strip().lines().count());
                assertTrue(r.out(), !r.out().contains("Exception") && !r.out().contains("\tat "));
                assertEquals(in.getKey() + ": unchanged", before, digest(p));
                assertTrue("no journal for " + in.getKey(), !Files.exists(dir.resolve("j")));
            }
        }
        System.out.print(matrix);

        // a primary claiming 2e9 AGs is no longer a bad input: its copies outvote it (as xfs_repair finds them), the
        // scrub reads the filesystem on the agreed geometry and reports the primary, allocating nothing for 2e9 AGs
        Path bomb = dir.resolve("bomb.img");
        Files.copy(good, bomb);
        xfsprogs.db(bomb, "sb 0", "write -d agcount 2000000000");
        String before = digest(bomb);
        Result r = exec("xfs:scrub " + bomb);
        assertEquals(r.out(), 1, r.status());
        assertTrue(r.out(), r.out().contains("sb-primary") && !r.out().contains("Exception"));
        assertEquals("a scrub writes nothing", before, digest(bomb));
    }

    /** A full staging area (maxTotalBytes made tiny at runtime): the scrub cannot stage, says so, writes nothing. */
    @Test
    public void fullStagingIsOneLineAndStatusTwo() throws Exception {
        Path img = damagedImage("full", "full\n");
        Path dir = img.getParent();
        byte[] damaged = Files.readAllBytes(img);
        try {
            setConfig("org.xfstage.xfile", "maxTotalBytes", "4096");
            // the component is modified asynchronously; a scrub writes nothing meanwhile
            await(Duration.ofSeconds(5), () -> exec("xfs:scrub " + img).status() == 2, "the scrub refused for want of staging");
            Result r = exec("xfs:repair --apply --undo-file " + dir.resolve("j") + " " + img);
            assertEquals(r.out(), 2, r.status());
            // refused by the memory bill before anything is staged, naming the setting (or, if a run got past it, by staging)
            assertTrue(r.out(), r.out().contains("maxTotalBytes") && r.out().strip().lines().count() == 1);
            assertArrayEquals(damaged, Files.readAllBytes(img));
            assertTrue(!Files.exists(dir.resolve("j")));
        } finally {
            setConfig("org.xfstage.xfile", "maxTotalBytes", "17179869184");
        }
        await(Duration.ofSeconds(5), () -> exec("xfs:scrub " + img).status() == 1, "staging back: the scrub runs and finds the damage");
        assertEquals("staging back: the repair runs", 0, exec("xfs:repair --apply --undo-file " + dir.resolve("j") + " " + img).status());
    }

    /**
     * A read-only image given to repair --apply: refused with one line when it opens the image for writing, after
     * the scrub found the damage; nothing written, no journal. Permission bits do not stop root, so as root the file
     * is made immutable (chattr +i); where that is not possible the case is skipped, loudly.
     */
    @Test
    public void aReadOnlyImageIsNotWritten() throws Exception {
        Path img = damagedImage("ro", "read-only\n");
        Path dir = img.getParent();
        byte[] damaged = Files.readAllBytes(img);
        Files.setPosixFilePermissions(img, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
        boolean immutable = false;
        try {
            if ("root".equals(System.getProperty("user.name"))) {
                Process chattr = new ProcessBuilder("chattr", "+i", img.toString()).redirectErrorStream(true).start();
                String out = new String(chattr.getInputStream().readAllBytes());
                immutable = chattr.waitFor() == 0;
                if (!immutable) {
                    System.err.println("SKIPPED: running as root and chattr +i is not possible here (" + out.strip()
                            + "): a read-only image cannot be made");
                    return;
                }
            }
            Result r = exec("xfs:repair --apply --undo-file " + dir.resolve("j") + " " + img);
            System.out.printf("BADINPUT %-30s %-12s exit %d: %s%n", "a read-only image", "xfs:repair", r.status(), r.out().strip());
            assertEquals(r.out(), 2, r.status());
            assertEquals(r.out(), 1, r.out().strip().lines().count());
            assertTrue(r.out(), !r.out().contains("\tat "));
            assertArrayEquals(damaged, Files.readAllBytes(img));
            assertTrue("no journal", !Files.exists(dir.resolve("j")));
        } finally {
            if (immutable) {
                new ProcessBuilder("chattr", "-i", img.toString()).start().waitFor();
            }
        }
    }

    private static String digest(Path p) throws Exception {
        if (!Files.isRegularFile(p)) {
            return Files.exists(p) ? "directory" : "missing";
        }
        return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
