package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The command ACL the xfstage feature installs (config/org.apache.karaf.command.acl.xfs.cfg): a viewer reads (info,
 * manifest, scrub, strategies, staging, a repair's dry run); only an admin writes (repair --apply, undo, and
 * --output FILE on any command).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SecurityContainerTest extends ContainerSupport {

    @Test
    public void viewersReadAndOnlyAdminsWrite() throws Exception {
        Path img = damagedImage("acl", "acl\n".repeat(1000));
        Path dir = img.getParent();
        byte[] damaged = Files.readAllBytes(img);

        assertEquals(0, execAs("xfs:info " + img, "viewer").status());
        assertEquals(0, execAs("xfs:manifest " + img, "viewer").status());
        assertEquals(0, execAs("xfs:strategies", "viewer").status());
        assertEquals(0, execAs("xfs:staging", "viewer").status());
        assertEquals("a viewer scrubs: damage found", 1, execAs("xfs:scrub " + img, "viewer").status());
        assertEquals("a viewer may see the plan", 1, execAs("xfs:repair " + img, "viewer").status());

        Path journal = dir.resolve("undo");
        denied("xfs:repair --apply --undo-file " + journal + " " + img, "viewer");
        denied("xfs:undo " + journal + " " + img, "viewer");
        // --output writes a file on the host: a viewer may not, whichever command it rides on
        Path report = dir.resolve("report.txt");
        for (String cmd : new String[] {"info", "manifest", "scrub", "repair"}) {
            denied("xfs:" + cmd + " --output " + report + " " + img, "viewer");
        }
        assertTrue("nothing written for a viewer", java.util.Arrays.equals(damaged, Files.readAllBytes(img)));
        assertTrue(!Files.exists(journal));
        assertTrue(!Files.exists(report));
        assertEquals(1, execAs("xfs:scrub --output " + report + " " + img, ADMIN).status());
        assertTrue("an admin writes the report", Files.exists(report));

        Result applied = execAs("xfs:repair --apply --undo-file " + journal + " " + img, ADMIN);
        assertEquals(applied.out(), 0, applied.status());
        Result undone = execAs("xfs:undo " + journal + " " + img, ADMIN);
        assertEquals(undone.out(), 0, undone.status());
        assertTrue("undo restores the damaged image", java.util.Arrays.equals(damaged, Files.readAllBytes(img)));
    }

    /** allowedPaths (config/org.xfstage.device.cfg) changed at runtime: outside paths and symlinks out are refused. */
    @Test
    public void onlyAllowedPathsAreOpened() throws Exception {
        Xfsprogs xfsprogs = Xfsprogs.find();
        Path dir = tempDirectory("allow");
        Path img = xfsprogs.oneFileImage(dir, "allowed\n");
        Path allowed = Files.createDirectories(dir.resolve("allowed"));
        Path inside = Files.copy(img, allowed.resolve("inside.img"));
        Path link = Files.createSymbolicLink(allowed.resolve("link.img"), img);
        try {
            setConfig("org.xfstage.device", "allowedPaths", allowed.toString());
            // the component is modified asynchronously
            String refused = await(Duration.ofSeconds(5), () -> exec("xfs:info " + img), r -> r.status() == 2,
                    "xfs:info refusing a path outside allowedPaths").out().strip();
            assertTrue("an image outside the allowed paths is refused: " + refused, refused != null && refused.contains("not under an allowed path"));
            assertEquals(2, exec("xfs:scrub " + link).status());
            assertTrue(failure("xfs:manifest " + link, 2).contains("not under an allowed path"));
            assertEquals(0, exec("xfs:scrub " + inside).status());
        } finally {
            setConfig("org.xfstage.device", "allowedPaths", "\"\"");
        }
    }

    private void denied(String command, String... roles) throws Exception {
        try {
            Result r = execAs(command, roles);
            fail(command + " ran for " + String.join(",", roles) + ": status " + r.status() + " " + r.out());
        } catch (Exception expected) {
            // Karaf hides a command a role may never run ("Command not found") and refuses one it may run with
            // other arguments ("Insufficient credentials.")
            assertTrue(expected.toString(), expected.getMessage().contains("Insufficient credentials")
                    || expected.getMessage().contains("Command not found: " + command.split(" ")[0]));
        }
    }
}
