package io.ferrite.coordinator.recovery;

import io.ferrite.log.EntryType;
import io.ferrite.log.MetadataDescriptors;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.ReplicaInfo;
import io.ferrite.proto.v1.SegmentSource;
import io.ferrite.proto.v1.Status;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the backups hold of a crashed master's log, and where recovery reads each segment.
 *
 * <p>The head is the newest segment with a replica whose certified prefix holds its log
 * digest: a master writes header, digest, statistics and safe version into a new head and makes
 * them durable on every replica before it closes the old head or writes anything else, so a
 * newer segment without a certified digest was being opened when the master died and holds
 * nothing acknowledged. Its digest names every segment of the log; each must have a replica:
 * a closed one if any (highest epoch first), else the one with the longest certified prefix —
 * every replica holds at least what was acknowledged (acknowledged ⊆ certified). Replicas of
 * segments the digest does not name (freed, or newer than the head) are ignored.
 *
 * @param headSegmentId 0 if no head was found
 * @param sources       where to read each segment named by the digest that has a replica
 * @param missing       segments named by the digest with no usable replica on a live backup
 * @param tableStats    per table: live bytes and objects when the head was opened
 * @param safeVersion   no object of the crashed master reached this version
 */
public record CrashedLog(long headSegmentId, List<SegmentSource> sources, List<Long> missing,
                         Map<Long, long[]> tableStats, long safeVersion, long replicaBytes) {

    /** A replica held by a backup. */
    public record Held(String backup, ReplicaInfo info) {
    }

    /**
     * Reads the head and plans the sources.
     *
     * @param held  every sound replica of the master on live backups
     * @param reads reads a replica's certified bytes (ReadReplica)
     */
    public static CrashedLog find(long masterId, List<Held> held, RecoveryRpc reads) {
        Map<Long, List<Held>> bySegment = new TreeMap<>(Comparator.reverseOrder());
        for (Held h : held) {
            if (!h.info().getState().equals("CORRUPT")) {
                bySegment.computeIfAbsent(h.info().getSegmentId(), s -> new ArrayList<>()).add(h);
            }
        }
        for (Map.Entry<Long, List<Held>> e : bySegment.entrySet()) {
            List<Held> copies = new ArrayList<>(e.getValue());
            copies.sort(PREFERENCE);
            for (Held copy : copies) {
                Head head = readHead(masterId, copy, reads);
                if (head != null) {
                    return plan(e.getKey(), head, bySegment);
                }
            }
        }
        return new CrashedLog(0, List.of(), List.of(), Map.of(), 0, 0);
    }

    /** Closed first, then highest epoch, then longest certified prefix. */
    private static final Comparator<Held> PREFERENCE = Comparator
            .comparing((Held h) -> !h.info().getClosed())
            .thenComparing(h -> -h.info().getEpoch())
            .thenComparing(h -> -(long) h.info().getCertificateLength());

    private record Head(long[] digest, Map<Long, long[]> tableStats, long safeVersion) {
    }

    private static Head readHead(long masterId, Held copy, RecoveryRpc reads) {
        ReadReplicaResponse read;
        try {
            read = reads.readReplica(copy.backup(), masterId, copy.info().getSegmentId());
        } catch (RecoveryRpc.RecoveryRpcException e) {
            return null;
        }
        if (read.getStatus() != Status.OK) {
            return null;
        }
        byte[] bytes = read.getBytes().toByteArray();
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofArray(bytes));
        SegmentIterator iterator = new SegmentIterator(true);
        int certified = copy.info().getCertificateLength();
        if (bytes.length < certified) {
            return null;
        }
        iterator.reset(memory, copy.info().getSegmentId(),
                new SegmentCertificate(certified, copy.info().getCertificateChecksum()));
        long[] digest = null;
        Map<Long, long[]> stats = new HashMap<>();
        long safeVersion = 0;
        int entries = 0;
        while (iterator.next() == SegmentIterator.ENTRY && entries++ < 4) {
            EntryType type = iterator.type();
            long at = iterator.payloadOffset();
            if (type == EntryType.LOG_DIGEST) {
                digest = MetadataDescriptors.readDigest(memory, at);
            } else if (type == EntryType.SAFE_VERSION) {
                safeVersion = memory.getLong(at);
            } else if (type == EntryType.TABLE_STATS) {
                int count = memory.getInt(at + MetadataDescriptors.STATS_COUNT_OFFSET);
                for (int i = 0; i < count; i++) {
                    long record = at + MetadataDescriptors.STATS_RECORDS_OFFSET
                            + (long) i * MetadataDescriptors.STATS_RECORD_BYTES;
                    stats.put(memory.getLong(record), new long[] {memory.getLong(record + 8), memory.getLong(record + 16)});
                }
            }
        }
        return digest == null ? null : new Head(digest, stats, safeVersion);
    }

    private static CrashedLog plan(long headId, Head head, Map<Long, List<Held>> bySegment) {
        List<SegmentSource> sources = new ArrayList<>();
        List<Long> missing = new ArrayList<>();
        Map<String, Integer> load = new LinkedHashMap<>();
        long bytes = 0;
        long[] named = head.digest();
        if (java.util.Arrays.stream(named).noneMatch(id -> id == headId)) {
            named = java.util.Arrays.copyOf(named, named.length + 1);
            named[named.length - 1] = headId;
        }
        for (long segmentId : named) {
            List<Held> copies = bySegment.getOrDefault(segmentId, List.of());
            if (copies.isEmpty()) {
                missing.add(segmentId);
                continue;
            }
            List<Held> ordered = new ArrayList<>(copies);
            ordered.sort(PREFERENCE);
            Held best = ordered.getFirst();
            // Among equally good copies (same epoch, closed), read from the least loaded backup.
            List<Held> same = ordered.stream().filter(h -> h.info().getEpoch() == best.info().getEpoch()
                    && h.info().getClosed() == best.info().getClosed()
                    && h.info().getCertificateLength() == best.info().getCertificateLength()).toList();
            Held chosen = same.stream().min(Comparator.comparingInt(h -> load.getOrDefault(h.backup(), 0)))
                    .orElse(best);
            load.merge(chosen.backup(), 1, Integer::sum);
            SegmentSource.Builder source = SegmentSource.newBuilder().setSegmentId(segmentId)
                    .setEpoch(chosen.info().getEpoch()).addBackups(chosen.backup());
            for (Held h : ordered) {
                if (h != chosen && h.info().getEpoch() == chosen.info().getEpoch()) {
                    source.addBackups(h.backup());
                }
            }
            bytes += chosen.info().getCertificateLength();
            sources.add(source.build());
        }
        return new CrashedLog(headId, List.copyOf(sources), List.copyOf(missing), head.tableStats(),
                head.safeVersion(), bytes);
    }
}
