package org.xfstage.xfarray.internal;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

import org.xfstage.api.staging.StagingException;
import org.xfstage.api.staging.XFile;
import org.xfstage.api.staging.XFileFactory;
import org.xfstage.api.staging.XfBlob;
import org.xfstage.api.staging.XfBlobFactory;

/**
 * Blobs appended to one xfile, each behind a 16-byte key: a magic, the blob's size and the key's own offset (the
 * cookie), as the kernel's xfblob keys them. A load reads the key first and refuses a cookie whose key does not name
 * itself, so a stale or invented cookie can never return another blob's bytes; a freed blob's key is zeroed. Keys are
 * 8-byte aligned; the first lies past offset 0, so 0 is never a cookie.
 */
final class StagedBlob implements XfBlob, Provider.Staged {
    /** Marks a live key ("XBLB"). */
    private static final int MAGIC = 'X' << 24 | 'B' << 16 | 'L' << 8 | 'B';
    private static final int KEY = 16;
    private static final int ALIGN = 8;
    /** Where the first key goes: never 0, so that a zero cookie (a null record field) is never valid. */
    private static final long FIRST = ALIGN;

    private final String name;
    private final XFile file;
    private final XFileFactory files;
    private final Consumer<StagedBlob> onClose;
    private final ByteBuffer key = ByteBuffer.allocate(KEY);
    private long end = FIRST;
    private long count;

    StagedBlob(String name, XFileFactory files, Consumer<StagedBlob> onClose) throws StagingException {
        this.name = name;
        this.files = files;
        this.onClose = onClose;
        this.file = files.create("xfblob " + name);
    }

    @Override
    public boolean madeBy(XFileFactory f) {
        return files == f;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long store(byte[] src, int off, int len) throws StagingException {
        if (len < 0 || len > XfBlobFactory.MAX_BLOB || off < 0 || off + len > src.length) {
            throw new IllegalArgumentException("xfblob " + name + ": a blob of " + len + " bytes at " + off + " of "
                    + src.length + " (at most " + XfBlobFactory.MAX_BLOB + ")");
        }
        long cookie = end;
        key.clear();
        key.putInt(MAGIC).putInt(len).putLong(cookie).flip();
        file.store(cookie, key);
        file.store(cookie + KEY, src, off, len);
        end = align(cookie + KEY + len);
        count++;
        return cookie;
    }

    @Override
    public int size(long cookie) throws StagingException {
        return checkedSize(cookie);
    }

    @Override
    public byte[] load(long cookie) throws StagingException {
        byte[] out = new byte[checkedSize(cookie)];
        file.load(cookie + KEY, out, 0, out.length);
        return out;
    }

    @Override
    public int load(long cookie, byte[] dst, int off) throws StagingException {
        int size = checkedSize(cookie);
        if (off < 0 || dst.length - off < size) {
            throw new StagingException("xfblob " + name + ": the blob at " + cookie + " has " + size + " bytes, the buffer room for "
                    + Math.max(0, dst.length - off));
        }
        file.load(cookie + KEY, dst, off, size);
        return size;
    }

    @Override
    public void free(long cookie) throws StagingException {
        int size = checkedSize(cookie);
        file.discard(cookie, KEY + size); // the key reads as zeros afterwards: the cookie is no longer valid
        count--;
    }

    /** The size the key at {@code cookie} gives, after checking that it is a live key that names itself. */
    private int checkedSize(long cookie) throws StagingException {
        if (cookie < FIRST || cookie + KEY > end || cookie % ALIGN != 0) {
            throw noBlob(cookie);
        }
        key.clear();
        file.load(cookie, key);
        int magic = key.getInt(0);
        int size = key.getInt(Integer.BYTES);
        long self = key.getLong(2 * Integer.BYTES);
        if (magic != MAGIC || self != cookie || size < 0 || cookie + KEY + size > end) {
            throw noBlob(cookie);
        }
        return size;
    }

    private StagingException noBlob(long cookie) {
        return new StagingException("xfblob " + name + ": no blob at cookie " + cookie + " (freed, or not a cookie of this store)");
    }

    private static long align(long pos) {
        return (pos + ALIGN - 1) & -ALIGN;
    }

    @Override
    public long count() {
        return count;
    }

    @Override
    public long bytesUsed() {
        return file.bytesUsed();
    }

    @Override
    public void close() {
        file.close();
        onClose.accept(this);
    }
}
