package io.ferrite.server.zookeeper;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The members of a ZooKeeper ensemble, as the {@code ensemble} setting spells them:
 * {@code ID=HOST:PEER_PORT:ELECTION_PORT} separated by commas, e.g.
 * {@code 1=127.0.0.2:2888:3888,2=127.0.0.3:2888:3888,3=127.0.0.4:2888:3888}. The peer port carries
 * the leader's proposals to followers, the election port the leader election; each member binds
 * both on its own host (and its client port on {@code listen-host}).
 *
 * @param members the members, in the order given
 */
public record ZooKeeperEnsemble(List<Member> members) {
    /** Smallest and largest member id ({@code myid}) accepted. */
    public static final int MIN_ID = 1;
    public static final int MAX_ID = 255;

    /**
     * One member.
     *
     * @param id           its {@code myid}
     * @param host         the address it binds its peer and election ports to, and others reach it at
     * @param peerPort     the quorum (follower to leader) port
     * @param electionPort the leader election port
     */
    public record Member(int id, String host, int peerPort, int electionPort) {
        /** ZooKeeper's {@code server.ID} value: {@code host:peerPort:electionPort}. */
        public String serverAddress() {
            return host + ":" + peerPort + ":" + electionPort;
        }

        @Override
        public String toString() {
            return id + "=" + serverAddress();
        }
    }

    public ZooKeeperEnsemble {
        members = List.copyOf(members);
    }

    /**
     * Parses the {@code ensemble} setting.
     *
     * @param spec {@code ID=HOST:PEER_PORT:ELECTION_PORT[,...]}
     * @throws IllegalArgumentException saying what is wrong with which member (without the setting's name)
     */
    public static ZooKeeperEnsemble parse(String spec) {
        List<Member> members = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        for (String raw : spec.split(",")) {
            String item = raw.trim();
            if (item.isEmpty()) {
                continue;
            }
            Member member = parseMember(item);
            if (!ids.add(member.id())) {
                throw new IllegalArgumentException("member id " + member.id() + " is given twice");
            }
            if (!addresses.add(member.host() + ":" + member.peerPort())
                    || !addresses.add(member.host() + ":" + member.electionPort())) {
                throw new IllegalArgumentException("'" + item + "' reuses a host:port of another member or its own");
            }
            members.add(member);
        }
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no members (expected ID=HOST:PEER_PORT:ELECTION_PORT,...)");
        }
        return new ZooKeeperEnsemble(members);
    }

    private static Member parseMember(String item) {
        String expected = "'" + item + "' is not ID=HOST:PEER_PORT:ELECTION_PORT";
        int equals = item.indexOf('=');
        int lastColon = item.lastIndexOf(':');
        int peerColon = lastColon < 0 ? -1 : item.lastIndexOf(':', lastColon - 1);
        if (equals <= 0 || peerColon <= equals + 1) {
            throw new IllegalArgumentException(expected);
        }
        int id = number(item.substring(0, equals), expected);
        if (id < MIN_ID || id > MAX_ID) {
            throw new IllegalArgumentException("'" + item + "': member id " + id + " is outside " + MIN_ID + ".." + MAX_ID);
        }
        String host = item.substring(equals + 1, peerColon).trim();
        int peerPort = port(item.substring(peerColon + 1, lastColon), item, expected);
        int electionPort = port(item.substring(lastColon + 1), item, expected);
        if (peerPort == electionPort) {
            throw new IllegalArgumentException("'" + item + "': the peer and election ports must differ");
        }
        return new Member(id, host, peerPort, electionPort);
    }

    private static int port(String raw, String item, String expected) {
        int port = number(raw, expected);
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("'" + item + "': port " + port + " is outside 1..65535");
        }
        return port;
    }

    private static int number(String raw, String expected) {
        try {
            return Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(expected, e);
        }
    }

    /** The member with this id, if any. */
    public Optional<Member> member(int id) {
        return members.stream().filter(m -> m.id() == id).findFirst();
    }

    /** How many members must be up for the ensemble to serve: a majority. */
    public int quorumSize() {
        return members.size() / 2 + 1;
    }

    /** The spec form, as {@link #parse} reads it. */
    @Override
    public String toString() {
        return String.join(",", members.stream().map(Member::toString).toList());
    }
}
