package com.example.xfstage.strategies;

import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Component;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.repair.Finding;
import org.xfstage.api.repair.Observation;
import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.api.repair.ScrubContext;

/**
 * names: a site policy the built-ins do not check (and XFS allows): no directory entry name may hold a control
 * character (U+0000-U+001F, U+007F), which breaks scripts and terminals. Check only: renaming is the owner's call, so
 * it plans nothing, and a repair with such names reports "no strategy repairs names" and writes nothing.
 *
 * <p>Written against the xfstage api only: the tree walk of the device service.
 */
@Component(property = RepairStrategy.STRUCTURE + "=" + NamesStrategy.STRUCTURE)
public class NamesStrategy implements RepairStrategy {
    static final String STRUCTURE = "names";
    private static final int MAX_FINDINGS = 50;

    @Override
    public Set<Observation> needs() {
        return Set.of();
    }

    @Override
    public void check(ScrubContext ctx, Consumer<Finding> findings) throws Exception {
        int[] reported = {0};
        try {
            ctx.device().manifest(false, ctx.progress(), e -> {
                String name = e.path().substring(e.path().lastIndexOf('/') + 1);
                for (int i = 0; i < name.length(); i++) {
                    char c = name.charAt(i);
                    if ((c < 0x20 || c == 0x7f) && reported[0]++ < MAX_FINDINGS) {
                        findings.accept(new Finding(STRUCTURE, -1, escaped(e.path()),
                                String.format("name holds control character U+%04X", (int) c), "printable names"));
                        break;
                    }
                }
            });
        } catch (XfsException e) {
            // a tree that cannot be walked is the directory checks' finding, not a names finding
        }
    }

    private static String escaped(String path) {
        StringBuilder b = new StringBuilder();
        for (char c : path.toCharArray()) {
            b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }
}
