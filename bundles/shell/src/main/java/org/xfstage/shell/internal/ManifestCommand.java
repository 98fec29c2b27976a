package org.xfstage.shell.internal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.xfstage.api.device.ManifestEntry;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;
import org.xfstage.api.staging.CancelledException;
import org.xfstage.shell.json.Json;

/**
 * {@code xfs:manifest IMAGE}: every path with type, mode, size, symlink target and SHA-256 of the content, read
 * through the extent maps. Comparing manifests from before and after a repair proves that nothing was lost.
 */
@Service
@Command(scope = "xfs", name = "manifest", description = "Lists every path of an XFS image with type, mode, size, link target and SHA-256 of its content")
public class ManifestCommand extends ReportAction {

    @Reference(optional = true)
    XfsDeviceService devices;

    @Reference(optional = true)
    Session session;

    @Argument(index = 0, name = "image", description = "XFS image file or unmounted block device", required = true)
    @Completion(FileCompleter.class)
    String image;

    @Option(name = "--json", description = "Print one JSON object per line instead of text")
    boolean json;

    @Option(name = "--no-checksums", description = "Walk the metadata only; do not read file contents")
    boolean noChecksums;

    @Override
    int run() throws Exception {
        PrintStream out = out();
        TerminalProgress progress = new TerminalProgress(session, System.err);
        try (XfsDevice dev = Commands.device(devices).open(Path.of(image), OpenOptions.readOnly())) {
            dev.manifest(!noChecksums, progress, e -> out.println(json ? Json.write(toJson(e)) : format(e)));
        } catch (XfsException | CancelledException e) {
            throw new CommandFailure(e.getMessage());
        } finally {
            progress.finish();
        }
        return OK;
    }

    @Override
    String image() {
        return image;
    }

    static String format(ManifestEntry e) {
        String sha = e.sha256() == null ? "-" : e.sha256();
        String line = String.format("%c %04o %12d %-64s %s", e.type().code(), e.mode(), e.size(), sha, e.path());
        return e.linkTarget() == null ? line : line + " -> " + e.linkTarget();
    }

    static Map<String, Object> toJson(ManifestEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", e.path());
        m.put("type", e.type().name().toLowerCase());
        m.put("mode", String.format("%04o", e.mode()));
        m.put("size", e.size());
        m.put("target", e.linkTarget());
        m.put("sha256", e.sha256());
        m.put("inode", e.inode());
        m.put("nlink", e.nlink());
        return m;
    }
}
