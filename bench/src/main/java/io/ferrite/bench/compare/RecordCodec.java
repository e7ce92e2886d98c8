package io.ferrite.bench.compare;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;

/**
 * How every binding stores a YCSB record: one value holding all its fields, so the three
 * systems keep the same bytes per record (a Redis hash of ten 100-byte fields would leave its
 * compact encoding and measure the encoding, not the store). Layout: a count byte, then per
 * field a name length byte, the name (ASCII), a 4-byte big-endian value length and the value.
 * A YCSB update writes every field ({@code writeallfields=true}), so an update replaces the value.
 */
public final class RecordCodec {
    private RecordCodec() {
    }

    /** Encodes the fields (in map order) into one value. */
    public static byte[] encode(Map<String, ByteIterator> fields) {
        byte[][] names = new byte[fields.size()][];
        byte[][] values = new byte[fields.size()][];
        int size = 1;
        int i = 0;
        for (Map.Entry<String, ByteIterator> field : fields.entrySet()) {
            names[i] = field.getKey().getBytes(StandardCharsets.US_ASCII);
            values[i] = field.getValue().toArray();
            if (names[i].length > 255) {
                throw new IllegalArgumentException("field name longer than 255 bytes: " + field.getKey());
            }
            size += 1 + names[i].length + 4 + values[i].length;
            i++;
        }
        if (names.length > 255) {
            throw new IllegalArgumentException("more than 255 fields: " + names.length);
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put((byte) names.length);
        for (int f = 0; f < names.length; f++) {
            out.put((byte) names[f].length).put(names[f]).putInt(values[f].length).put(values[f]);
        }
        return out.array();
    }

    /**
     * Decodes {@code value} into {@code result}, keeping only {@code wanted} fields (all when null).
     *
     * @throws IllegalArgumentException if the value is not a record this codec wrote
     */
    public static void decode(byte[] value, Set<String> wanted, Map<String, ByteIterator> result) {
        ByteBuffer in = ByteBuffer.wrap(value);
        try {
            int count = Byte.toUnsignedInt(in.get());
            for (int f = 0; f < count; f++) {
                byte[] name = new byte[Byte.toUnsignedInt(in.get())];
                in.get(name);
                int length = in.getInt();
                if (length < 0 || length > in.remaining()) {
                    throw new IllegalArgumentException("field length " + length + " past the record's end");
                }
                String field = new String(name, StandardCharsets.US_ASCII);
                if (wanted == null || wanted.contains(field)) {
                    byte[] bytes = new byte[length];
                    in.get(bytes);
                    result.put(field, new ByteArrayByteIterator(bytes));
                } else {
                    in.position(in.position() + length);
                }
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("record truncated at byte " + in.position() + " of " + value.length, e);
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " bytes after the record's last field");
        }
    }
}
