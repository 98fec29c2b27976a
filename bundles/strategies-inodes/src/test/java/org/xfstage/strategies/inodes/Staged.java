package org.xfstage.strategies.inodes;

import org.xfstage.api.device.InodeChunk;
import org.xfstage.api.repair.InodeMapRecord;
import org.xfstage.api.repair.LinkCountRecord;
import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XfArray;

/** Test data written as the engine stages it, through the api's flyweights. */
final class Staged {
    private Staged() {
    }

    /**
     * Appends to the inode map the inodes of the chunk from {@code first}, one character each: {@code u} in use,
     * {@code f} free, {@code ?} unreadable, {@code -} not staged (a hole). Call in inode order.
     */
    static void inodes(XfArray map, long first, String states) throws StagingException {
        if (states.length() != InodeChunk.INODES) {
            throw new IllegalArgumentException(states.length() + " states for a chunk of " + InodeChunk.INODES);
        }
        InodeMapRecord r = new InodeMapRecord();
        for (int i = 0; i < states.length(); i++) {
            InodeMapRecord.State s = switch (states.charAt(i)) {
                case 'u' -> InodeMapRecord.State.IN_USE;
                case 'f' -> InodeMapRecord.State.FREE;
                case '?' -> InodeMapRecord.State.UNREADABLE;
                case '-' -> null;
                default -> throw new IllegalArgumentException(states);
            };
            if (s != null) {
                r.set(first + i, s).appendTo(map);
            }
        }
    }

    /** {@code n} times the character {@code c}. */
    static String times(int n, char c) {
        return String.valueOf(c).repeat(n);
    }

    /**
     * Appends to the link counts a directory entry for each inode of the chunk from {@code first} marked {@code n} in
     * {@code named} (one character per inode, as {@link #inodes}). Call in inode order.
     */
    static void named(XfArray links, long first, String named) throws StagingException {
        LinkCountRecord r = new LinkCountRecord();
        for (int i = 0; i < named.length(); i++) {
            if (named.charAt(i) == 'n') {
                r.link(first + i, LinkCountRecord.Kind.ENTRY).appendTo(links);
            }
        }
    }
}
