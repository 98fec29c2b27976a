package org.xfstage.repair.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.xfstage.repair.internal.FuzzCase.Target;

/**
 * The structures a fuzz run damages on one corpus image, each with the xfs_db commands that reach it: the primary
 * and one secondary superblock, AG 0's headers, a leaf of every btree the image has (and a node where the tree has
 * two levels or more), inodes (a regular file with its data fork in extents, one in btree format, a directory and a
 * symlink, both local), the bmbt leaf of the btree-format file, directory blocks of every form (the block of a block
 * directory; the data and leaf blocks of a leaf directory; the node, a leaf and the free index of a node directory)
 * the block of a remote symlink, and attribute blocks: a leaf (with a remote value), and the node and a leaf under it
 * of a fork of forty attributes. The corpus has no extended attributes (mkfs.xfs -p cannot make them): an attribute
 * target's commands make them first with xfs_db's attr_set ({@link NamespaceRecipes#withAttributes}), so it is
 * printed on a scratch copy ({@link #print}) and each case applies it to its own copy, as every case does. The corpus
 * tree ({@code Corpus.fullTree} in the device's tests) names the paths. Where
 * the corpus has a structure in a form we expect (a btree-format file, a node directory), its magic number is checked
 * as xfs_db prints it, so a corpus change that moves one fails here instead of fuzzing something else.
 */
final class FuzzTargets {
    /** Directory blocks: the leaf and free index spaces start at these byte offsets (XFS_DIR2_LEAF_OFFSET, _FREE_OFFSET). */
    private static final long DIR_LEAF_OFFSET = 1L << 35;
    private static final long DIR_FREE_OFFSET = 1L << 36;

    private FuzzTargets() {
    }

    /** Every target of the image, in a fixed order; trees the geometry does not have are left out. */
    static List<Target> of(Path image) throws Exception {
        List<Target> out = new ArrayList<>();
        out.add(new Target("sb-primary", List.of("sb 0")));
        out.add(new Target("sb-secondary", List.of("sb 1")));
        out.add(new Target("agf", List.of("agf 0")));
        out.add(new Target("agfl", List.of("agfl 0")));
        out.add(new Target("agi", List.of("agi 0")));

        Map<String, String> agf = XfsDbFields.values(XfsDbFields.print(image, List.of("agf 0")));
        Map<String, String> agi = XfsDbFields.values(XfsDbFields.print(image, List.of("agi 0")));
        tree(out, "bnobt", "agf 0", "bnoroot", agf.get("bnolevel"));
        tree(out, "cntbt", "agf 0", "cntroot", agf.get("cntlevel"));
        tree(out, "inobt", "agi 0", "root", agi.get("level"));
        tree(out, "finobt", "agi 0", "free_root", agi.get("free_level"));
        tree(out, "rmapbt", "agf 0", "rmaproot", agf.get("rmaplevel"));
        tree(out, "refcountbt", "agf 0", "refcntroot", agf.get("refcntlevel"));

        out.add(inode(image, "inode-file", "/size-65553", "2 (extents)"));
        out.add(inode(image, "inode-file-btree", "/fragmented", "3 (btree)"));
        out.add(checked(image, new Target("bmbt-leaf", List.of("path /fragmented", "addr u3.bmbt.ptrs[1]")), "magic", "0x424d4133"));
        out.add(inode(image, "inode-dir-local", "/sf", "1 (local)"));
        out.add(inode(image, "inode-symlink-local", "/link-short", "1 (local)"));

        Map<String, String> sb = XfsDbFields.values(XfsDbFields.print(image, List.of("sb 0")));
        int blockLog = Integer.parseInt(sb.get("blocklog"));
        long dirBlock = 1L << Integer.parseInt(sb.get("dirblklog")); // in filesystem blocks
        long leaf = DIR_LEAF_OFFSET >> blockLog;
        long free = DIR_FREE_OFFSET >> blockLog;
        out.add(checked(image, new Target("dir-block", List.of("path /block", "dblock 0")), "bhdr.hdr.magic", "0x58444233"));
        out.add(checked(image, new Target("dir-data", List.of("path /leaf", "dblock 0")), "dhdr.hdr.magic", "0x58444433"));
        out.add(checked(image, new Target("dir-leaf", List.of("path /leaf", "dblock " + leaf)), "lhdr.info.hdr.magic", "0x3df1"));
        out.add(checked(image, new Target("dir-node", List.of("path /node", "dblock " + leaf)), "nhdr.info.hdr.magic", "0x3ebe"));
        out.add(checked(image, new Target("dir-leafn", List.of("path /node", "dblock " + (leaf + dirBlock))), "lhdr.info.hdr.magic", "0x3dff"));
        out.add(checked(image, new Target("dir-free", List.of("path /node", "dblock " + free)), "fhdr.hdr.magic", "0x58444633"));
        out.add(checked(image, new Target("symlink-block", List.of("path /link-long", "dblock 0")), "magic", "0x58534c4d"));
        // attribute blocks: the leaf and node magic numbers with CRCs (XFS_ATTR3_LEAF_MAGIC, XFS_DA3_NODE_MAGIC) or without
        boolean crc = sb.containsKey("crc");
        String leafMagic = crc ? "0x3bee" : "0xfbee";
        String nodeMagic = crc ? "0x3ebe" : "0xfebe";
        out.add(checked(image, attributes("attr-leaf", "leaf", "ablock 0"), "hdr.info.hdr.magic", leafMagic));
        out.add(checked(image, attributes("attr-node", "node", "ablock 0"), "hdr.info.hdr.magic", nodeMagic));
        out.add(checked(image, attributes("attr-leafn", "node", "ablock 1"), "hdr.info.hdr.magic", leafMagic));
        return out;
    }

