package org.xfstage.repair.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.xfstage.api.device.Feature;
import org.xfstage.api.device.HeaderField;

/**
 * On-disk format knowledge lives in the device bundle only (and the api that names it): the engine, the built-in
 * strategies, the shell and the third-party example hold no XFS constant and no record byte offset. Checked on their
 * sources with comments removed (comments may cite XFS names): no absolute buffer reads or writes at a literal
 * offset, no hexadecimal constants, no wide literal shifts, no feature names or header field names as strings.
 */
class FormatKnowledgeTest {
    /** The sources that must hold no format knowledge, from this module's folder. */
    private static final List<String> SOURCES = List.of("src/main/java", "../strategies-space/src/main/java",
            "../strategies-inodes/src/main/java", "../strategies-namespace/src/main/java", "../shell/src/main/java", "../../examples/strategy-example/src/main/java");

    private static final List<Pattern> RULES = rules();

    private static List<Pattern> rules() {
        List<Pattern> rules = new ArrayList<>();
        rules.add(Pattern.compile("\\.(get|put)(Int|Long|Short|Char)\\(\\s*\\d")); // a record field at a literal offset
        rules.add(Pattern.compile("\\b0[xX][0-9a-fA-F]{2,}")); // a magic number, a mask, NULLAGINO ...
        rules.add(Pattern.compile("\\b1L?\\s*<<\\s*(1\\d|[2-6]\\d)\\b")); // a field width: 1L << 21, 7L << 61 ...
        rules.add(Pattern.compile("\\b\\d+L?\\s*<<\\s*(4\\d|5\\d|6\\d)\\b")); // flag bits at the top of a key
        // feature names: those that are not also the names strategies register under ("finobt", "rmapbt") anywhere,
        // and all of them where a feature list is asked
        StringBuilder features = new StringBuilder();
        StringBuilder onlyFeatures = new StringBuilder();
        for (Feature f : Feature.values()) {
            features.append('|').append(Pattern.quote(f.mkfsName()));
            if (!f.mkfsName().endsWith("bt")) {
                onlyFeatures.append('|').append(Pattern.quote(f.mkfsName()));
            }
        }
        rules.add(Pattern.compile("\"(" + onlyFeatures.substring(1) + ")\""));
        rules.add(Pattern.compile("contains\\(\\s*\"(" + features.substring(1) + ")\""));
        // header fields looked up or set by name (JSON keys the shell prints are not lookups)
        StringBuilder fields = new StringBuilder("unlinked|flfirst|fllast|bno_root|cnt_root|rmap_root|refcount_root|nlink");
        for (Field f : HeaderField.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == HeaderField.class) {
                try {
                    fields.append('|').append(Pattern.quote(((HeaderField) f.get(null)).name()));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        rules.add(Pattern.compile("(\\.get\\(|Map\\.of\\(|Map\\.entry\\(|, )\\s*\"(" + fields + ")\\w*\""));
        rules.add(Pattern.compile("\"unlinked\"")); // a bucket of the AGI by name
        return rules;
    }

    @Test
    void noFormatConstantOrRecordOffsetOutsideTheDevice() throws IOException {
        List<String> found = new ArrayList<>();
        int files = 0;
        for (String root : SOURCES) {
            Path dir = Path.of(root);
            assertTrue(Files.isDirectory(dir), "sources to check are missing: " + dir.toAbsolutePath());
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.filter(x -> x.toString().endsWith(".java")).toList()) {
                    files++;
                    found.addAll(violations(p.toString(), Files.readString(p)));
                }
            }
        }
        assertTrue(files > 20, "checked only " + files + " files");
        assertEquals(List.of(), found, "format knowledge outside bundles/device");
    }

    @Test
    void theCheckFindsWhatItForbids() {
        String code = """
                class X {
                    // NULLAGINO is 0xffffffff: a comment may say so
                    long a = r.getInt(4) & 0xffffffffL;
                    boolean b = info.features().contains("rmapbt");
                    long c = (1L << 21) - 1;
                    long d = offset & ~(7L << 61);
                    Map<String, Long> e = Map.of("freeblks", 1L, "unlinked" + i, 2L);
                    boolean f = on(info, "reflink");
                    long g = agf.get("flcount");
                    Finding h = new Finding("rmapbt", agno, "where", "what", null);
                    json.put("icount", 7);
                    long ok = rec.agbno() + 1;
                }
                """;
        List<String> v = violations("X.java", code);
        assertEquals(7, v.size(), String.join("\n", v));
        assertTrue(v.stream().noneMatch(x -> x.contains(":2:")), "comments are not checked: " + v);
    }

    static List<String> violations(String name, String source) {
        List<String> out = new ArrayList<>();
        String[] lines = withoutComments(source).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            for (Pattern rule : RULES) {
                Matcher m = rule.matcher(lines[i]);
                if (m.find()) {
                    out.add(name + ":" + (i + 1) + ": " + m.group() + "  (" + lines[i].strip() + ")");
                    break;
                }
            }
        }
        return out;
    }

    /** The source with comments blanked out, line breaks kept (so line numbers stay right). */
    static String withoutComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"' || c == '\'') { // a literal: copied as it is (a text block is three of these in a row)
                int j = i + 1;
                while (j < s.length() && s.charAt(j) != c && s.charAt(j) != '\n') {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, s.length());
                out.append(s, i, j);
                i = j;
            } else if (s.startsWith("//", i)) {
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                end = end < 0 ? s.length() : end + 2;
                for (int k = i; k < end; k++) {
                    if (s.charAt(k) == '\n') {
                        out.append('\n');
                    }
                }
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
