package org.xfstage.strategies.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.DirectoryEntry;
import org.xfstage.api.device.FileType;
import org.xfstage.api.repair.DirectoryWalkRecord;

/**
 * The fields of a walk record's entry the rebuild's pass by directory reads without the name (DirectoryRebuildPlan)
 * are the entry's: the inode it names, the name's hash, the type it records and its offset.
 */
class WalkRecordFieldsTest {
    @Test
    void anEntrysFieldsReadWithoutItsNameAreTheEntrys() {
        byte[] name = "f123".getBytes(StandardCharsets.US_ASCII);
        for (FileType recorded : new FileType[] {FileType.SYMLINK, null}) {
            DirectoryEntry e = new DirectoryEntry(131, name, 0x9abcdef0, 70_000_000_123L, recorded, 4096 + 48);
            DirectoryWalkRecord r = new DirectoryWalkRecord().entry(e, 77, true, FileType.FILE);
            assertEquals(e.child(), r.child());
            assertEquals(e.hash(), r.hash());
            assertEquals(e.type(), r.entryType());
            assertEquals(e.offset(), r.offset());
            assertEquals(e, r.entry(name), "and the whole entry, with its name, as before");
        }
    }
}
