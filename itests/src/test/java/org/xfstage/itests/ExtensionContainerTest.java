package org.xfstage.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * A third-party repair bundle (examples/strategy-example, built against the api only) installed into and removed
 * from a running Karaf, with no restart: its new structure (agfl-wrap) is scrubbed and repaired, its higher-ranked
 * nlinks policy shadows the built-in, and after uninstalling, the built-in is back and repairs.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ExtensionContainerTest extends ContainerSupport {
    private static final String EXAMPLE = "mvn:com.example.xfstage/xfstage-strategy-example/"
            + System.getProperty("example.version", "1.0.0-SNAPSHOT") + "/xml/features";

    @Test
    public void exampleBundleInstallsShadowsAndUninstallsAtRuntime() throws Exception {
        Xfsprogs xfsprogs = Xfsprogs.find();
        Path dir = tempDirectory("ext");
        Path img = xfsprogs.oneFileImage(dir, "extension\n");
        wrapAgfl(xfsprogs, img, 1);
        assertEquals("a wrapped AGFL is legal XFS", 0, xfsprogs.repairCheck(img));
        assertEquals("the built-ins agree", 0, exec("xfs:scrub " + img).status());
        assertTrue(!run("xfs:strategies").contains("agfl-wrap"));

        run("feature:repo-add " + EXAMPLE);
        run("feature:install xfstage-strategy-example");
        String installed = awaitStrategies(s -> s.contains("agfl-wrap") && s.contains("com.example.xfstage.strategies"));
        assertTrue(installed, installed.matches("(?s).*nlinks\\s+\\|\\s+com\\.example\\.xfstage\\.strategies\\s+\\|\\s+100\\s+\\|\\s+active.*"));
        assertTrue(installed, installed.matches("(?s).*nlinks\\s+\\|\\s+xfstage-strategies-inodes\\s+\\|\\s+0\\s+\\|\\s+shadowed.*"));

        // its own structure: scrubbed and repaired, and the result is still consistent for xfs_repair -n
        Result wrapped = exec("xfs:scrub " + img);
        assertEquals(wrapped.out(), 1, wrapped.status());
        assertTrue(wrapped.out(), wrapped.out().contains("agfl-wrap") && wrapped.out().contains("AGFL slots 117..1"));
        Result compacted = exec("xfs:repair --apply --undo-file " + dir.resolve("undo1") + " " + img);
        assertEquals(compacted.out(), 0, compacted.status());
        assertTrue(compacted.out(), compacted.out().contains("AGFL slots 117..1 -> 0..3"));
        assertEquals(0, xfsprogs.repairCheck(img));

        // its nlinks policy outranks the built-in: checked, never changed
        xfsprogs.db(img, "path /data", "write -d core.nlinkv2 5");
        byte[] damaged = Files.readAllBytes(img);
        Result policy = exec("xfs:repair --apply --undo-file " + dir.resolve("undo2") + " " + img);
        assertEquals(policy.out(), 1, policy.status());
        assertTrue(policy.out(), policy.out().contains("no strategy repairs nlinks; nothing was written"));
        assertTrue("the policy wrote nothing", java.util.Arrays.equals(damaged, Files.readAllBytes(img)));

        run("feature:uninstall xfstage-strategy-example");
        run("feature:repo-remove " + EXAMPLE);
        String removed = awaitStrategies(s -> !s.contains("agfl-wrap") && !s.contains("shadowed"));
        assertTrue(removed, removed.matches("(?s).*nlinks\\s+\\|\\s+xfstage-strategies-inodes\\s+\\|\\s+0\\s+\\|\\s+active.*"));
        Result repaired = exec("xfs:repair --apply --undo-file " + dir.resolve("undo3") + " " + img);
        assertEquals("the built-in repairs the link count again: " + repaired.out(), 0, repaired.status());
        assertEquals(0, xfsprogs.repairCheck(img));
    }

    /** Moves the AG's four AGFL entries to slots 117, 118, 0, 1 (legal: the list wraps around the end). */
    private static void wrapAgfl(Xfsprogs xfsprogs, Path img, int agno) throws Exception {
        String out = xfsprogs.db(img, "agf " + agno, "p flfirst flcount", "agfl " + agno, "p bno");
        Matcher head = Pattern.compile("flfirst = (\\d+)\\s+flcount = (\\d+)").matcher(out);
        assertTrue(out, head.find() && head.group(2).equals("4"));
        int first = Integer.parseInt(head.group(1));
        List<String> commands = new ArrayList<>(List.of("agfl " + agno));
        String[] blocks = new String[4];
        for (int i = 0; i < 4; i++) {
            Matcher slot = Pattern.compile(" " + (first + i) + ":(\\d+)").matcher(out);
            assertTrue(out, slot.find());
            blocks[i] = slot.group(1);
            commands.add("write -d bno[" + (first + i) + "] 0xffffffff");
        }
        int[] wrapped = {117, 118, 0, 1};
        for (int i = 0; i < 4; i++) {
            commands.add("write -d bno[" + wrapped[i] + "] " + blocks[i]);
        }
        commands.addAll(List.of("agf " + agno, "write -d flfirst 117", "write -d fllast 1"));
        xfsprogs.db(img, commands.toArray(String[]::new));
    }

    /** xfs:strategies once it satisfies the condition (services come and go asynchronously), within 10 s. */
    private String awaitStrategies(Predicate<String> condition) throws Exception {
        return await(Duration.ofSeconds(10), () -> run("xfs:strategies"), condition, "xfs:strategies as expected");
    }
}
