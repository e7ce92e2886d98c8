package io.ferrite.server.config;

import java.util.Locale;

/** Byte sizes as people write them: {@code 65536}, {@code 64k}, {@code 512m}, {@code 1g}, {@code 2GiB}. */
public final class Sizes {
    private Sizes() {
    }

    /**
     * Parses a size; units are powers of 1024: {@code k}, {@code m}, {@code g}, {@code t}, each
     * optionally followed by {@code b} or {@code ib}, in any case.
     *
     * @return the size in bytes, or -1 if the text is not a size or overflows
     */
    public static long parse(String text) {
        if (text == null) {
            return -1;
        }
        String s = text.trim().toLowerCase(Locale.ROOT).replace("_", "");
        int end = 0;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        if (end == 0 || end > 19) {
            return -1;
        }
        long number;
        try {
            number = Long.parseLong(s.substring(0, end));
        } catch (NumberFormatException e) {
            return -1;
        }
        String unit = s.substring(end).trim();
        int shift = switch (unit) {
            case "", "b" -> 0;
            case "k", "kb", "kib" -> 10;
            case "m", "mb", "mib" -> 20;
            case "g", "gb", "gib" -> 30;
            case "t", "tb", "tib" -> 40;
            default -> -1;
        };
        if (shift < 0 || number > (Long.MAX_VALUE >> shift)) {
            return -1;
        }
        return number << shift;
    }

    /** A size for humans: {@code 512 MiB}, {@code 1 GiB}, {@code 1536 KiB}, {@code 100 bytes}. */
    public static String format(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        int unit = 0;
        long value = bytes;
        while (unit < units.length - 1 && value != 0 && value % 1024 == 0) {
            value /= 1024;
            unit++;
        }
        return value + " " + units[unit];
    }
}
