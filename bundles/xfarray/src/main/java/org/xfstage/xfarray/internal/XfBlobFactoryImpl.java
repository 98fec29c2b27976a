package org.xfstage.xfarray.internal;

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
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * The xfblob service, beside the xfarray service and like it: it follows the best xfile service dynamically, and
 * the blob stores made on a provider that goes away are closed with it.
 */
@Component(service = XfBlobFactory.class)
public class XfBlobFactoryImpl implements XfBlobFactory {
    private static final Logger LOG = LoggerFactory.getLogger(XfBlobFactoryImpl.class);

    private final Set<StagedBlob> live = ConcurrentHashMap.newKeySet();
    private volatile XFileFactory xfiles;
    private volatile boolean deactivated;

    public XfBlobFactoryImpl() {
    }

    /** A factory on the given xfile service, for use without a framework (tests, benchmarks). */
    public XfBlobFactoryImpl(XFileFactory xfiles) {
        this.xfiles = xfiles;
    }

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindXFileFactory(XFileFactory f) {
        xfiles = f;
    }

    void unbindXFileFactory(XFileFactory f) {
        int closed = 0;
        for (StagedBlob b : List.copyOf(live)) {
            if (b.madeBy(f)) {
                b.close();
                closed++;
            }
        }
        if (xfiles == f) {
            xfiles = null;
        }
        if (closed > 0) {
            LOG.info("xfile service went away: closed {} xfblob(s) staged on it", closed);
        }
    }

    @Deactivate
    public void deactivate() {
        deactivated = true;
        for (StagedBlob b : List.copyOf(live)) {
            b.close();
        }
    }

    @Override
    public XfBlob create(String name) throws StagingException {
        XFileFactory f = xfiles;
        if (deactivated || f == null) {
            throw new StagingClosedException("the xfblob service has no xfile service (is bundle xfstage-xfile started?)");
        }
        StagedBlob b = new StagedBlob(name, f, live::remove);
        live.add(b);
        return b;
    }

    /** Blob stores not yet closed. */
    int liveCount() {
        return live.size();
    }
}
