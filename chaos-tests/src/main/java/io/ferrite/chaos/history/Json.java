package io.ferrite.chaos.history;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small JSON the history files and reports need: a writer appending to a
 * {@link StringBuilder}, and a parser to {@link Map} / {@link List} / {@link String} /
 * {@link Long} / {@link Double} / {@link Boolean} / null. Not a general-purpose library: no
 * streaming, numbers as long when integral.
 */
final class Json {
    private Json() {
    }

    /** Writes one JSON object, field by field. */
    static final class Obj {
        private final StringBuilder out;
        private boolean first = true;

        Obj(StringBuilder out) {
            this.out = out;
            out.append('{');
        }

        Obj field(String name, long value) {
            name(name).append(value);
            return this;
        }

        Obj field(String name, double value) {
            name(name).append(Double.isFinite(value) ? Double.toString(value) : "null");
            return this;
        }

        Obj field(String name, boolean value) {
            name(name).append(value);
            return this;
        }

        Obj field(String name, String value) {
            if (value == null) {
                name(name).append("null");
            } else {
                quote(name(name), value);
            }
            return this;
        }

        /** A field whose value is raw JSON the caller wrote. */
        StringBuilder raw(String name) {
            return name(name);
        }

        void end() {
            out.append('}');
        }

        private StringBuilder name(String name) {
            if (!first) {
                out.append(',');
            }
            first = false;
            return quote(out, name).append(':');
        }
    }

    static StringBuilder quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    /**
     * Parses one JSON value.
     *
     * @param text the text
     * @return the value
     * @throws IllegalArgumentException on malformed input, naming the offset
     */
    static Object parse(String text) {
        final Parser p = new Parser(text);
        final Object v = p.value();
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        Object value() {
            skipSpace();
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            final char c = s.charAt(pos);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> number();
            };
        }

        private Map<String, Object> object() {
            final Map<String, Object> m = new LinkedHashMap<>();
            pos++;
            skipSpace();
            if (peek() == '}') {
                pos++;
                return m;
            }
            while (true) {
                skipSpace();
                final String name = string();
                skipSpace();
                expect(':');
                m.put(name, value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }

        private List<Object> array() {
            final List<Object> l = new ArrayList<>();
            pos++;
            skipSpace();
            if (peek() == ']') {
                pos++;
                return l;
            }
            while (true) {
                l.add(value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }

        private String string() {
            expect('"');
            final StringBuilder b = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                final char c = s.charAt(pos++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                final char e = s.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> throw error("bad escape");
                }
            }
        }

        private Object number() {
            final int start = pos;
            boolean integral = true;
            while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
                if (".eE".indexOf(s.charAt(pos)) >= 0) {
                    integral = false;
                }
                pos++;
            }
            if (start == pos) {
                throw error("unexpected character");
            }
            final String n = s.substring(start, pos);
            return integral ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, pos)) {
                throw error("unexpected character");
            }
            pos += word.length();
            return v;
        }

        private char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + pos);
        }
    }
}
