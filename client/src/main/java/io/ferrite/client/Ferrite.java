package io.ferrite.client;

import io.ferrite.client.ops.ClientRuntime;

import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of the SDK.
 *
 * <pre>{@code
 * try (FerriteClient client = Ferrite.connect("10.0.0.1:7100,10.0.0.2:7100")) {
 *     Table users = client.table("users");
 *     long version = users.write("alice", "{\"age\":31}");
 *     users.read("alice").ifPresent(v -> System.out.println(v.valueAsString()));
 * }
 * }</pre>
 */
public final class Ferrite {
    private Ferrite() {
    }

    /**
     * Connects to a cluster with default options.
     *
     * @param addresses the coordinators, {@code host:port} separated by commas
     * @return the client (no network traffic yet)
     * @throws InvalidArgumentException if no address is given
     */
    public static FerriteClient connect(String addresses) {
        return connect(addresses, ClientOptions.defaults());
    }

    /**
     * Connects to a cluster.
     *
     * @param addresses the coordinators, {@code host:port} separated by commas
     * @param options   the client's options
     * @return the client (no network traffic yet)
     * @throws InvalidArgumentException if no address is given
     */
    public static FerriteClient connect(String addresses, ClientOptions options) {
        return new FerriteClient(new ClientRuntime(parseAddresses(addresses), options));
    }

    static List<String> parseAddresses(String addresses) {
        if (addresses == null) {
            throw new InvalidArgumentException("no coordinator address given");
        }
        List<String> result = new ArrayList<>();
        for (String part : addresses.split(",")) {
            String a = part.trim();
            if (!a.isEmpty() && !result.contains(a)) {
                result.add(a);
            }
        }
        if (result.isEmpty()) {
            throw new InvalidArgumentException("no coordinator address in \"" + addresses + "\"");
        }
        return List.copyOf(result);
    }
}
