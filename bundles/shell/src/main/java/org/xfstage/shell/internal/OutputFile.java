package org.xfstage.shell.internal;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;

/**
 * The output of a command run with {@code --output FILE}. It is written to a temporary file in FILE's directory (the
 * same filesystem, so that the final rename is atomic), forced to disk and renamed onto FILE only when the command
 * completes: FILE holds either what it held before or a whole output, never a part of one, even if Karaf or the
 * machine stops halfway.
 */
final class OutputFile {
    private final Path target;
    private final Path temp;
    private final Sink sink;
    private final PrintStream stream;
    private boolean done;

    private OutputFile(Path target, Path temp) throws IOException {
        this.target = target;
        this.temp = temp;
        this.sink = new Sink(Files.newOutputStream(temp, StandardOpenOption.WRITE));
        this.stream = new PrintStream(sink, false, StandardCharsets.UTF_8);
    }

    /**
     * Checks FILE and creates the temporary file beside it, before the command does any work.
     *
     * @param notOnto the files the output must never replace (the image, an undo journal)
     * @throws CommandFailure (status 2) when FILE's directory does not exist or cannot be written, FILE is a
     *                        directory, or FILE is one of {@code notOnto}
     */
    static OutputFile create(String file, Collection<Path> notOnto) throws CommandFailure {
        Path target = Path.of(file).toAbsolutePath().normalize();
        Path dir = target.getParent();
        String cannot = "cannot write the output to " + target + ": ";
        if (dir == null || target.getFileName() == null) {
            throw new CommandFailure(cannot + "not a file name");
        }
        if (!Files.isDirectory(dir)) {
            throw new CommandFailure(cannot + (Files.exists(dir) ? dir + " is not a directory" : "directory " + dir + " does not exist"));
        }
        if (Files.isDirectory(target)) {
            throw new CommandFailure(cannot + "it is a directory");
        }
        for (Path p : notOnto) {
            if (p != null && same(target, p)) {
                throw new CommandFailure("refusing to write the output onto " + p + " (the rename would replace it)");
            }
        }
        Path temp;
        try {
            temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".part");
        } catch (AccessDeniedException e) {
            throw new CommandFailure(cannot + "directory " + dir + " is not writable");
        } catch (IOException e) {
            throw new CommandFailure(cannot + reason(e));
        }
        try {
            return new OutputFile(target, temp);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new CommandFailure(cannot + reason(e));
        }
    }

    /** The same file by path, or (when both exist) by device and inode: a hard link or a symlink to the image. */
    private static boolean same(Path target, Path other) {
        Path o = other.toAbsolutePath().normalize();
        if (o.equals(target)) {
            return true;
        }
        try {
            return Files.exists(target) && Files.exists(o) && Files.isSameFile(target, o);
        } catch (IOException e) {
            return false; // one of them cannot be read: it is not the file the command is about to work on
        }
    }

    /** Where the command prints instead of the console. */
    PrintStream stream() {
        return stream;
    }

    Path target() {
        return target;
    }

    /** Lines written so far. */
    long lines() {
        return sink.lines;
    }

    /**
     * Flushes, forces the temporary file to disk and renames it onto FILE.
     *
     * @throws IOException the first write error of the whole output (PrintStream hides them: disk full, quota), or
     *                     the force or the rename; the temporary file is removed
     */
    void commit() throws IOException {
        try {
            stream.flush();
            if (sink.error != null) {
                throw sink.error;
            }
            stream.close();
            if (sink.error != null) {
                throw sink.error;
            }
            // forced before the rename: after a crash FILE is the old file or the whole new one, never an empty one
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            discard();
        }
    }

    /** Removes the temporary file unless it was renamed onto FILE; FILE is left as it was. */
    void discard() {
        if (!done) {
            done = true;
            stream.close();
            deleteQuietly(temp);
        }
    }

    static String reason(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a leftover ".FILE.*.part" in FILE's directory: harmless, and nothing more can be done about it here
        }
    }

    /** Counts lines and keeps the first write error, which the PrintStream on top of it would swallow. */
    private static final class Sink extends FilterOutputStream {
        long lines;
        IOException error;

        Sink(OutputStream file) {
            super(new java.io.BufferedOutputStream(file, 64 * 1024));
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    lines++;
                }
            }
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                if (error == null) {
                    error = e;
                }
                throw e;
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                if (error == null) {
                    error = e;
                }
                throw e;
            }
        }
    }
}
