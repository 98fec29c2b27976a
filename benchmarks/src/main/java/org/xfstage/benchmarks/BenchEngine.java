package org.xfstage.benchmarks;

import java.util.Map;

import org.xfstage.api.repair.RepairStrategy;
import org.xfstage.device.internal.XfsDeviceServiceImpl;
import org.xfstage.repair.internal.RepairEngineImpl;
import org.xfstage.strategies.inodes.AgiStrategy;
import org.xfstage.strategies.inodes.FinobtStrategy;
import org.xfstage.strategies.inodes.InobtStrategy;
import org.xfstage.strategies.inodes.NlinkStrategy;
import org.xfstage.strategies.inodes.SbCountersStrategy;
import org.xfstage.strategies.namespace.BmapStrategy;
import org.xfstage.strategies.namespace.DirectoryStrategy;
import org.xfstage.strategies.namespace.InodeStrategy;
import org.xfstage.strategies.namespace.SymlinkStrategy;
import org.xfstage.strategies.namespace.XattrStrategy;
import org.xfstage.strategies.space.AgfStrategy;
import org.xfstage.strategies.space.AgflStrategy;
import org.xfstage.strategies.space.BnobtStrategy;
import org.xfstage.strategies.space.CntbtStrategy;
import org.xfstage.strategies.space.RefcountbtStrategy;
import org.xfstage.strategies.space.RmapbtStrategy;
import org.xfstage.strategies.space.SbPrimaryStrategy;
import org.xfstage.strategies.space.SbSecondaryStrategy;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * The engine as the distribution wires it, outside OSGi: the device, staging on memfd (8 GiB a file, 16 GiB in all, so
 * that the limit is never what a benchmark measures) and every built-in strategy of the three strategy bundles; the
 * walk's threads as {@code -Dxfstage.walkThreads} says.
 */
final class BenchEngine implements AutoCloseable {
    final XfsDeviceServiceImpl devices = new XfsDeviceServiceImpl();
    final XFileFactoryImpl xfiles = XFileFactoryImpl.standalone(8L << 30, 16L << 30);
    final XfArrayFactoryImpl arrays = new XfArrayFactoryImpl(xfiles);
    final RepairEngineImpl engine = new RepairEngineImpl(devices, arrays, new XfBlobFactoryImpl(xfiles), xfiles);

    /** The engine's walkThreads from {@code -Dxfstage.walkThreads} (0, the default: one per processor). */
    BenchEngine() {
        engine.setWalkThreads(Integer.getInteger("xfstage.walkThreads", 0));
        Map<String, RepairStrategy> builtIn = Map.ofEntries(Map.entry("bnobt", new BnobtStrategy()),
                Map.entry("cntbt", new CntbtStrategy()), Map.entry("agf", new AgfStrategy()), Map.entry("agfl", new AgflStrategy()),
                Map.entry("inobt", new InobtStrategy()), Map.entry("finobt", new FinobtStrategy()), Map.entry("agi", new AgiStrategy()),
                Map.entry("sb-counters", new SbCountersStrategy()), Map.entry("nlinks", new NlinkStrategy()),
                Map.entry("rmapbt", new RmapbtStrategy()), Map.entry("sb-secondary", new SbSecondaryStrategy()),
                Map.entry("sb-primary", new SbPrimaryStrategy()), Map.entry("refcountbt", new RefcountbtStrategy()),
                Map.entry("directory", new DirectoryStrategy()), Map.entry("inode", new InodeStrategy()),
                Map.entry("bmap", new BmapStrategy()), Map.entry("symlink", new SymlinkStrategy()),
                Map.entry("xattr", new XattrStrategy()));
        builtIn.forEach((k, v) -> engine.addStrategy(v, Map.of(RepairStrategy.STRUCTURE, k)));
    }

    @Override
    public void close() {
        arrays.deactivate();
        xfiles.deactivate();
    }
}
