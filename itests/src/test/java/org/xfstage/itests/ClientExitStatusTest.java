package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The exit statuses an operator's script sees: the xfstage distribution (features/distribution) unpacked, started
 * with bin/start on free ports, and driven through bin/client as README documents: 0 done/clean, 1 damage found,
 * 2 could not run, the reason in one line.
 */
public class ClientExitStatusTest {
    private static Path home;
    private static int sshPort;
    private static Xfsprogs xfsprogs;
    private static Path work;

    record Outcome(int status, String output) {
    }

    @BeforeClass
    public static void startDistribution() throws Exception {
        xfsprogs = Xfsprogs.find();
        Path archive = Path.of(System.getProperty("distribution.archive", "target/distribution/xfstage-distribution.tar.gz"));
        assertTrue("the distribution archive is missing: " + archive, Files.isRegularFile(archive));
        work = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "client-it");
        exec(work, 60, "tar", "-xzf", archive.toAbsolutePath().toString(), "-C", work.toString());
        try (var dirs = Files.list(work)) {
            home = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        sshPort = freePort();
        Files.writeString(home.resolve("etc/org.apache.karaf.shell.cfg"), "\nsshPort = " + sshPort + "\n",
                StandardOpenOption.APPEND);
        Files.writeString(home.resolve("etc/org.apache.karaf.management.cfg"),
                "\nrmiRegistryPort = " + freePort() + "\nrmiServerPort = " + freePort() + "\n",
                StandardOpenOption.APPEND);
        exec(home, 60, "bin/start");
    }

    @AfterClass
    public static void stopDistribution() throws Exception {
        try {
            if (home != null) {
                stopKaraf();
            }
        } finally {
            if (work != null) {
                ContainerSupport.deleteRecursively(work);
            }
        }
    }

    /** bin/stop, then waits up to 30 s for the Karaf process to end, and kills it when it does not. */
    private static void stopKaraf() throws Exception {
        Optional<ProcessHandle> karaf = Optional.empty();
        try {
            karaf = ProcessHandle.of(Long.parseLong(Files.readString(home.resolve("karaf.pid")).strip()));
        } catch (NoSuchFileException gone) {
            // no pid file: Karaf is not running
        }
        exec(home, 60, "bin/stop");
        if (karaf.isPresent()) {
            try {
                karaf.get().onExit().get(30, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                karaf.get().destroyForcibly();
                karaf.get().onExit().get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    public void exitStatusesThroughBinClient() throws Exception {
        Path dir = Files.createTempDirectory(work, "img");
        Path img = xfsprogs.oneFileImage(dir, "some content\n".repeat(100));

        Outcome clean = client("xfs:scrub " + img);
        assertEquals(clean.output(), 0, clean.status());
        assertTrue(clean.output(), clean.output().contains(img + ": clean ("));

        xfsprogs.db(img, "agi 2", "write -d freecount 9");
        Outcome damaged = client("xfs:scrub " + img);
        assertEquals(damaged.output(), 1, damaged.status());
        assertTrue(damaged.output(), damaged.output().strip().endsWith(img + ": damage found (1 finding(s))"));

        Outcome dryRun = client("xfs:repair " + img);
        assertEquals(dryRun.output(), 1, dryRun.status());
        Outcome applied = client("xfs:repair --apply --undo-file " + dir.resolve("undo") + " " + img);
        assertEquals(applied.output(), 0, applied.status());
        assertEquals(0, client("xfs:scrub " + img).status());

        for (String bad : List.of("xfs:scrub " + dir.resolve("missing.img"), "xfs:info " + dir,
                "xfs:manifest " + dir.resolve("data"), "xfs:undo " + dir.resolve("data") + " " + img)) {
            Outcome o = client(bad);
            assertEquals(bad + ": " + o.output(), 2, o.status());
            assertEquals(bad + ": one line, got [" + o.output() + "]", 1, o.output().strip().lines().count());
            assertTrue(o.output(), !o.output().contains("Exception") && !o.output().contains("\tat "));
        }
    }

    private static Outcome client(String command) throws Exception {
        Process p = karafProcess(home, home.resolve("bin/client").toString(), "-r", "60", "-d", "1", "-a",
                String.valueOf(sshPort), "-b").start();
        p.getOutputStream().write((command + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(command + " did not end within 120 s", p.waitFor(120, TimeUnit.SECONDS));
        // bin/client's own noise while Karaf is still booting is not the command's output
        String output = out.lines().filter(l -> !l.startsWith("retrying") && !l.contains("JAVA_HOME not set"))
                .reduce("", (a, b) -> a + b + "\n");
        return new Outcome(p.exitValue(), output);
    }

    /** A process of the distribution's scripts, on the JDK this test runs on. */
    private static ProcessBuilder karafProcess(Path dir, String... command) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return pb;
    }

    private static String exec(Path dir, int seconds, String... command) throws IOException, InterruptedException {
        Process p = karafProcess(dir, command).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(String.join(" ", command) + ": " + out, p.waitFor(seconds, TimeUnit.SECONDS) && p.exitValue() == 0);
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
