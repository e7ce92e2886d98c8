package io.ferrite.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A snapshot exported to a file, to import into another table or another cluster (the
 * application migration path), and back. The format, big-endian throughout:
 *
 * <pre>
 * magic      8 bytes  "FRSNAP01"
 * header     table name (u16 length + UTF-8), table id (u64), snapshot id (u64), created at (u64,
 *            ms since the epoch)
 * objects    per object: 0x01, key length (u16), key, value length (u32), value,
 *            version (u64), timestamp seconds (u64)
 * end        0x00, object count (u64), value bytes (u64)
 * checksum   CRC32C (u32) of every byte before it
 * </pre>
 *
 * A file is written under a temporary name and renamed when complete, so a crash mid-export
 * never leaves a file that looks whole. {@link #verify} reads the whole file and checks its
 * framing, limits and checksum; {@link #forEach} does the same while handing out objects, so an
 * import verifies first and writes only from a file that passed.
 */
public final class SnapshotFile {
    /** The first eight bytes of every export file. */
    public static final byte[] MAGIC = "FRSNAP01".getBytes(StandardCharsets.US_ASCII);
    private static final int OBJECT = 1;
    private static final int END = 0;

    /**
     * What a file's header and end say.
     *
     * @param tableName  the exported table's name
     * @param tableId    its id in the source cluster
     * @param snapshotId the snapshot's id there
     * @param createdAtMillis when the snapshot was taken
     * @param objects    objects in the file
     * @param valueBytes value bytes in the file
     */
    public record Summary(String tableName, long tableId, long snapshotId, long createdAtMillis, long objects,
                          long valueBytes) {
    }

    private SnapshotFile() {
    }

    /**
     * Writes every object of {@code snapshot} to {@code file} (replaced if it exists).
     *
     * @return what was written
     * @throws UncheckedIOException if the file cannot be written
     */
    static Summary export(TableSnapshot snapshot, Path file) {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        CRC32C crc = new CRC32C();
        long objects = 0;
        long valueBytes = 0;
        try (OutputStream raw = Files.newOutputStream(partial);
             CheckedOutputStream checked = new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 20), crc);
             DataOutputStream out = new DataOutputStream(checked);
             Stream<ObjectValue> all = snapshot.stream()) {
            out.write(MAGIC);
            byte[] name = snapshot.tableName().getBytes(StandardCharsets.UTF_8);
            out.writeShort(name.length);
            out.write(name);
            out.writeLong(snapshot.tableId());
            out.writeLong(snapshot.id());
            out.writeLong(snapshot.createdAt().toEpochMilli());
            for (var it = all.iterator(); it.hasNext(); ) {
                ObjectValue o = it.next();
                out.writeByte(OBJECT);
                out.writeShort(o.key().length);
                out.write(o.key());
                out.writeInt(o.value().length);
                out.write(o.value());
                out.writeLong(o.version());
                out.writeLong(o.timestampSeconds());
                objects++;
                valueBytes += o.value().length;
            }
            out.writeByte(END);
            out.writeLong(objects);
            out.writeLong(valueBytes);
            out.flush();
            int checksum = (int) crc.getValue();
            out.writeInt(checksum);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("export of snapshot " + snapshot.id() + " to " + file + " failed: "
                    + e.getMessage(), e);
        }
        try {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(partial,
                    java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("export: cannot rename " + partial + " to " + file + ": " + e.getMessage(), e);
        }
        return new Summary(snapshot.tableName(), snapshot.tableId(), snapshot.id(),
                snapshot.createdAt().toEpochMilli(), objects, valueBytes);
    }

    /**
     * Reads the whole file and checks it.
     *
     * @param file the export file
     * @return its summary
     * @throws InvalidArgumentException if it is not a whole, intact export file (says why)
     */
    public static Summary verify(Path file) {
        return read(file, o -> { });
    }

    /**
     * Hands every object of the file to {@code sink} in batches of up to {@code batch}, after
     * checking the whole file (a file that fails its checksum gives nothing to the sink).
     *
     * @param file  the export file
     * @param batch most objects per call of {@code sink}
     * @param sink  receives the objects, in file order
     * @return the file's summary
     */
    public static Summary forEach(Path file, int batch, Consumer<List<ObjectValue>> sink) {
        verify(file);
        return forEachVerified(file, batch, sink);
    }

    /** {@link #forEach} for a file {@link #verify} passed already. */
    static Summary forEachVerified(Path file, int batch, Consumer<List<ObjectValue>> sink) {
        List<ObjectValue> pending = new ArrayList<>(batch);
        Summary summary = read(file, o -> {
            pending.add(o);
            if (pending.size() == batch) {
                sink.accept(List.copyOf(pending));
                pending.clear();
            }
        });
        if (!pending.isEmpty()) {
            sink.accept(List.copyOf(pending));
        }
        return summary;
    }

    private static Summary read(Path file, Consumer<ObjectValue> objects) {
        CRC32C crc = new CRC32C();
        try (InputStream raw = Files.newInputStream(file);
             CheckedInputStream checked = new CheckedInputStream(new BufferedInputStream(raw, 1 << 20), crc);
             DataInputStream in = new DataInputStream(checked)) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw bad(file, "not a Ferrite snapshot export (no FRSNAP01 magic)");
            }
            byte[] name = new byte[in.readUnsignedShort()];
            in.readFully(name);
            long tableId = in.readLong();
            long snapshotId = in.readLong();
            long created = in.readLong();
            long count = 0;
            long valueBytes = 0;
            while (true) {
                int type = in.readUnsignedByte();
                if (type == END) {
                    break;
                }
                if (type != OBJECT) {
                    throw bad(file, "unknown record type " + type + " after " + count + " objects");
                }
                byte[] key = new byte[in.readUnsignedShort()];
                if (key.length == 0) {
                    throw bad(file, "an empty key after " + count + " objects");
                }
                in.readFully(key);
                int valueLength = in.readInt();
                if (valueLength < 0 || valueLength > Table.MAX_VALUE_BYTES) {
                    throw bad(file, "a value of " + valueLength + " bytes after " + count + " objects");
                }
                byte[] value = new byte[valueLength];
                in.readFully(value);
                long version = in.readLong();
                long timestamp = in.readLong();
                objects.accept(new ObjectValue(key, value, version, timestamp));
                count++;
                valueBytes += valueLength;
            }
            long declaredCount = in.readLong();
            long declaredBytes = in.readLong();
            int computed = (int) crc.getValue();
            int stored = in.readInt();
            if (in.read() != -1) {
                throw bad(file, "bytes follow its checksum");
            }
            if (declaredCount != count || declaredBytes != valueBytes) {
                throw bad(file, "its end says " + declaredCount + " objects / " + declaredBytes + " value bytes, it holds "
                        + count + " / " + valueBytes);
            }
            if (stored != computed) {
                throw bad(file, String.format("checksum mismatch (stored %08x, computed %08x): the file is damaged",
                        stored, computed));
            }
            return new Summary(new String(name, StandardCharsets.UTF_8), tableId, snapshotId, created, count, valueBytes);
        } catch (EOFException e) {
            throw bad(file, "it ends early (truncated)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static InvalidArgumentException bad(Path file, String why) {
        return new InvalidArgumentException(file + " is not an intact snapshot export: " + why);
    }
}
