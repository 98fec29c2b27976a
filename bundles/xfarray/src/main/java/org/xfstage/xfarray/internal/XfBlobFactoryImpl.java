package org.xfstage.xfarray.internal;


import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
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
    private final Provider<StagedBlob> provider;

    public XfBlobFactoryImpl() {
        this(null);
    }

    /** A factory on the given xfile service, for use without a framework (tests, benchmarks). */
    public XfBlobFactoryImpl(XFileFactory xfiles) {
        this.provider = new Provider<>("xfblob", xfiles);
    }

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindXFileFactory(XFileFactory f) {
        provider.bind(f);
    }

    void unbindXFileFactory(XFileFactory f) {
        provider.unbind(f);
    }

    @Deactivate
    public void deactivate() {
        provider.deactivate();
    }

    @Override
    public XfBlob create(String name) throws StagingException {
        XFileFactory f = provider.xfiles();
        return provider.opened(new StagedBlob(name, f, provider::closed));
    }

    /** Blob stores not yet closed. */
    int liveCount() {
        return provider.live().size();
    }
}
