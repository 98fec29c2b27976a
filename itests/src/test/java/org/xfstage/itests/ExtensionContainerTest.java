package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * A third-party repair bundle (examples/strategy-example, built against the api only) installed into and removed
 * from a running Karaf, with no restart: its new structure is checked, its higher-ranked nlinks policy shadows the
 * built-in, and after uninstalling, the built-in is back and repairs.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ExtensionContainerTest extends ContainerSupport {
    private static final String EXAMPLE = "mvn:com.example.xfstage/xfstage-strategy-example/"
            + System.getProperty("example.version", "1.0.0-SNAPSHOT") + "/xml/features";

    @Test
    public void exampleBundleInstallsShadowsAndUninstallsAtRuntime() throws Exception {
        Xfsprogs xfsprogs = Xfsprogs.find();
        Path dir = Files.createTempDirectory("xfstage-ext");
        Files.writeString(dir.resolve("data"), "extension\n");
        // a name with a control character (U+0001): legal in XFS, refused by the example's site policy
        Path img = xfsprogs.mkfs(dir, "/dev/null\n0 0\nd--755 0 0\n data ---644 0 0 " + dir.resolve("data")
                + "\n bad\u0001name ---644 0 0 " + dir.resolve("data") + "\n$\n");
        xfsprogs.db(img, "path /data", "write -d core.nlinkv2 5");
        assertTrue(!run("xfs:strategies").contains("names"));
        assertEquals("built-ins alone see the link count only", 1, exec("xfs:scrub " + img).status());

        run("feature:repo-add " + EXAMPLE);
        run("feature:install xfstage-strategy-example");
        String installed = awaitStrategies(s -> s.contains("names") && s.contains("com.example.xfstage.strategies"));
        assertTrue(installed, installed.matches("(?s).*nlinks\\s+\\|\\s+com\\.example\\.xfstage\\.strategies\\s+\\|\\s+100\\s+\\|\\s+active.*"));
        assertTrue(installed, installed.matches("(?s).*nlinks\\s+\\|\\s+xfstage-strategies-inodes\\s+\\|\\s+0\\s+\\|\\s+shadowed.*"));

        Result scrub = exec("xfs:scrub " + img);
        assertEquals(scrub.out(), 1, scrub.status());
        assertTrue(scrub.out(), scrub.out().contains("names") && scrub.out().contains("bad\\x01name") && scrub.out().contains("nlinks"));
        byte[] damaged = Files.readAllBytes(img);
        Result policy = exec("xfs:repair --apply --undo-file " + dir.resolve("undo") + " " + img);
        assertEquals(policy.out(), 1, policy.status());
        assertTrue(policy.out(), policy.out().contains("no strategy repairs") && policy.out().contains("nlinks")
                && policy.out().contains("names") && policy.out().contains("nothing was written"));
        assertTrue("the policy wrote nothing", java.util.Arrays.equals(damaged, Files.readAllBytes(img)));

        run("feature:uninstall xfstage-strategy-example");
        run("feature:repo-remove " + EXAMPLE);
        String removed = awaitStrategies(s -> !s.contains("names") && !s.contains("shadowed"));
        assertTrue(removed, removed.matches("(?s).*nlinks\\s+\\|\\s+xfstage-strategies-inodes\\s+\\|\\s+0\\s+\\|\\s+active.*"));
        Result repaired = exec("xfs:repair --apply --undo-file " + dir.resolve("undo") + " " + img);
        assertEquals("the built-in repairs the link count again: " + repaired.out(), 0, repaired.status());
    }

    /** xfs:strategies once it satisfies the condition (services come and go asynchronously), within 10 s. */
    private String awaitStrategies(Predicate<String> condition) throws Exception {
        String s = "";
        for (int i = 0; i < 100; i++) {
            s = run("xfs:strategies");
            if (condition.test(s)) {
                return s;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("xfs:strategies never became as expected:\n" + s);
    }
}
