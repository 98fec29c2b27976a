package org.xfstage.api.device;

/**
 * A structure on disk is not what the format allows: bad magic, bad checksum, a count or pointer out of range, a
 * cycle or an impossible depth in a walk. Decoding stops with this exception; it never hangs or exhausts memory.
 * {@link #structure()} names the structure that could not be read, when the device knows it.
 */
public class XfsFormatException extends XfsException {
    private static final long serialVersionUID = 2L;
    private final String structure;

    public XfsFormatException(String message) {
        this(message, null);
    }

    /**
     * @param structure the structure that could not be read, by the names strategies register under ("agf", "agi",
     *                  "bnobt", "inode", ...), or null
     */
    public XfsFormatException(String message, String structure) {
        super(message);
        this.structure = structure;
    }

    /** The structure that could not be read, or null when not known. */
    public String structure() {
        return structure;
    }
}
