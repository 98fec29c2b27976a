package org.xfstage.strategies.inodes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.InodeField;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.staging.XfArray;

class NlinkStrategyTest {
    private static final long ROOT = 128;
    private static final long SUBDIR = 129;
    private static final long FILE = 130;

    private final NlinkStrategy nlinks = new NlinkStrategy();

    private static FakeContext context() {
        return new FakeContext(new FakeDevice(FakeContext.info(List.of(), 64, 0, 0, FakeContext.ag(0, 1000, 64, 0))));
    }

    /**
     * The link counts of / (a directory with subdirectory /d and file /f) as the tree walk stages them, sorted: each
     * inode's own record first, then the entries naming it and the ".." of its subdirectories.
     */
    private static void tree(XfArray links, long rootNlink, long subdirNlink, long fileNlink, int fileEntries) throws Exception {
        LinkCountRecord r = new LinkCountRecord();
        r.inode(ROOT, rootNlink, true).appendTo(links);
        r.link(ROOT, LinkCountRecord.Kind.DOTDOT).appendTo(links);
        r.inode(SUBDIR, subdirNlink, true).appendTo(links);
        r.link(SUBDIR, LinkCountRecord.Kind.ENTRY).appendTo(links);
        r.inode(FILE, fileNlink, false).appendTo(links);
        for (int i = 0; i < fileEntries; i++) {
            r.link(FILE, LinkCountRecord.Kind.ENTRY).appendTo(links);
        }
    }

    @Test
    void linkCountsThatMatchTheTreeAreClean() throws Exception {
        FakeContext ctx = context();
        tree(ctx.staged(Observation.LINK_COUNTS), 3, 2, 2, 2);

        assertEquals(List.of(), ctx.check(nlinks));
    }

    @Test
    void aFileWhoseLinkCountDiffersFromItsEntriesIsFoundAndPlanned() throws Exception {
        FakeContext ctx = context();
        tree(ctx.staged(Observation.LINK_COUNTS), 3, 2, 5, 1);

        List<Finding> found = ctx.check(nlinks);
        Plan plan = nlinks.plan(ctx, found);

        assertEquals(List.of(new Finding("nlinks", -1, "inode " + FILE, "link count 5", "1")), found);
        assertNotNull(plan);
        assertEquals(List.of(new FakeDevice.InodeUpdate(FILE, Map.of(InodeField.NLINK, 1L))), ctx.device.inodeUpdates);
        assertEquals(List.of("inode " + FILE + " nlink: 5 -> 1"), plan.changes());
    }

    @Test
    void aDirectoryCountsTwoPlusItsSubdirectories() throws Exception {
        FakeContext ctx = context();
        tree(ctx.staged(Observation.LINK_COUNTS), 2, 2, 1, 1); // / has one subdirectory: 3 links, not 2

        assertEquals(List.of(new Finding("nlinks", -1, "inode " + ROOT, "link count 2", "3")), ctx.check(nlinks));
    }

    @Test
    void theLastInodeOfTheRecordsIsChecked() throws Exception {
        FakeContext ctx = context();
        tree(ctx.staged(Observation.LINK_COUNTS), 3, 2, 1, 3);

        assertEquals(List.of(new Finding("nlinks", -1, "inode " + FILE, "link count 1", "3")), ctx.check(nlinks));
    }

    @Test
    void emptyLinkCountsGiveNoFindingAndReturnPromptly() {
        FakeContext ctx = context();
        FakeXfArray links = ctx.staged(Observation.LINK_COUNTS).loadNextBudget(10);

        List<Finding> found = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> ctx.check(nlinks));
        Plan plan = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> nlinks.plan(ctx, found));

        assertEquals(List.of(), found);
        assertNotNull(plan);
        assertEquals(List.of(), plan.blocks());
        assertTrue(links.loadNextCalls() <= 2, () -> links.loadNextCalls() + " reads of an empty array");
    }

    @Test
    void everyRecordIsReadOncePerPass() throws Exception {
        FakeContext ctx = context();
        FakeXfArray links = ctx.staged(Observation.LINK_COUNTS);
        tree(links, 3, 2, 1, 1);

        ctx.check(nlinks);

        assertEquals(links.length() + 1, links.loadNextCalls()); // each record, and the end
    }

    /** As the engine's walk stages them now: each entry naming an inode in use is one NAMED record with its link count. */
    @Test
    void namedRecordsCountAsTheInodeAndOneEntryEach() throws Exception {
        FakeContext ctx = context();
        XfArray links = ctx.staged(Observation.LINK_COUNTS);
        LinkCountRecord r = new LinkCountRecord();
        r.inode(ROOT, 3, true).appendTo(links);
        r.link(ROOT, LinkCountRecord.Kind.DOTDOT).appendTo(links);
        r.named(SUBDIR, 2, true).appendTo(links);
        r.named(FILE, 1, false).appendTo(links); // a hard link to a file whose count says one
        r.named(FILE, 1, false).appendTo(links);
        links.sort(LinkCountRecord.ORDER, org.xfstage.api.staging.SortOptions.DEFAULT, org.xfstage.api.staging.Progress.NONE);

        assertEquals(List.of(new Finding("nlinks", -1, "inode " + FILE, "link count 1", "2")), ctx.check(nlinks));
    }

    @Test
    void aDisconnectedInodeIsFoundButNotPlanned() throws Exception {
        FakeContext ctx = context();
        XfArray links = ctx.staged(Observation.LINK_COUNTS);
        tree(links, 3, 2, 1, 1);
        new LinkCountRecord().inode(FILE + 1, 1, false).appendTo(links); // in use, named by no directory

        List<Finding> found = ctx.check(nlinks);
        Plan plan = nlinks.plan(ctx, found);

        assertEquals(List.of(new Finding("nlinks", -1, "inode " + (FILE + 1), "link count 1", "0")), found);
        assertNull(plan);
        assertEquals(List.of(), ctx.device.inodeUpdates);
    }
}