    /** A block of the attribute fork {@code form} (NamespaceRecipes#withAttributes) that xfs_db's attr_set makes first. */
    private static Target attributes(String kind, String form, String block) {
        return new Target(kind, NamespaceRecipes.withAttributes(form, block));
    }

    /** Whether the target's commands write (attributes made first): then it is printed on a copy. */
    static boolean writes(Target t) {
        return t.nav().stream().anyMatch(c -> c.startsWith("attr_set"));
    }

    /**
     * What xfs_db prints at the target: read from the image itself, or, for a target whose commands write, from a
     * scratch copy with -x (the corpus image is shared by every test and is never written).
     */
    static String print(Path image, Target t) throws Exception {
        if (!writes(t)) {
            return XfsDbFields.print(image, t.nav());
        }
        Path copy = java.nio.file.Files.createTempFile("fuzz-target", ".img");
        try {
            FuzzOracleTest.sparseCopy(image, copy);
            List<String> commands = new ArrayList<>(t.nav());
            commands.add("print");
            return XfsDbFields.run(copy, true, commands).output();
        } finally {
            java.nio.file.Files.deleteIfExists(copy);
        }
    }

    /** A leaf of the tree (the first at each level down), and its root as a node when it has two levels or more. */
    private static void tree(List<Target> out, String name, String header, String rootField, String level) {
        int levels = level == null || level.isEmpty() ? 0 : Integer.parseInt(level);
        if (levels < 1) {
            return; // not on this geometry (no rmapbt, no finobt, no reflink)
        }
        List<String> nav = new ArrayList<>(List.of(header, "addr " + rootField));
        if (levels > 1) {
            out.add(new Target(name + "-node", List.copyOf(nav)));
        }
        for (int l = levels; l > 1; l--) {
            nav.add("addr ptrs[1]");
        }
        out.add(new Target(name + "-leaf", nav));
    }

    private static Target inode(Path image, String kind, String path, String format) throws Exception {
        return checked(image, new Target(kind, List.of("path " + path)), "core.format", format);
    }

    /** The target, after checking that xfs_db prints {@code field} as {@code expected} there. */
    private static Target checked(Path image, Target t, String field, String expected) throws Exception {
        String got = XfsDbFields.values(print(image, t)).get(field);
        if (!expected.equals(got)) {
            throw new AssertionError(t + ": " + field + " is " + got + ", not " + expected + " (did the corpus tree change?)");
        }
        return t;
    }
}
