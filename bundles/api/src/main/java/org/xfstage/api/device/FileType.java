package org.xfstage.api.device;

/** The type of a file, from its mode. */
public enum FileType {
    FILE, DIRECTORY, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET;

    /** The one-letter code used by listings (as {@code ls -l} does): - d l c b p s. */
    public char code() {
        return switch (this) {
            case FILE -> '-';
            case DIRECTORY -> 'd';
            case SYMLINK -> 'l';
            case CHAR_DEVICE -> 'c';
            case BLOCK_DEVICE -> 'b';
            case FIFO -> 'p';
            case SOCKET -> 's';
        };
    }
}
