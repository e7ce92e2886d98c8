package io.ferrite.server.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** How the cli shows keys and values: text when they are printable UTF-8, else {@code 0x} and hex. */
final class Values {
    /** How to show a value ({@code get --as}). */
    enum Format {
        /** Text if printable UTF-8, else hex. */
        AUTO,
        /** UTF-8 text, invalid bytes replaced. */
        TEXT,
        /** {@code 0x} and lower-case hex. */
        HEX,
        /** A signed 64-bit integer, 8 bytes little-endian (what {@code incr} stores). */
        INT64,
        /** An IEEE 754 double, 8 bytes little-endian (what {@code incr} with a fractional delta stores). */
        DOUBLE;

        /** The format named (any case), or a usage failure listing the choices. */
        static Format parse(String name) {
            for (Format format : values()) {
                if (format.name().equalsIgnoreCase(name)) {
                    return format;
                }
            }
            throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "--as: '" + name
                    + "' is not one of auto, text, hex, int64, double");
        }
    }

    private Values() {
    }

    static String show(byte[] bytes, Format format) {
        return switch (format) {
            case AUTO -> {
                String text = printableText(bytes);
                yield text != null ? text : hex(bytes);
            }
            case TEXT -> new String(bytes, StandardCharsets.UTF_8);
            case HEX -> hex(bytes);
            case INT64 -> bytes.length == 8 ? Long.toString(littleEndian(bytes).getLong())
                    : fail(bytes, "int64");
            case DOUBLE -> bytes.length == 8 ? Double.toString(littleEndian(bytes).getDouble())
                    : fail(bytes, "double");
        };
    }

    private static String fail(byte[] bytes, String what) {
        throw new CliCommand.Failure(CliCommand.EXIT_FAILED, "the value is " + bytes.length
                + " bytes, not an 8-byte " + what);
    }

    private static ByteBuffer littleEndian(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    static String hex(byte[] bytes) {
        return "0x" + HexFormat.of().formatHex(bytes);
    }

    /** The text if the bytes are valid UTF-8 without control characters (tab, newline, CR allowed), else null. */
    static String printableText(byte[] bytes) {
        CharBuffer chars;
        try {
            chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            return null;
        }
        for (int i = 0; i < chars.length(); i++) {
            char c = chars.charAt(i);
            if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r') {
                return null;
            }
        }
        return chars.toString();
    }
}
