package io.ferrite.chaos;

import io.ferrite.log.EntryType;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ReadReplicaRequest;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.ReplicaInfo;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.ferrite.proto.v1.Status;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the certified replicas — the bytes recovery would trust — say a table holds: for every
 * segment in each live master's log, a sound (not CORRUPT) replica is read from the backups
 * (ReadReplica), parsed up to its certificate and verified against it; the newest version of
 * each key wins across all logs (a tombstone as new as an object removes it). Recovery may pick
 * any copy of a segment, so the state is built once per choice of copy: the first copy of every
 * segment, then the second, and so on.
 */
final class CertifiedReplicas implements AutoCloseable {
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    /** A key's newest entry in the replicas. */
    record Entry(byte[] value, long version, boolean tombstone) {
    }

    /** The states, one per choice of copy, and what could not be read (a segment without a sound copy…). */
    record Reading(List<Map<String, Entry>> states, List<String> problems) {
    }

    Reading read(Collection<String> masters, Collection<String> backups, long tableId) {
        List<String> problems = new ArrayList<>();
        Map<Long, Map<Long, List<Copy>>> copies = new HashMap<>();
        int most = 1;
        for (String master : masters) {
            ServerStatsResponse stats = control(master).serverStats(ServerStatsRequest.getDefaultInstance());
            Map<Long, List<Copy>> bySegment = new TreeMap<>();
            for (long segment : stats.getLogSegmentIdsList()) {
                bySegment.put(segment, new ArrayList<>());
            }
            for (String backup : backups) {
                for (ReplicaInfo r : control(backup).listReplicas(ListReplicasRequest.newBuilder()
                        .setMasterId(stats.getServerId()).build()).getReplicasList()) {
                    List<Copy> list = bySegment.get(r.getSegmentId());
                    if (list != null && !r.getState().equals("CORRUPT")) {
                        list.add(new Copy(backup, r));
                    }
                }
            }
            for (var e : bySegment.entrySet()) {
                if (e.getValue().isEmpty()) {
                    problems.add("segment " + e.getKey() + " of master " + master + " has no sound replica");
                }
                most = Math.max(most, preferred(e.getValue()));
                e.setValue(recoverable(e.getValue()));
            }
            copies.put(stats.getServerId(), bySegment);
        }
        List<Map<String, Entry>> states = new ArrayList<>();
        for (int choice = 0; choice < most; choice++) {
            Map<String, Entry> state = new HashMap<>();
            for (var master : copies.entrySet()) {
                for (var segment : master.getValue().entrySet()) {
                    List<Copy> list = segment.getValue();
                    if (list.isEmpty()) {
                        continue;
                    }
                    // The chosen copy, else the others in turn: a copy listed a moment ago may be gone
                    // by now (a restarted backup reconciling drops replicas its master replaced), and
                    // recovery would read any sound copy. Only a segment none of whose copies reads
                    // is a problem.
                    // Choices range over the equally preferred copies (the first ones of the list);
                    // the rest are only fallbacks.
                    int chosen = Math.min(choice, preferred(list) - 1);
                    List<Copy> order = new ArrayList<>();
                    order.add(list.get(chosen));
                    for (Copy copy : list) {
                        if (copy != list.get(chosen)) {
                            order.add(copy);
                        }
                    }
                    List<String> failures = new ArrayList<>();
                    boolean read = false;
                    for (int i = 0; i < order.size() && !read; i++) {
                        read = parse(master.getKey(), order.get(i), tableId, state, failures);
                    }
                    if (!read) {
                        problems.addAll(failures);
                    }
                }
            }
            states.add(state);
        }
        return new Reading(states, problems);
    }

    private record Copy(String backup, ReplicaInfo info) {
    }

