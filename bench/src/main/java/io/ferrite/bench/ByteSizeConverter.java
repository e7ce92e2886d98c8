package io.ferrite.bench;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses sizes such as {@code 1g}, {@code 256m}, {@code 64k} or {@code 1048576} (binary units). */
public final class ByteSizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String text) {
        return parse(text);
    }

    /**
     * Parses a size in bytes with an optional {@code k}, {@code m} or {@code g} suffix (powers of 1024).
     *
     * @throws TypeConversionException if the text is not such a size or is not positive
     */
    public static long parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("ib") || s.endsWith("b")) {
            s = s.substring(0, s.length() - (s.endsWith("ib") ? 2 : 1));
        }
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        if (unit != 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            long value = Long.parseLong(s);
            if (value <= 0 || value > Long.MAX_VALUE / unit) {
                throw new TypeConversionException("'" + text + "' is not a positive size");
            }
            return value * unit;
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + text + "' is not a size (examples: 1g, 256m, 64k, 1048576)");
        }
    }
}
