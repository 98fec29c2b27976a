package org.xfstage.xfile.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The few Linux system calls Java 17 has no API for: anonymous memory files, space reservation and
 * hole punching. Loaded lazily so that a missing JNA shows up as one clear message at activation.
 */
interface LibC extends Library {
    int O_RDWR = 02;
    int O_CREAT = 0100;
    int O_EXCL = 0200;
    int O_CLOEXEC = 02000000;
    int MFD_CLOEXEC = 1;
    /** fallocate: do not change the file size. */
    int FALLOC_FL_KEEP_SIZE = 1;
    /** fallocate: free the range (needs KEEP_SIZE). */
    int FALLOC_FL_PUNCH_HOLE = 2;
    /** ENOSPC and friends: the staging file system (or memory) is full. */
    int ENOSPC = 28;
    int ENOMEM = 12;
    int EDQUOT = 122;
    /** Offset of st_blocks (512-byte units) in struct stat: the same on x86_64 and the generic (arm64) layout. */
    int STAT_BLOCKS_OFFSET = 64;
    int STAT_SIZE = 144;

    int memfd_create(String name, int flags) throws LastErrorException;

    int open(String path, int flags, int mode) throws LastErrorException;

    int fallocate(int fd, int mode, long offset, long len) throws LastErrorException;

    int fstat(int fd, byte[] statbuf) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    String strerror(int errnum);

    static LibC load() {
        return Native.load("c", LibC.class);
    }
}
