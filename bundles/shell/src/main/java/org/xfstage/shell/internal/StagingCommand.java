package org.xfstage.shell.internal;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XFileInfo;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfArrayInfo;
import org.xfstage.shell.json.Json;

/** {@code xfs:staging}: the live staging files and record arrays, and what they use. */
@Service
@Command(scope = "xfs", name = "staging", description = "Lists live staging files (xfiles) and record arrays (xfarrays) with sizes, bytes used, and totals")
public class StagingCommand extends XfsAction {

    @Reference(optional = true)
    XFileFactory xfiles;

    @Reference(optional = true)
    XfArrayFactory xfarrays;

    @Option(name = "--json", description = "Print one JSON object instead of a table")
    boolean json;

    @Override
    int run() throws Exception {
        PrintStream out = System.out;
        if (xfiles == null) {
            throw new CommandFailure("the xfile staging service is not available (is bundle xfstage-xfile started?)");
        }
        List<XFileInfo> files = xfiles.liveFiles();
        long size = 0;
        long used = 0;
        for (XFileInfo f : files) {
            size += f.size();
            used += f.bytesUsed();
        }
        List<XfArrayInfo> arrays = xfarrays == null ? List.of() : xfarrays.liveArrays();
        String provider = provider(xfiles);
        if (json) {
            Map<String, Object> m = toJson(files, arrays, size, used, xfiles.totalLimit());
            m.put("provider", provider);
            out.println(Json.write(m));
            return OK;
        }
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Size").alignRight();
        table.column("Bytes used").alignRight();
        table.column("Backing");
        for (XFileInfo f : files) {
            table.addRow().addContent(f.name(), f.size(), f.bytesUsed(), f.backing().name().toLowerCase());
        }
        table.print(out);
        out.printf("%d xfile(s), %d bytes logical, %d bytes used of a %d-byte limit%n", files.size(), size, used,
                xfiles.totalLimit());
        out.println("provider: " + provider);
        if (xfarrays == null) {
            out.println("xfarray service not available");
            return OK;
        }
        out.println();
        ShellTable arrayTable = new ShellTable();
        arrayTable.column("XfArray");
        arrayTable.column("Records").alignRight();
        arrayTable.column("Record size").alignRight();
        arrayTable.column("Bytes staged").alignRight();
        for (XfArrayInfo a : arrays) {
            arrayTable.addRow().addContent(a.name(), a.records(), a.recordSize(), a.bytesStaged());
        }
        arrayTable.print(out);
        out.printf("%d xfarray(s)%n", arrays.size());
        return OK;
    }

    /** Which bundle provides the service: name, version, id and when it was installed or last updated. */
    static String provider(Object service) {
        org.osgi.framework.Bundle b = org.osgi.framework.FrameworkUtil.getBundle(service.getClass());
        return b == null ? "outside OSGi" : b.getSymbolicName() + " " + b.getVersion() + " (bundle " + b.getBundleId()
                + ", updated " + java.time.Instant.ofEpochMilli(b.getLastModified()) + ")";
    }

    static Map<String, Object> toJson(List<XFileInfo> files, List<XfArrayInfo> arrays, long size, long used, long limit) {
        List<Object> list = new ArrayList<>();
        for (XFileInfo f : files) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", f.name());
            m.put("size", f.size());
            m.put("bytesUsed", f.bytesUsed());
            m.put("backing", f.backing().name().toLowerCase());
            list.add(m);
        }
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("files", files.size());
        totals.put("size", size);
        totals.put("bytesUsed", used);
        totals.put("limit", limit);
        List<Object> arrayList = new ArrayList<>();
        for (XfArrayInfo a : arrays) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", a.name());
            m.put("records", a.records());
            m.put("recordSize", a.recordSize());
            m.put("bytesStaged", a.bytesStaged());
            arrayList.add(m);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("xfiles", list);
        root.put("xfarrays", arrayList);
        root.put("totals", totals);
        return root;
    }
}
