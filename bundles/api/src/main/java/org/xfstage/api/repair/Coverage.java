package org.xfstage.api.repair;

/**
 * What a plan puts right besides its own findings: the findings of {@code structure} in AG {@code agno} (-1: the
 * findings that name no AG). A rebuilt bnobt also rebuilds the cntbt and the AGF of its AG.
 *
 * @param structure a structure as strategies register it ("cntbt")
 * @param agno      the AG, or -1
 */
public record Coverage(String structure, int agno) {
    /** Whether this covers the finding. */
    public boolean covers(Finding f) {
        return structure.equals(f.structure()) && agno == f.agno();
    }
}
