package org.xfstage.api.device;

/**
 * A structure on disk is not what the format allows: bad magic, bad checksum, a count or pointer out of range, a
 * cycle or an impossible depth in a walk. Decoding stops with this exception; it never hangs or exhausts memory.
 */
public class XfsFormatException extends XfsException {
    private static final long serialVersionUID = 1L;

    public XfsFormatException(String message) {
        super(message);
    }
}
