package org.xfstage.strategies.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.BlockImage;
import org.xfstage.api.device.DirectoryProblem;
import org.xfstage.api.device.DirectorySink;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.InodeProblem;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.Plan;
import org.xfstage.api.repair.ScrubContext;
import org.xfstage.api.staging.Progress;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * The directory strategy's one plan: a single-block directory whose only fault is its size is given to the device
 * (with the single-block rule) when that rule is broken on the view the plan is made on; any other directory fault
 * plans nothing, and a size fault of another kind plans nothing either.
 */
class DirectorySizePlanTest {
    private static final long DIR = 655_488;
    private static final Finding SIZE = new Finding("directory", -1, "directory /block (inode 655488)",
            "bad size: size 8192, a single-block directory's is 4096", null);

    /** A device whose tree walk reports {@code walk}, whose inode and directory reads report the rest. */
    private static final class Device {
        final List<DirectoryProblem> walk = new ArrayList<>();
        final Set<InodeProblem.Kind> inodeNow;
        final boolean directoryStillSized;
        final List<Long> asked = new ArrayList<>();
        int walks;

        Device(Set<InodeProblem.Kind> inodeNow, boolean directoryStillSized) {
            this.inodeNow = inodeNow;
            this.directoryStillSized = directoryStillSized;
        }

        ScrubContext context() {
            XfsDevice d = (XfsDevice) Proxy.newProxyInstance(XfsDevice.class.getClassLoader(), new Class<?>[] {XfsDevice.class},
                    (proxy, m, args) -> switch (m.getName()) {
                        case "directoryTree" -> {
                            walks++;
                            walk.forEach(((DirectorySink) args[1])::problem);
                            yield null;
                        }
                        case "checkInode" -> {
                            inodeNow.forEach(k -> ((XfsDevice.ProblemSink) args[1]).problem(InodeProblem.of((Long) args[0], k, 8192, 4096)));
                            yield true;
                        }
                        case "directory" -> {
                            if (directoryStillSized) {
                                ((DirectorySink) args[1]).problem(sized(false));
                            }
                            yield null;
                        }
                        case "repairInodeCore" -> {
                            asked.add((Long) args[0]);
                            yield new BlockImage(0, new byte[512], "inode " + args[0]);
                        }
                        default -> throw new UnsupportedOperationException(m.getName());
                    });
            return new ScrubContext() {
                @Override
                public XfsDevice device() {
                    return d;
                }

                @Override
                public FsInfo info() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public XfArray observation(Observation o) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public XfArrayFactory arrays() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public XfBlobFactory blobs() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public Progress progress() {
                    return Progress.NONE;
                }
            };
        }
    }

    private static DirectoryProblem sized(boolean entriesLost) {
        return new DirectoryProblem(DIR, DirectoryProblem.Kind.SIZE, -1, -1, "size 8192, a single-block directory's is 4096", entriesLost);
    }

    @Test
    void aSingleBlockDirectorysSizeIsGivenToTheDevice() throws Exception {
        Device d = new Device(Set.of(InodeProblem.Kind.DIRECTORY_BLOCK_SIZE), true);
        d.walk.add(sized(false));
        Plan p = DirectorySizePlan.plan(d.context(), List.of(SIZE), "directory", DirectoryStrategy.MAX_FINDINGS);
        assertEquals(List.of(DIR), d.asked);
        assertEquals(List.of("directory inode 655488: size set to one directory block"), p.changes());
    }

    @Test
    void anyOtherDirectoryFaultPlansNothing() throws Exception {
        Device d = new Device(Set.of(InodeProblem.Kind.DIRECTORY_BLOCK_SIZE), true);
        assertNull(DirectorySizePlan.plan(d.context(), List.of(SIZE, new Finding("directory", -1, "directory /a (inode 200)",
                "bad hash: entry 3", null)), "directory", DirectoryStrategy.MAX_FINDINGS));
        assertEquals(0, d.walks, "decided from the findings alone");
        d.walk.add(sized(true));
        assertNull(DirectorySizePlan.plan(d.context(), List.of(SIZE), "directory", DirectoryStrategy.MAX_FINDINGS), "a size with entries lost is a rebuild");
        assertEquals(List.of(), d.asked);
    }

    @Test
    void aSizeFaultOfAnotherKindPlansNothingAndOneAnEarlierPlanSetIsLeft() throws Exception {
        Device other = new Device(Set.of(), true);
        other.walk.add(sized(false));
        assertNull(DirectorySizePlan.plan(other.context(), List.of(SIZE), "directory", DirectoryStrategy.MAX_FINDINGS), "not the single-block rule: not proven");
        Device done = new Device(Set.of(), false);
        done.walk.add(sized(false));
        Plan p = DirectorySizePlan.plan(done.context(), List.of(SIZE), "directory", DirectoryStrategy.MAX_FINDINGS);
        assertEquals(List.of(), p.blocks(), "the inode plan set it on the view");
        assertEquals(List.of(), done.asked);
    }
}
