package org.xfstage.itests;

/**
 * A strict check that a string is exactly one JSON value (RFC 8259: objects, arrays, strings with their escapes,
 * numbers, true, false, null; white space only around them), for outputs read back through bin/client, where a cut
 * line must not pass for a whole one. Lenient parsers (Gson's default) would accept some cut lines.
 */
final class JsonSyntax {
    private final String s;
    private int i;

    private JsonSyntax(String s) {
        this.s = s;
    }

    static boolean isValid(String text) {
        JsonSyntax p = new JsonSyntax(text);
        try {
            p.value(0);
            p.space();
            return p.i == text.length();
        } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
            return false;
        }
    }

    private void value(int depth) {
        if (depth > 512) {
            throw new IllegalArgumentException("too deep");
        }
        space();
        char c = s.charAt(i);
        if (c == '{') {
            i++;
            space();
            if (s.charAt(i) == '}') {
                i++;
                return;
            }
            do {
                space();
                string();
                space();
                expect(':');
                value(depth + 1);
                space();
            } while (s.charAt(i++) == ',');
            if (s.charAt(i - 1) != '}') {
                throw new IllegalArgumentException("object");
            }
        } else if (c == '[') {
            i++;
            space();
            if (s.charAt(i) == ']') {
                i++;
                return;
            }
            do {
                value(depth + 1);
                space();
            } while (s.charAt(i++) == ',');
            if (s.charAt(i - 1) != ']') {
                throw new IllegalArgumentException("array");
            }
        } else if (c == '"') {
            string();
        } else if (s.startsWith("true", i) || s.startsWith("null", i)) {
            i += 4;
        } else if (s.startsWith("false", i)) {
            i += 5;
        } else {
            number();
        }
    }

    private void string() {
        expect('"');
        while (true) {
            char c = s.charAt(i++);
            if (c == '"') {
                return;
            }
            if (c < 0x20) {
                throw new IllegalArgumentException("control character in a string");
            }
            if (c == '\\') {
                char e = s.charAt(i++);
                if (e == 'u') {
                    for (int k = 0; k < 4; k++) {
                        if (Character.digit(s.charAt(i++), 16) < 0) {
                            throw new IllegalArgumentException("\\u escape");
                        }
                    }
                } else if ("\"\\/bfnrt".indexOf(e) < 0) {
                    throw new IllegalArgumentException("escape");
                }
            }
        }
    }

    private void number() {
        int start = i;
        if (s.charAt(i) == '-') {
            i++;
        }
        if (s.charAt(i) == '0') {
            i++;
        } else {
            digits();
        }
        if (i < s.length() && s.charAt(i) == '.') {
            i++;
            digits();
        }
        if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (s.charAt(i) == '+' || s.charAt(i) == '-') {
                i++;
            }
            digits();
        }
        if (i == start) {
            throw new IllegalArgumentException("not a value");
        }
    }

    private void digits() {
        int start = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        if (i == start) {
            throw new IllegalArgumentException("digits");
        }
    }

    private void expect(char c) {
        if (s.charAt(i++) != c) {
            throw new IllegalArgumentException("expected " + c);
        }
    }

    private void space() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
    }
}
