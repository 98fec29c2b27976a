package org.xfstage.repair.internal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.xfstage.device.internal.CorpusImages;

/**
 * What xfs_db says a structure is made of: the fuzzable field names of a {@code print}, found as xfstests'
 * common/fuzzy finds them, so that no structure's fields are written down here. The rules (from
 * {@code __filter_xfs_db_print_fields}): every {@code key = value} line is a field; an array range
 * {@code recs[1-56]} stands for its first element; a value {@code [startblock,blockcount]} makes one field per
 * name in it; padding is left out, and so are the fields xfstests leaves out because nothing validates them
 * ({@link #NOT_VALIDATED}). xfstests also leaves out array elements from index 10 on (a directory block prints
 * hundreds, all alike); we stop at index {@link #MAX_INDEX}, which keeps the first entries of each array (".", ".."
 * and a name in a directory block) and makes the full run thousands of cases instead of tens of thousands.
 */
final class XfsDbFields {
    /** How long one xfs_db run may take: it reads one structure of a 512 MiB image, so seconds mean it is stuck. */
    static final long TIMEOUT_SECONDS = 60;

    private static final Pattern RANGE = Pattern.compile("\\[(\\d+)-\\d+\\]");
    private static final Pattern INDEX = Pattern.compile("\\[(\\d+)\\]");
    /** Array elements from this index on are left out. */
    static final int MAX_INDEX = 3;
    /**
     * Last name parts of the fields that nothing checks (xfstests skips them: timestamps, log sequence numbers, the
     * generation, the flush counter, DMAPI fields, flags a user may set on any file).
     */
    static final java.util.Set<String> NOT_VALIDATED = java.util.Set.of("sec", "nsec", "lsn", "gen", "flushiter", "dmevmask",
            "dmstate", "immutable", "append", "sync", "noatime", "nodump", "nodefrag");

    private XfsDbFields() {
    }

    /** The field names of one {@code print} output, in the order xfs_db printed them, without duplicates. */
    static List<String> parse(String printOutput) {
        List<String> out = new ArrayList<>();
        for (String line : printOutput.split("\n")) {
            int eq = line.indexOf(" = ");
            if (eq <= 0 || line.startsWith(" ")) {
                continue;
            }
            String key = RANGE.matcher(line.substring(0, eq).trim()).replaceAll("[$1]");
            String value = line.substring(eq + 3).trim();
            if (value.startsWith("[") && value.indexOf(']') > 0) {
                for (String sub : value.substring(1, value.indexOf(']')).split(",")) {
                    add(out, key + "." + sub.trim());
                }
            } else {
                add(out, key);
            }
        }
        return out;
    }

    private static void add(List<String> out, String field) {
        java.util.regex.Matcher index = INDEX.matcher(field);
        while (index.find()) {
            if (Integer.parseInt(index.group(1)) >= MAX_INDEX) {
                return;
            }
        }
        if (field.contains("pad") || NOT_VALIDATED.contains(field.substring(field.lastIndexOf('.') + 1)) || out.contains(field)) {
            return;
        }
        out.add(field);
    }

    /** The {@code key = value} lines of a print, as a map (the first of each key); continuation lines are skipped. */
    static Map<String, String> values(String printOutput) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : printOutput.split("\n")) {
            int eq = line.indexOf(" = ");
            if (eq > 0 && !line.startsWith(" ")) {
                out.putIfAbsent(line.substring(0, eq).trim(), line.substring(eq + 3).trim());
            }
        }
        return out;
    }

    /** The output of {@code xfs_db [-x] -c nav... -c cmd... image} (stdout and stderr together) and its status. */
    record Run(int status, String output) {
    }

    /** Runs xfs_db read-only: navigation commands, then {@code print}. */
    static String print(Path image, List<String> nav) throws Exception {
        List<String> commands = new ArrayList<>(nav);
        commands.add("print");
        return run(image, false, commands).output();
    }

    /** Runs xfs_db with the commands; a run over {@link #TIMEOUT_SECONDS} is killed and returns status -1. */
    static Run run(Path image, boolean expert, List<String> commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(CorpusImages.tool("xfs_db")));
        if (expert) {
            cmd.add("-x");
        }
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        return exec(cmd, TIMEOUT_SECONDS);
    }

    /** Runs a command with its output read to the end; over the limit it is killed and the status is -1. */
    static Run exec(List<String> cmd, long timeoutSeconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        // read on another thread so that a tool that hangs without closing its output still meets the limit
        java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "";
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Run(-1, out.get() + "\n(killed after " + timeoutSeconds + " s)");
        }
        return new Run(p.exitValue(), out.get());
    }
}
