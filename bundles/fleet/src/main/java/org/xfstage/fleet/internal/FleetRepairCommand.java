package org.xfstage.fleet.internal;

import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.ShellUtil;
import org.xfstage.fleet.internal.DeviceResult.Verdict;
import org.xfstage.shell.json.Json;

/**
 * {@code xfs:fleet-repair [--apply] DEVICE...}: repairs devices on the members that own them, each under the
 * device's cluster-wide lease, so a second repair of a device (from any console) is refused while one runs. The undo
 * journal stays on the owning member, next to the image. Without --apply a dry run. The command ACL
 * (org.apache.karaf.command.acl.xfs) keeps --apply for admins, as for xfs:repair. Exit status 0 when every device
 * ends clean, 1 when damage remains (dry run included), 2 when any could not be repaired (unknown, busy, member left).
 */
@Service
@Command(scope = "xfs", name = "fleet-repair", description = "Repairs fleet devices on their own members under a lease per device (dry run unless --apply)")
public class FleetRepairCommand extends FleetAction {

    @Option(name = "--apply", description = "Write the plans through an undo journal on the owning member (default: dry run)")
    boolean apply;

    @Option(name = "--json", description = "Print one JSON object per device, one a line")
    boolean json;

    @Argument(index = 0, name = "devices", description = "Device ids (member:path, as xfs:fleet-status lists them) or paths owned by one member",
            required = true, multiValued = true)
    List<String> devices;

    @Override
    int run() throws Exception {
        FleetNode node = node();
        String user = ShellUtil.getCurrentUserName();
        List<DeviceResult> results = node.repair(devices, apply, (user == null ? "?" : user) + "@" + node.nodeName());
        int status = OK;
        for (DeviceResult r : results) {
            if (json) {
                System.out.println(Json.write(toJson(r)));
            } else {
                System.out.printf("%s on %s: %s%s%n", r.device(), r.node(), r.verdict(), r.detail() == null ? "" : " (" + r.detail() + ")");
                r.findings().forEach(f -> System.out.println("  " + f));
                if (r.journal() != null) {
                    System.out.printf("  undo journal %s on member %s (xfs:undo %s %s there)%n", r.journal(), r.node(), r.journal(), r.path());
                }
            }
            status = Math.max(status, switch (r.verdict()) {
                case CLEAN, REPAIRED -> OK;
                case DRY_RUN, NOT_REPAIRED, DAMAGED -> DAMAGE;
                default -> FAILED;
            });
        }
        if (status == FAILED) {
            throw new Failure(FAILED, "not every device could be repaired: "
                    + String.join(", ", results.stream().filter(r -> r.verdict() != Verdict.CLEAN && r.verdict() != Verdict.REPAIRED
                            && r.verdict() != Verdict.DRY_RUN && r.verdict() != Verdict.NOT_REPAIRED).map(r -> r.device() + " " + r.verdict()).toList()));
        }
        return status;
    }
}
