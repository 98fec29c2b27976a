package org.xfstage.xfarray.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XfArray;
import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfArrayInfo;

/**
 * The xfarray service. It follows the best xfile service dynamically (greedy): when a provider goes away or
 * is replaced, the arrays made on it are closed (their staging memory went with it) and new arrays use the
 * new provider; without any provider the component is deactivated.
 */
@Component(service = XfArrayFactory.class)
public class XfArrayFactoryImpl implements XfArrayFactory {
    private static final Logger LOG = LoggerFactory.getLogger(XfArrayFactoryImpl.class);

    private final Set<StagedArray> live = ConcurrentHashMap.newKeySet();
    private volatile XFileFactory xfiles;
    private volatile boolean deactivated;

    public XfArrayFactoryImpl() {
    }

    /** A factory on the given xfile service, for use without a framework (tests, benchmarks). */
    public XfArrayFactoryImpl(XFileFactory xfiles) {
        this.xfiles = xfiles;
    }

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindXFileFactory(XFileFactory f) {
        xfiles = f;
    }

    void unbindXFileFactory(XFileFactory f) {
        int closed = 0;
        for (StagedArray a : List.copyOf(live)) {
            if (a.madeBy(f)) {
                a.close();
                closed++;
            }
        }
        if (xfiles == f) {
            xfiles = null;
        }
        if (closed > 0) {
            LOG.info("xfile service went away: closed {} xfarray(s) staged on it", closed);
        }
    }

    @Deactivate
    public void deactivate() {
        deactivated = true;
        for (StagedArray a : List.copyOf(live)) {
            a.close();
        }
    }

    @Override
    public XfArray create(String name, int recordSize) throws StagingException {
        if (recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) {
            throw new IllegalArgumentException("record size " + recordSize + " of xfarray '" + name + "' is out of range "
                    + MIN_RECORD_SIZE + ".." + MAX_RECORD_SIZE);
        }
        XFileFactory f = xfiles;
        if (deactivated || f == null) {
            throw new StagingClosedException("the xfarray service has no xfile service (is bundle xfstage-xfile started?)");
        }
        StagedArray a = new StagedArray(name, recordSize, f, live::remove);
        live.add(a);
        return a;
    }

    @Override
    public List<XfArrayInfo> liveArrays() {
        List<XfArrayInfo> out = new ArrayList<>();
        for (StagedArray a : live) {
            out.add(a.info());
        }
        out.sort(Comparator.comparing(XfArrayInfo::name));
        return out;
    }
}
