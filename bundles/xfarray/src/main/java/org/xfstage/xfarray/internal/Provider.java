package org.xfstage.xfarray.internal;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xfstage.api.staging.StagingClosedException;
import org.xfstage.api.staging.XFileFactory;

/**
 * The xfile service a staging service (xfarray, xfblob) stages on, followed dynamically, and what it staged there
 * that is still open: when a provider goes away, what was made on it is closed (its memory went with it), and without
 * a provider nothing new can be made.
 */
final class Provider<S extends Provider.Staged> {
    private static final Logger LOG = LoggerFactory.getLogger(Provider.class);

    /** Something staged on an xfile service. */
    interface Staged {
        boolean madeBy(XFileFactory f);

        void close();
    }

    private final String service;
    private final Set<S> live = ConcurrentHashMap.newKeySet();
    private volatile XFileFactory xfiles;
    private volatile boolean deactivated;

    /** For the service named {@code service} ("xfarray"), on {@code xfiles} (null until one is bound). */
    Provider(String service, XFileFactory xfiles) {
        this.service = service;
        this.xfiles = xfiles;
    }

    void bind(XFileFactory f) {
        xfiles = f;
    }

    void unbind(XFileFactory f) {
        int closed = 0;
        for (S s : List.copyOf(live)) {
            if (s.madeBy(f)) {
                s.close();
                closed++;
            }
        }
        if (xfiles == f) {
            xfiles = null;
        }
        if (closed > 0) {
            LOG.info("xfile service went away: closed {} {}(s) staged on it", closed, service);
        }
    }

    void deactivate() {
        deactivated = true;
        for (S s : List.copyOf(live)) {
            s.close();
        }
    }

    /** The xfile service to stage on now. */
    XFileFactory xfiles() throws StagingClosedException {
        XFileFactory f = xfiles;
        if (deactivated || f == null) {
            throw new StagingClosedException("the " + service + " service has no xfile service (is bundle xfstage-xfile started?)");
        }
        return f;
    }

    /** Keeps {@code s} as live until it is {@link #closed}. */
    S opened(S s) {
        live.add(s);
        return s;
    }

    void closed(S s) {
        live.remove(s);
    }

    Set<S> live() {
        return live;
    }
}
