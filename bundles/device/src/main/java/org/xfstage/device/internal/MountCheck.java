package org.xfstage.device.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether a filesystem is mounted: its device (or a loop device backed by the image file) appears as the source of
 * a line of the mount table ({@code /proc/self/mountinfo} format; tests give their own file).
 */
final class MountCheck {
    private MountCheck() {
    }

    /** The mount point where {@code source} is mounted, or null. */
    static String mountPoint(Path source, Path mountInfo) throws IOException {
        if (!Files.exists(mountInfo)) {
            return null;
        }
        Path real = source.toRealPath();
        Set<String> names = new HashSet<>();
        names.add(real.toString());
        names.addAll(loopDevicesBackedBy(real));
        String devNumbers = null;
        try {
            Object mode = Files.getAttribute(real, "unix:mode");
            if (mode instanceof Integer m && (m & 0xF000) == 0x6000 && Files.getAttribute(real, "unix:rdev") instanceof Long r) {
                devNumbers = (((r >>> 8) & 0xfff) | ((r >>> 32) & ~0xfffL)) + ":" + ((r & 0xff) | ((r >>> 12) & ~0xffL));
            }
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // no unix attributes: compare by path only
        }
        List<String> lines = Files.readAllLines(mountInfo, StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = java.util.Arrays.asList(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            String mountSource = unescape(f[dash + 2]);
            if (names.contains(mountSource) || (devNumbers != null && devNumbers.equals(f[2]))) {
                return unescape(f[4]);
            }
        }
        return null;
    }

    private static Set<String> loopDevicesBackedBy(Path real) {
        Set<String> out = new HashSet<>();
        Path sys = Path.of("/sys/block");
        if (!Files.isDirectory(sys)) {
            return out;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(sys, "loop*")) {
            for (Path d : dirs) {
                Path backing = d.resolve("loop/backing_file");
                if (Files.isReadable(backing)) {
                    String file = Files.readString(backing, StandardCharsets.UTF_8).trim();
                    if (file.equals(real.toString())) {
                        out.add("/dev/" + d.getFileName());
                    }
                }
            }
        } catch (IOException e) {
            // cannot list loop devices: the path comparison still runs
        }
        return out;
    }

    /** mountinfo escapes space, tab, newline and backslash as \\ooo. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