    /**
     * The copies recovery could read for a segment: it prefers a closed copy, then the highest
     * epoch, then the longest certified prefix (coordinator's {@code CrashedLog}), and picks any
     * of the equally preferred ones. An open copy still being re-replicated next to a closed one
     * is never read by recovery, so it is not a choice here either.
     */
    private static final java.util.Comparator<Copy> PREFERENCE = java.util.Comparator
            .comparing((Copy c) -> !c.info().getClosed())
            .thenComparing(c -> -c.info().getEpoch())
            .thenComparing(c -> c.info().getClosed() ? 0L : -(long) c.info().getCertificateLength());

    /** The copies, most preferred first (the others stay as fallbacks when a preferred one vanishes). */
    private static List<Copy> recoverable(List<Copy> copies) {
        List<Copy> sorted = new ArrayList<>(copies);
        sorted.sort(PREFERENCE);
        return sorted;
    }

    /** How many copies are equally preferred (at least 1). */
    private static int preferred(List<Copy> copies) {
        List<Copy> sorted = recoverable(copies);
        int count = 1;
        while (count < sorted.size() && PREFERENCE.compare(sorted.get(count), sorted.getFirst()) == 0) {
            count++;
        }
        return count;
    }

    /**
     * Merges one copy of a segment into {@code state}.
     *
     * @return false if the copy could not be read whole (nothing merged; why is in {@code problems})
     */
    private boolean parse(long masterId, Copy copy, long tableId, Map<String, Entry> state, List<String> problems) {
        ReplicaInfo info = copy.info();
        ReadReplicaResponse read = control(copy.backup()).readReplica(ReadReplicaRequest.newBuilder()
                .setMasterId(masterId).setSegmentId(info.getSegmentId()).build());
        if (read.getStatus() != Status.OK) {
            problems.add("ReadReplica of segment " + info.getSegmentId() + " of master " + masterId + " on "
                    + copy.backup() + ": " + read.getStatus());
            return false;
        }
        byte[] bytes = read.getBytes().toByteArray();
        if (bytes.length < info.getCertificateLength()) {
            problems.add("segment " + info.getSegmentId() + " on " + copy.backup() + ": " + bytes.length
                    + " bytes read, certificate covers " + info.getCertificateLength());
            return false;
        }
        Map<String, Entry> parsed = new HashMap<>();
        SegmentIterator it = new SegmentIterator(true).reset(SegmentMemory.contiguous(MemorySegment.ofArray(bytes)),
                info.getSegmentId(), new SegmentCertificate(info.getCertificateLength(), info.getCertificateChecksum()));
        int step;
        while ((step = it.next()) == SegmentIterator.ENTRY) {
            if (it.type() == EntryType.OBJECT) {
                ObjectFlyweight o = it.object();
                if (o.tableId() == tableId) {
                    merge(parsed, new String(o.key(), StandardCharsets.UTF_8), new Entry(o.value(), o.version(), false));
                }
            } else if (it.type() == EntryType.TOMBSTONE) {
                TombstoneFlyweight t = it.tombstone();
                if (t.tableId() == tableId) {
                    merge(parsed, new String(t.key(), StandardCharsets.UTF_8), new Entry(null, t.objectVersion(), true));
                }
            }
        }
        if (step != SegmentIterator.END) {
            problems.add("segment " + info.getSegmentId() + " of master " + masterId + " on " + copy.backup()
                    + " does not verify against its certificate");
            return false;
        }
        parsed.forEach((key, entry) -> merge(state, key, entry));
        return true;
    }

    private static void merge(Map<String, Entry> state, String key, Entry entry) {
        state.merge(key, entry, (old, now) -> now.version() > old.version()
                || (now.version() == old.version() && now.tombstone()) ? now : old);
    }

    private ControlServiceGrpc.ControlServiceBlockingStub control(String address) {
        return ControlServiceGrpc.newBlockingStub(channels.computeIfAbsent(address,
                        a -> NettyChannelBuilder.forTarget(a).usePlaintext().maxInboundMessageSize(64 << 20).build()))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
