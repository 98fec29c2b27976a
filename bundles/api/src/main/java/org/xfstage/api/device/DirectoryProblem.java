package org.xfstage.api.device;

/**
 * Something the device's verifying directory reader found wrong in a directory ({@link XfsDevice#directory}), with
 * where it is.
 *
 * @param directory   the directory's inode number
 * @param kind        what kind of damage it is
 * @param block       the directory block it is in, as a block offset in the directory's address space (the
 *                    filesystem block the directory block starts at, counted from the directory's start; data blocks
 *                    lie below the hash index and free index blocks), or -1 when it concerns the inode (a
 *                    short-form directory, the size, the extent map)
 * @param offset      the byte offset in that block (or in the inode's short-form data) of the entry or field, or -1
 * @param detail      what is wrong, in words
 * @param entriesLost whether entries may be missing or misread because of it: the reader could not go on through
 *                    that block or structure (a walk that must see every entry should not trust this directory)
 */
public record DirectoryProblem(long directory, Kind kind, long block, int offset, String detail, boolean entriesLost) {

    /** The kinds of damage a directory can have. */
    public enum Kind {
        /** The directory, or one of its blocks, cannot be read at all (inode, extent map, a block past the device). */
        UNREADABLE("cannot be read"),
        /** The data fork's format or extent layout is no directory form, or blocks lie where none may. */
        FORMAT("bad format"),
        /** The inode's size disagrees with the directory's entries or last data block. */
        SIZE("bad size"),
        /** A block's self-describing header: magic, checksum, owner, place, filesystem uuid, padding. */
        HEADER("bad block header"),
        /** An entry or unused record that cannot be decoded where it lies (length, tag, overrun). */
        ENTRY("bad entry"),
        /** An entry name that is empty or holds '/' or NUL. */
        NAME("bad name"),
        /** An entry naming a number that cannot be an inode of this filesystem. */
        INODE_NUMBER("bad inode number"),
        /** An entry's file type that is no file type. */
        FILE_TYPE("bad file type"),
        /** "." or ".." missing, repeated, misplaced or naming the wrong directory; an entry naming its own directory. */
        DOT_ENTRIES("bad . or .. entry"),
        /** A short-form directory's header or entry offsets: count, count of 8-byte inode numbers, order, fit. */
        SHORT_FORM("bad short-form directory"),
        /** A data block's table of its longest free regions, or free regions that are not merged. */
        BESTFREE("bad bestfree table"),
        /** A data block that holds no entry (emptied blocks are freed). */
        EMPTY_BLOCK("empty data block"),
        /** A hash index entry whose hash is not that of the name it points at. */
        HASH("bad hash"),
        /** Hash index entries (or node keys) out of order. */
        HASH_ORDER("bad hash order"),
        /** A hash index entry that points at no entry or at one another index entry points at; an entry no index entry points at. */
        LEAF_ADDRESS("bad hash index address"),
        /** A hash index block's count, count of stale entries, or entries overlapping its tail. */
        LEAF_COUNT("bad hash index count"),
        /** The table of each data block's longest free region in the tail of a leaf directory's hash index. */
        LEAF_BESTS("bad hash index bests"),
        /** A node of the hash index btree: level, count, keys against children, pointers, sibling links. */
        NODE("bad hash index node"),
        /** A free index block: header, entry counts, each data block's longest free region. */
        FREE_INDEX("bad free index");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        /** The kind in a few words, for messages. */
        public String description() {
            return description;
        }
    }

    /** Where it is, in words: the directory's inode, and the block and offset when known. */
    public String where() {
        StringBuilder s = new StringBuilder("directory inode ").append(directory);
        if (block >= 0) {
            s.append(" block ").append(block);
        }
        if (offset >= 0) {
            s.append(" offset ").append(offset);
        }
        return s.toString();
    }
}
