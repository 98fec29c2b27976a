package org.xfstage.xfarray.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
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
    private final Provider<StagedArray> provider;

    public XfArrayFactoryImpl() {
        this(null);
    }

    /** A factory on the given xfile service, for use without a framework (tests, benchmarks). */
    public XfArrayFactoryImpl(XFileFactory xfiles) {
        this.provider = new Provider<>("xfarray", xfiles);
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
    public XfArray create(String name, int recordSize) throws StagingException {
        if (recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) {
            throw new IllegalArgumentException("record size " + recordSize + " of xfarray '" + name + "' is out of range "
                    + MIN_RECORD_SIZE + ".." + MAX_RECORD_SIZE);
        }
        XFileFactory f = provider.xfiles();
        return provider.opened(new StagedArray(name, recordSize, f, provider::closed));
    }

    @Override
    public List<XfArrayInfo> liveArrays() {
        List<XfArrayInfo> out = new ArrayList<>();
        for (StagedArray a : provider.live()) {
            out.add(a.info());
        }
        out.sort(Comparator.comparing(XfArrayInfo::name));
        return out;
    }
}
