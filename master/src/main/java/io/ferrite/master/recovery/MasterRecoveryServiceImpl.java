package io.ferrite.master.recovery;

import io.ferrite.log.KeyRanges;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import io.ferrite.master.replication.ReplicaManager;
import io.ferrite.proto.v1.BackupRecoveryServiceGrpc;
import io.ferrite.proto.v1.KeyHashRange;
import io.ferrite.proto.v1.MasterRecoveryServiceGrpc;
import io.ferrite.proto.v1.ReadRecoveryDataRequest;
import io.ferrite.proto.v1.ReadRecoveryDataResponse;
import io.ferrite.proto.v1.RecoverPartitionRequest;
import io.ferrite.proto.v1.RecoverPartitionResponse;
import io.ferrite.proto.v1.RecoveryPartition;
import io.ferrite.proto.v1.SegmentSource;
import io.ferrite.proto.v1.Status;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recovery master's edge: {@code RecoverPartition} rebuilds one partition of a crashed
 * master's tablets here.
 *
 * <ol>
 *   <li>Refuse what must be refused: a stale coordinator epoch, another server's request, a
 *       lease that is not valid, a partition larger than the room left (RETRY: the coordinator
 *       tries another master; never an OutOfMemoryError).</li>
 *   <li>Forget anything an abandoned earlier attempt left in these ranges.</li>
 *   <li>Fetch each segment's entries of the partition from the first backup listed that answers
 *       (up to {@value #FETCHES_IN_FLIGHT} fetches in flight) and replay them as they arrive
 *       ({@link PartitionReplay}).</li>
 *   <li>Raise the version counter above the crashed master's safe version and every version
 *       replayed, wait until everything appended is durable on this master's backups, and only
 *       then take ownership of the ranges: from here on the data is this master's.</li>
 * </ol>
 * A repeated request for the same (crashed master, ranges) joins the running attempt or gets the
 * finished answer, so the coordinator can re-send after any failure.
 */
public final class MasterRecoveryServiceImpl extends MasterRecoveryServiceGrpc.MasterRecoveryServiceImplBase
        implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MasterRecoveryServiceImpl.class);
    static final int FETCHES_IN_FLIGHT = 4;
    /**
     * Partitions replayed at once here; others wait their turn (the coordinator's call allows
     * minutes). As in RAMCloud, a recovery master takes one partition at a time: measured with
     * ten at once per master on two cores, the recovery starved the masters' own heartbeats and
     * two live recovery masters were declared CRASHED.
     */
    static final int REPLAYS_AT_ONCE = 1;
    private static final long FETCH_DEADLINE_MS = 30_000;
    private static final long DURABLE_TIMEOUT_MS = 60_000;
    private static final int FINISHED_KEPT = 256;
    /** Fewer bytes than any object entry takes in the log (for bounding an estimate of objects). */
    private static final long MIN_ENTRY_BYTES = 32;

    /** Where recovered ranges become this master's. */
    public interface RangeOwner {
        /** Serves the range from now on. */
        void take(long tableId, long startHash, long endHash);

        /** Whether the whole range is served here already. */
        boolean owns(long tableId, long startHash, long endHash);
    }

    private final ObjectManager engine;
    private final RangeOwner owner;
    private final LongSupplier selfId;
    private final BooleanSupplier serving;
    private final LongPredicate admitCoordinatorEpoch;
    private final Function<String, Channel> channels;
    private final ExecutorService replayers = Executors.newThreadPerTaskExecutor(
            Thread.ofPlatform().name("ferrite-recovery-", 0).daemon().factory());
    private final ExecutorService fetchers = Executors.newFixedThreadPool(FETCHES_IN_FLIGHT,
            Thread.ofPlatform().name("ferrite-recovery-fetch-", 0).daemon().factory());
    private final Map<Attempt, CompletableFuture<RecoverPartitionResponse>> running = new ConcurrentHashMap<>();
    private final Map<Attempt, RecoverPartitionResponse> finished = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Attempt, RecoverPartitionResponse> eldest) {
                    return size() > FINISHED_KEPT;
                }
            });
    private final java.util.concurrent.Semaphore replaySlots = new java.util.concurrent.Semaphore(REPLAYS_AT_ONCE, true);
    private final AtomicLong bytesReplayed = new AtomicLong();
    private final AtomicLong partitionsRecovered = new AtomicLong();

    private record Attempt(long crashedMasterId, KeyRanges ranges) {
    }

    /**
     * @param selfId                this server's id (0 before registration)
     * @param serving               whether this server's lease lets it serve
     * @param admitCoordinatorEpoch the coordinator fencing check
     * @param channels              a channel to a backup's address (host:port), kept by the caller
     */
    public MasterRecoveryServiceImpl(ObjectManager engine, RangeOwner owner, LongSupplier selfId,
                                     BooleanSupplier serving, LongPredicate admitCoordinatorEpoch,
                                     Function<String, Channel> channels) {
        this.engine = engine;
        this.owner = owner;
        this.selfId = selfId;
        this.serving = serving;
        this.admitCoordinatorEpoch = admitCoordinatorEpoch;
        this.channels = channels;
    }

    /** Entry bytes replayed into this master by recoveries, and partitions recovered. */
    public long bytesReplayed() {
        return bytesReplayed.get();
    }

    public long partitionsRecovered() {
        return partitionsRecovered.get();
    }

    @Override
    public void recoverPartition(RecoverPartitionRequest request, StreamObserver<RecoverPartitionResponse> out) {
        RecoverPartitionResponse refusal = check(request);
        if (refusal != null) {
            reply(out, refusal);
            return;
        }
        Attempt attempt = new Attempt(request.getCrashedMasterId(), ranges(request.getRangesList()));
        RecoverPartitionResponse done = finished.get(attempt);
        if (done != null) {
            reply(out, done);
            return;
        }
        running.computeIfAbsent(attempt, a -> CompletableFuture.supplyAsync(() -> run(a, request), replayers))
                .whenComplete((response, failure) -> {
                    if (failure != null) {
                        out.onError(io.grpc.Status.INTERNAL.withDescription("recovery failed: " + failure)
                                .asRuntimeException());
                    } else {
                        reply(out, response);
                    }
                });
    }

    /** The answer to a request that must be refused before any work, or null. */
    private RecoverPartitionResponse check(RecoverPartitionRequest request) {
        var response = RecoverPartitionResponse.newBuilder();
        if (request.getCrashedMasterId() == 0 || request.getRangesCount() == 0) {
            return response.setStatus(Status.INVALID_ARGUMENT)
                    .setMessage("crashed_master_id and at least one range are required").build();
        }
        try {
            ranges(request.getRangesList());
        } catch (IllegalArgumentException e) {
            return response.setStatus(Status.INVALID_ARGUMENT).setMessage(e.getMessage()).build();
        }
        for (SegmentSource source : request.getSegmentsList()) {
            if (source.getBackupsCount() == 0) {
                return response.setStatus(Status.INVALID_ARGUMENT)
                        .setMessage("segment " + source.getSegmentId() + " names no backup").build();
            }
        }
        if (!admitCoordinatorEpoch.test(request.getCoordinatorEpoch())) {
            return response.setStatus(Status.STALE_COORDINATOR)
                    .setMessage("stale coordinator epoch " + request.getCoordinatorEpoch()).build();
        }
        long self = selfId.getAsLong();
        if (request.getServerId() != 0 && request.getServerId() != self) {
            return response.setStatus(Status.WRONG_SERVER).setMessage("this is server "
                    + Long.toHexString(self) + ", not " + Long.toHexString(request.getServerId())).build();
        }
        if (!serving.getAsBoolean()) {
            return response.setStatus(Status.RETRY).setMessage("this server's lease is not valid").build();
        }
        return null;
    }

    private RecoverPartitionResponse run(Attempt attempt, RecoverPartitionRequest request) {
        KeyRanges ranges = attempt.ranges();
        var response = RecoverPartitionResponse.newBuilder();
        long indexReserved = 0;
        boolean slot = false;
        try {
            if (ranges.ranges().stream().allMatch(r -> owner.owns(r.tableId(), r.startHash(), r.endHash()))) {
                return finish(attempt, position(response.setStatus(Status.OK)
                        .setMessage("already recovered here")).build());
            }
            replaySlots.acquire();
            slot = true;
            long room = engine.roomBytes();
            if (request.getEstimatedBytes() > room) {
                return response.setStatus(Status.RETRY).setMessage("no room: the partition needs about "
                        + request.getEstimatedBytes() + " bytes, this master has " + room).build();
            }
            long t0 = System.nanoTime();
            forget(ranges);
            // Size the index for the partition once (an estimate; bounded by what the room could hold).
            indexReserved = Math.min(request.getEstimatedObjects(), room / MIN_ENTRY_BYTES);
            engine.reserveIndex(indexReserved);
            PartitionReplay replay = new PartitionReplay(engine, ranges);
            String missing = fetchAndReplay(request, replay);
            if (missing != null) {
                forget(ranges);
                return response.setStatus(Status.OBJECT_DOESNT_EXIST).setMessage(missing).build();
            }
            engine.raiseNextVersion(Math.max(request.getSafeVersion(), replay.highestVersion() + 1));
            long durableFrom = System.nanoTime();
            awaitDurable();
            long durableWait = System.nanoTime() - durableFrom;
            if (!serving.getAsBoolean()) {
                forget(ranges);
                return response.setStatus(Status.RETRY).setMessage("lease lost during replay").build();
            }
            // A newer coordinator may have taken over meanwhile (and given the partition to another
            // master): check the fence again before the step that makes the result visible.
            if (!admitCoordinatorEpoch.test(request.getCoordinatorEpoch())) {
                forget(ranges);
                return response.setStatus(Status.STALE_COORDINATOR).setMessage("stale coordinator epoch "
                        + request.getCoordinatorEpoch() + " after replay").build();
            }
            for (KeyRanges.Range r : ranges.ranges()) {
                owner.take(r.tableId(), r.startHash(), r.endHash());
            }
            long nanos = System.nanoTime() - t0;
            bytesReplayed.addAndGet(replay.bytes());
            partitionsRecovered.incrementAndGet();
            LOG.info("recovered {} of crashed master {}: {} objects ({} kept), {} tombstones, {} MB in {} ms"
                            + " ({} MB/s; waiting for fetches {} ms, replaying {} ms, waiting for durability {} ms),"
                            + " durable and served", ranges, Long.toHexString(attempt.crashedMasterId()),
                    replay.objects(), replay.objectsKept(), replay.tombstones(), replay.bytes() / 1_000_000,
                    nanos / 1_000_000, nanos == 0 ? 0 : replay.bytes() * 1_000 / nanos, replay.fetchWaitNanos() / 1_000_000,
                    replay.replayNanos() / 1_000_000, durableWait / 1_000_000);
            return finish(attempt, position(response.setStatus(Status.OK).setObjects(replay.objectsKept())
                    .setTombstones(replay.tombstones()).setBytesReplayed(replay.bytes()).setReplayNanos(nanos))
                    .build());
        } catch (PartitionReplay.NoRoomException e) {
            forget(ranges);
            return response.setStatus(Status.RETRY).setMessage("no room: " + e.getMessage()).build();
        } catch (PartitionReplay.BadEntriesException e) {
            forget(ranges);
            return response.setStatus(Status.RETRY).setMessage(e.getMessage()).build();
        } catch (TimeoutException e) {
            LOG.warn("recovery of {} of crashed master {}: the replayed data did not become durable on this master's"
                    + " backups within {} ms; giving the partition up", ranges,
                    Long.toHexString(attempt.crashedMasterId()), DURABLE_TIMEOUT_MS);
            forget(ranges);
            return response.setStatus(Status.RETRY).setMessage("the replayed data did not become durable within "
                    + DURABLE_TIMEOUT_MS + " ms (too few live backups?)").build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            forget(ranges);
            return response.setStatus(Status.RETRY).setMessage("interrupted").build();
        } catch (RuntimeException e) {
            LOG.error("recovery of {} of crashed master {} failed", ranges,
                    Long.toHexString(attempt.crashedMasterId()), e);
            try {
                forget(ranges);
            } catch (RuntimeException again) {
                LOG.error("forgetting the abandoned recovery of {} failed too", ranges, again);
            }
            return response.setStatus(Status.RETRY).setMessage("failed: " + e).build();
        } finally {
            engine.releaseIndex(indexReserved);
            if (slot) {
                replaySlots.release();
            }
            running.remove(attempt);
        }
    }

    private RecoverPartitionResponse finish(Attempt attempt, RecoverPartitionResponse response) {
        finished.put(attempt, response);
        return response;
    }

    private void forget(KeyRanges ranges) {
        long dropped = engine.dropWhere(t -> ranges.ranges().stream().anyMatch(r -> r.tableId() == t),
                ranges::contains);
        if (dropped > 0) {
            LOG.info("forgot {} object(s) of {} left by an abandoned recovery", dropped, ranges);
        }
    }

    /**
     * Fetches every segment's entries (a window of fetches in flight) and replays them here as
     * they arrive; returns null, or why a segment could not be read from any of its backups.
     */
    private String fetchAndReplay(RecoverPartitionRequest request, PartitionReplay replay)
            throws InterruptedException {
        List<KeyHashRange> ranges = request.getRangesList();
        // Partitions start at different places in the segment list (replay order does not
        // matter): their first reads then go to different replicas, and each cut a backup makes
        // serves the other partitions when they get there, rather than all of them queuing
        // behind the same first replica.
        List<SegmentSource> segments = request.getSegmentsList();
        int start = segments.size() * spreadIndex(request) / (request.getOtherPartitionsCount() + 1);
        Deque<SegmentSource> pending = new ArrayDeque<>(segments.size());
        pending.addAll(segments.subList(start, segments.size()));
        pending.addAll(segments.subList(0, start));
        Deque<Future<Fetched>> inFlight = new ArrayDeque<>();
        try {
            while (!pending.isEmpty() || !inFlight.isEmpty()) {
                while (inFlight.size() < FETCHES_IN_FLIGHT && !pending.isEmpty()) {
                    SegmentSource source = pending.poll();
                    inFlight.add(fetchers.submit(() -> fetch(request.getCrashedMasterId(), source, ranges,
                            request.getOtherPartitionsList())));
                }
                Fetched fetched;
                long waitFrom = System.nanoTime();
                try {
                    fetched = inFlight.poll().get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("fetch failed", e.getCause());
                }
                if (fetched.entries() == null) {
                    return fetched.problem();
                }
                long replayFrom = System.nanoTime();
                replay.replay(fetched.segmentId(), fetched.entries().asReadOnlyByteBuffer());
                replay.timed(replayFrom - waitFrom, System.nanoTime() - replayFrom);
            }
            return null;
        } finally {
            inFlight.forEach(f -> f.cancel(true));
        }
    }

    /** This partition's place among the recovery's partitions, ordered by their first range. */
    private static int spreadIndex(RecoverPartitionRequest request) {
        KeyHashRange own = request.getRanges(0);
        int index = 0;
        for (RecoveryPartition other : request.getOtherPartitionsList()) {
            if (other.getRangesCount() == 0) {
                continue;
            }
            KeyHashRange first = other.getRanges(0);
            int byTable = Long.compare(first.getTableId(), own.getTableId());
            if (byTable < 0 || byTable == 0 && Long.compareUnsigned(first.getStartHash(), own.getStartHash()) < 0) {
                index++;
            }
        }
        return index;
    }

    private record Fetched(long segmentId, com.google.protobuf.ByteString entries, String problem) {
    }

    private Fetched fetch(long crashedMasterId, SegmentSource source, List<KeyHashRange> ranges,
                          List<RecoveryPartition> otherPartitions) {
        ReadRecoveryDataRequest read = ReadRecoveryDataRequest.newBuilder().setMasterId(crashedMasterId)
                .setSegmentId(source.getSegmentId()).setEpoch(source.getEpoch()).addAllRanges(ranges)
                .addAllOtherPartitions(otherPartitions).build();
        List<String> problems = new ArrayList<>();
        for (String backup : source.getBackupsList()) {
            try {
                ReadRecoveryDataResponse answer = BackupRecoveryServiceGrpc.newBlockingStub(channels.apply(backup))
                        .withDeadlineAfter(FETCH_DEADLINE_MS, TimeUnit.MILLISECONDS).readRecoveryData(read);
                if (answer.getStatus() == Status.OK) {
                    return new Fetched(source.getSegmentId(), answer.getEntries(), null);
                }
                problems.add(backup + ": " + answer.getStatus() + " " + answer.getMessage());
            } catch (StatusRuntimeException e) {
                problems.add(backup + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
            }
        }
        return new Fetched(source.getSegmentId(), null, "segment " + source.getSegmentId() + " epoch "
                + source.getEpoch() + " could not be read: " + String.join("; ", problems));
    }

    /** Waits until everything appended to this master's log so far is durable on its backups. */
    private void awaitDurable() throws InterruptedException, TimeoutException {
        if (!(engine.context().replicationHook() instanceof ReplicaManager manager)) {
            return;
        }
        long segmentId;
        int length;
        MasterLog log = engine.log();
        log.lock();
        try {
            LogSegment head = log.head();
            segmentId = head.id();
            length = head.writer().position();
        } finally {
            log.unlock();
        }
        try {
            manager.whenDurable(segmentId, length).get(DURABLE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("replayed data did not become durable", e.getCause());
        }
    }

    private RecoverPartitionResponse.Builder position(RecoverPartitionResponse.Builder response) {
        MasterLog log = engine.log();
        log.lock();
        try {
            LogSegment head = log.head();
            return response.setLogSegmentId(head.id()).setLogOffset(head.writer().position());
        } finally {
            log.unlock();
        }
    }

    static KeyRanges ranges(List<KeyHashRange> ranges) {
        List<KeyRanges.Range> out = new ArrayList<>(ranges.size());
        for (KeyHashRange r : ranges) {
            out.add(new KeyRanges.Range(r.getTableId(), r.getStartHash(), r.getEndHash()));
        }
        return KeyRanges.of(out);
    }

    private static <T> void reply(StreamObserver<T> out, T response) {
        out.onNext(response);
        out.onCompleted();
    }

    @Override
    public void close() {
        replayers.shutdownNow();
        fetchers.shutdownNow();
    }
}
