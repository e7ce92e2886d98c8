package io.ferrite.server.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@code DATA_DIR/cluster-address}: one line, the coordinators' {@code host:port} list that
 * clients connect to. {@code ferrite local} writes it once the cluster serves and removes it
 * when it stops; {@code ferrite cli} reads it when no {@code --cluster} is given.
 */
public final class ClusterAddressFile {
    /** The file's name inside the data directory. */
    public static final String NAME = "cluster-address";

    private ClusterAddressFile() {
    }

    /**
     * Writes the address atomically (a reader sees the old file or the whole new one).
     *
     * @param file    the file
     * @param address host:port[,host:port...]
     * @throws IOException if it cannot be written
     */
    public static void write(Path file, String address) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temporary, address + "\n", StandardCharsets.UTF_8);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Reads the address.
     *
     * @param file the file
     * @return the address, trimmed
     * @throws IOException if it cannot be read
     * @throws IllegalStateException if it is empty
     */
    public static String read(Path file) throws IOException {
        String address = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (address.isEmpty()) {
            throw new IllegalStateException(file + " is empty");
        }
        return address;
    }
}
