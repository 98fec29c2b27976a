package org.xfstage.shell.internal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.apache.karaf.shell.support.table.ShellTable;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.FsInfo;
import org.xfstage.api.device.OpenOptions;
import org.xfstage.api.device.XfsDevice;
import org.xfstage.api.device.XfsDeviceService;
import org.xfstage.api.device.XfsException;
import org.xfstage.shell.json.Json;

/** {@code xfs:info IMAGE}: geometry as xfs_info shows it, and per-AG free blocks and inodes. */
@Service
@Command(scope = "xfs", name = "info", description = "Shows the geometry of an XFS image or device (as xfs_info) and per-AG free space and inodes")
public class InfoCommand extends ReportAction {

    @Reference(optional = true)
    XfsDeviceService devices;

    @Argument(index = 0, name = "image", description = "XFS image file or unmounted block device", required = true)
    @Completion(FileCompleter.class)
    String image;

    @Option(name = "--json", description = "Print one JSON object instead of text")
    boolean json;

    @Override
    int run() throws Exception {
        FsInfo info;
        try (XfsDevice dev = Commands.device(devices).open(Path.of(image), OpenOptions.readOnly())) {
            info = dev.info();
        } catch (XfsException e) {
            throw new CommandFailure(e.getMessage());
        }
        PrintStream out = out();
        if (json) {
            out.println(Json.write(toJson(info)));
            return OK;
        }
        out.printf("meta-data=%-22s isize=%-6d agcount=%d, agsize=%d blks%n", image, info.inodeSize(), info.agCount(), info.agBlocks());
        out.printf("         =%-22s sectsz=%-5d uuid=%s label=%s%n", "", info.sectorSize(), info.uuid(), info.label().isEmpty() ? "\"\"" : info.label());
        out.printf("         =%-22s crc=1 finobt=%d rmapbt=%d reflink=%d sparse=%d bigtime=%d inobtcount=%d nrext64=%d%n", "",
                on(info, Feature.FINOBT), on(info, Feature.RMAPBT), on(info, Feature.REFLINK), on(info, Feature.SPARSE),
                on(info, Feature.BIGTIME), on(info, Feature.INOBTCOUNT), on(info, Feature.NREXT64));
        out.printf("data     =%-22s bsize=%-6d blocks=%d, imaxpct=%d%n", "", info.blockSize(), info.dataBlocks(), info.imaxPct());
        out.printf("         =%-22s sunit=%-6d swidth=%d blks%n", "", info.sunit(), info.swidth());
        out.printf("naming   =version 2%-14s bsize=%-6d ftype=%d%n", "", info.dirBlockSize(), on(info, Feature.FTYPE));
        out.printf("log      =%-22s bsize=%-6d blocks=%d%n", info.logBlocks() > 0 ? "internal log" : "external", info.blockSize(), info.logBlocks());
        out.printf("counters =%-22s icount=%d ifree=%d fdblocks=%d%n", "", info.icount(), info.ifree(), info.fdblocks());
        ShellTable table = new ShellTable();
        table.column("AG").alignRight();
        table.column("Blocks").alignRight();
        table.column("Free blocks").alignRight();
        table.column("Longest free").alignRight();
        table.column("Inodes").alignRight();
        table.column("Free inodes").alignRight();
        for (FsInfo.AgInfo ag : info.ags()) {
            table.addRow().addContent(ag.agno(), ag.length(), ag.freeBlocks(), ag.longest(), ag.inodes(), ag.freeInodes());
        }
        table.print(out);
        return OK;
    }

    @Override
    String image() {
        return image;
    }

    private static int on(FsInfo info, Feature feature) {
        return info.has(feature) ? 1 : 0;
    }

    static Map<String, Object> toJson(FsInfo i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uuid", i.uuid());
        m.put("label", i.label());
        m.put("blockSize", i.blockSize());
        m.put("sectorSize", i.sectorSize());
        m.put("inodeSize", i.inodeSize());
        m.put("agCount", i.agCount());
        m.put("agBlocks", i.agBlocks());
        m.put("dataBlocks", i.dataBlocks());
        m.put("dirBlockSize", i.dirBlockSize());
        m.put("logBlocks", i.logBlocks());
        m.put("sunit", i.sunit());
        m.put("swidth", i.swidth());
        m.put("imaxPct", i.imaxPct());
        m.put("features", i.features());
        m.put("icount", i.icount());
        m.put("ifree", i.ifree());
        m.put("fdblocks", i.fdblocks());
        List<Object> ags = new ArrayList<>();
        for (FsInfo.AgInfo ag : i.ags()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("agno", ag.agno());
            a.put("length", ag.length());
            a.put("freeBlocks", ag.freeBlocks());
            a.put("longest", ag.longest());
            a.put("inodes", ag.inodes());
            a.put("freeInodes", ag.freeInodes());
            ags.add(a);
        }
        m.put("ags", ags);
        return m;
    }
}
