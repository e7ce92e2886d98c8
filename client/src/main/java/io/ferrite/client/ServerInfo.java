package io.ferrite.client;

import java.util.List;

/**
 * A server as listed by {@link FerriteClient#servers()}.
 *
 * @param id            server id: high 32 bits index, low 32 bits generation
 * @param address       its data and control address, host:port
 * @param services      the services it runs, e.g. {@code master}, {@code backup}
 * @param status        {@code UP}, {@code CRASHED} or {@code REMOVED}
 * @param failureDomain its failure-domain label, or empty
 */
public record ServerInfo(long id, String address, List<String> services, String status, String failureDomain) {
    /**
     * Copies the service list.
     *
     * @param id            server id
     * @param address       host:port
     * @param services      services
     * @param status        status
     * @param failureDomain failure domain
     */
    public ServerInfo {
        services = List.copyOf(services);
    }

    /**
     * The index half of the id (stable across restarts).
     *
     * @return the index
     */
    public int index() {
        return (int) (id >>> 32);
    }

    /**
     * The generation half of the id (new at each restart).
     *
     * @return the generation
     */
    public int generation() {
        return (int) id;
    }
}
