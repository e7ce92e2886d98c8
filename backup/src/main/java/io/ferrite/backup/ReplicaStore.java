package io.ferrite.backup;

import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.ValidationResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas a backup holds. A replica is opened into a memory-mapped buffer under the
 * buffer directory (at most {@code maxBuffers} at once; beyond that opens are refused with
 * {@link Outcome#NO_BUFFER_FREE} so the master picks another backup), filled strictly in
 * offset order, and, once its master closes it, written to the backup directory with
 * {@code fsync} by a background thread, after which its buffer is released.
 *
 * <p>On {@link #load()} (a restart) every buffer and flushed file is mapped again, verified
 * against its certificate, and listed; a replica that fails verification is kept as
 * {@link ReplicaInfo.State#CORRUPT}: reported, never served. Thread-safe (one lock; the work
 * under it is a memory copy, or a buffer's allocation at open).
 *
 * <p>Full or failing disks ({@link StorageHealth}): a buffer's blocks are allocated before it
 * is mapped ({@link FileSpace}); a failed allocation, flush write or {@code fsync} is counted
 * and logged once per kind, and new replicas are refused ({@link Outcome#NO_SPACE} or
 * {@link Outcome#IO_ERROR}) until allocation works again and every failed flush went through
 * (retried by {@link #onDutyCycle}); the replicas held stay sound and served. Replicas their
 * masters no longer keep here go by {@link #reconcile}.
 */
public final class ReplicaStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaStore.class);
    private static final String SUFFIX = ".replica";
    private static final long FLUSH_RETRY_MIN_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long FLUSH_RETRY_MAX_NS = TimeUnit.SECONDS.toNanos(30);

    /** What an operation did. */
    public enum Outcome {
        OK, NO_BUFFER_FREE, OUT_OF_ORDER, STALE_EPOCH, TOO_LARGE, UNKNOWN_REPLICA, IO_ERROR,
        /** The store cannot take replicas now: a buffer could not be allocated or a flush is failing. */
        NO_SPACE
    }

    /**
     * An operation's outcome and the replica afterwards: its length (where the master resumes
     * sending) and its certified length (the prefix its last certificate covers: all that this
     * backup vouches for, and all that a master may count as durable — acknowledged ⊆ certified).
     */
    public record Result(Outcome outcome, int lengthBytes, int certifiedBytes, boolean closed) {
        public boolean ok() {
            return outcome == Outcome.OK;
        }
    }

    /** Key of a replica. */
    private record Key(long masterId, long segmentId) {
    }

    /** A replica: in its buffer, flushed to disk, or both while the flush runs. */
    private static final class Replica {
        ReplicaFile buffer;
        Path flushed;
        long epoch;
        int length;
        SegmentCertificate certificate = new SegmentCertificate(0, 0);
        boolean closed;
        String corruption;
        /** The flusher is writing the buffer out: it, not drop(), releases the buffer. */
        boolean flushing;
        /** The last flush failed; it is retried at {@link #flushRetryAtNs} (0: not scheduled yet). */
        boolean flushFailed;
        int flushAttempts;
        long flushRetryAtNs;
        /** When the replica was opened (or claimed) in the store's open order; reconciliation keeps newer ones. */
        long openSequence;
        /** A reloaded buffer whose blocks could not be allocated: it takes no more appends. */
        boolean readOnly;
    }

    private final Path bufferDir;
    private final Path backupDir;
    private final int maxBuffers;
    private final Map<Key, Replica> replicas = new HashMap<>();
    private final ExecutorService flusher = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("ferrite-backup-flush").factory());
    private final StorageHealth health = new StorageHealth();
    /** Replicas whose flush failed and waits for its retry. */
    private final List<Key> failedFlushes = new ArrayList<>();
    private ReplicaFile.Syncer syncer = channel -> channel.force(true);
    private long openSequence;
    private long orphansDropped;
    private int buffersInUse;
    private long flushedReplicas;
    private long flushedBytes;
    private boolean closedStore;

    /**
     * @param bufferDir  where replica buffers are memory-mapped (tmpfs or disk; survives a process crash)
     * @param backupDir  where complete replicas are written and forced to disk
     * @param maxBuffers most replicas being buffered at once
     */
    public ReplicaStore(Path bufferDir, Path backupDir, int maxBuffers) throws IOException {
        if (maxBuffers < 1) {
            throw new IllegalArgumentException("backup-buffers must be at least 1, got " + maxBuffers);
        }
        this.bufferDir = Files.createDirectories(bufferDir);
        this.backupDir = Files.createDirectories(backupDir);
        this.maxBuffers = maxBuffers;
    }

    /** Bytes before a replica's data in its file (the header holds identity, length and certificate). */
    public static final int FILE_HEADER_BYTES = ReplicaFile.HEADER_BYTES;

    /** The name of a replica's file, in the buffer directory and in the backup directory. */
    public static String fileName(long masterId, long segmentId) {
        return String.format("m%016x-s%016x%s", masterId, segmentId, SUFFIX);
    }

    /**
     * Reloads every replica from both directories (a restart), verifying each. A buffer and a
     * flushed copy of the same replica: the flushed one wins (the buffer was left by a crash
     * between the flush and the buffer's removal). Returns what was found.
     */
    public synchronized List<ReplicaInfo> load() throws IOException {
        for (Path dir : List.of(backupDir, bufferDir)) {
            List<Path> files;
            try (Stream<Path> listing = Files.list(dir)) {
                files = listing.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
            }
            for (Path path : files) {
                loadOne(path, dir == backupDir);
            }
        }
        return list();
    }

    private void loadOne(Path path, boolean flushed) throws IOException {
        ReplicaFile file;
        try {
            file = ReplicaFile.open(path);
        } catch (IOException e) {
            LOG.error("replica file {} is unreadable and is ignored: {}", path, e.getMessage());
            return;
        }
        Key key = new Key(file.masterId(), file.segmentId());
        if (!flushed && replicas.containsKey(key)) {
            file.close();
            Files.deleteIfExists(path); // a buffer whose flushed copy exists
            return;
        }
        Replica replica = new Replica();
        replica.epoch = file.epoch();
        replica.length = file.length();
        replica.certificate = file.certificate();
        replica.closed = file.closed();
        ValidationResult verdict = file.verify();
        if (verdict instanceof ValidationResult.Corrupt corrupt) {
            replica.corruption = corrupt.corruption().toString();
            LOG.error("replica {} of master {} in {} is corrupt: {}", file.segmentId(), file.masterId(), path,
                    replica.corruption);
        }
        if (flushed) {
            replica.flushed = path;
            file.close();
        } else {
            replica.buffer = file;
            buffersInUse++;
            if (replica.closed && replica.corruption == null) {
                scheduleFlush(key, replica);
            } else if (!replica.closed) {
                try {
                    file.allocate(); // a buffer of an older version may be sparse: appends could fault
                } catch (StorageException e) {
                    replica.readOnly = true;
                    health.failed(e);
                }
            }
        }
        replica.openSequence = openSequence++;
        replicas.put(key, replica);
    }

    /** Opens a replica buffer; reopening at the same epoch is a no-op, at a higher epoch replaces it. */
    public synchronized Result open(long masterId, long segmentId, long epoch, int capacity) {
        Key key = new Key(masterId, segmentId);
        Replica existing = replicas.get(key);
        if (existing != null) {
            if (existing.epoch > epoch) {
                return new Result(Outcome.STALE_EPOCH, existing.length, certifiedLength(existing), existing.closed);
            }
            if (existing.epoch == epoch && existing.corruption == null) {
                // Its master claims it again (a reloaded replica, or an open resent).
                existing.openSequence = openSequence++;
                return new Result(Outcome.OK, existing.length, certifiedLength(existing), existing.closed);
            }
            if (existing.flushing) {
                // Its buffer file is being written out; a new one cannot take its name yet.
                return new Result(Outcome.NO_BUFFER_FREE, 0, 0, false);
            }
            drop(key, existing);
        }
        if (capacity <= 0 || capacity > (1 << 30)) {
            return new Result(Outcome.TOO_LARGE, 0, 0, false);
        }
        if (buffersInUse >= maxBuffers) {
            return new Result(Outcome.NO_BUFFER_FREE, 0, 0, false);
        }
        Outcome refusal = health.admit();
        if (refusal != Outcome.OK) {
            return new Result(refusal, 0, 0, false);
        }
        try {
            Replica replica = new Replica();
            replica.buffer = ReplicaFile.create(bufferDir.resolve(fileName(masterId, segmentId)), masterId, segmentId,
                    epoch, capacity);
            replica.epoch = epoch;
            replica.openSequence = openSequence++;
            buffersInUse++;
            replicas.put(key, replica);
            health.allocated();
            return new Result(Outcome.OK, 0, 0, false);
        } catch (IOException e) {
            StorageException failure = StorageException.of(StorageException.Op.ALLOCATE,
                    "cannot create a buffer for replica " + segmentId + " of master " + masterId, e);
            health.failed(failure);
            return new Result(failure.kind() == StorageException.Kind.NO_SPACE ? Outcome.NO_SPACE : Outcome.IO_ERROR,
                    0, 0, false);
        }
    }

    /**
     * Appends bytes at {@code offset}, which must not pass the replica's length (bytes already
     * held are a resend: only the part past the length is written, as the same epoch means the
     * same bytes); then records the certificate if one came.
     */
    public synchronized Result append(long masterId, long segmentId, long epoch, int offset, MemorySegment bytes,
                                      int certificateLength, int certificateChecksum) {
        Replica replica = replicas.get(new Key(masterId, segmentId));
        if (replica == null || replica.buffer == null) {
            return new Result(Outcome.UNKNOWN_REPLICA, 0, 0, false);
        }
        if (replica.epoch != epoch) {
            return new Result(replica.epoch > epoch ? Outcome.STALE_EPOCH : Outcome.UNKNOWN_REPLICA,
                    replica.length, certifiedLength(replica), replica.closed);
        }
        int count = (int) bytes.byteSize();
        long end = (long) offset + count;
        if (offset > replica.length || replica.closed && end > replica.length) {
            return new Result(Outcome.OUT_OF_ORDER, replica.length, certifiedLength(replica), replica.closed);
        }
        if (end > replica.buffer.capacity()) {
            return new Result(Outcome.TOO_LARGE, replica.length, certifiedLength(replica), false);
        }
        if (end > replica.length) {
            if (replica.readOnly) {
                return new Result(Outcome.IO_ERROR, replica.length, certifiedLength(replica), false);
            }
            int held = replica.length - offset;
            replica.buffer.append(bytes.asSlice(held), count - held);
            replica.length += count - held;
        }
        if (certificateLength > certifiedLength(replica) && certificateLength <= replica.length && !replica.closed
                && !replica.readOnly) {
            replica.buffer.certify(certificateLength, certificateChecksum);
            replica.certificate = new SegmentCertificate(certificateLength, certificateChecksum);
        }
        return new Result(Outcome.OK, replica.length, certifiedLength(replica), replica.closed);
    }

    private static int certifiedLength(Replica replica) {
        return replica.certificate.lengthBytes();
    }

    /** Marks a replica complete (its length must be the certificate's) and schedules its flush. */
    public synchronized Result close(long masterId, long segmentId, long epoch, int certificateLength,
                                     int certificateChecksum) {
        Key key = new Key(masterId, segmentId);
        Replica replica = replicas.get(key);
        if (replica == null) {
            return new Result(Outcome.UNKNOWN_REPLICA, 0, 0, false);
        }
        if (replica.epoch != epoch) {
            return new Result(replica.epoch > epoch ? Outcome.STALE_EPOCH : Outcome.UNKNOWN_REPLICA, replica.length,
                    certifiedLength(replica), replica.closed);
        }
        if (replica.closed) {
            return new Result(Outcome.OK, replica.length, certifiedLength(replica), true);
        }
        if (replica.length != certificateLength) {
            return new Result(Outcome.OUT_OF_ORDER, replica.length, certifiedLength(replica), false);
        }
        replica.buffer.certify(certificateLength, certificateChecksum);
        replica.buffer.markClosed();
        replica.certificate = new SegmentCertificate(certificateLength, certificateChecksum);
        replica.closed = true;
        scheduleFlush(key, replica);
        return new Result(Outcome.OK, replica.length, certifiedLength(replica), true);
    }

    /**
     * What a live master answered about the replicas it keeps (its {@code ServerStats}).
     *
     * @param masterId          the master (the id that answered: same index and generation)
     * @param fullyReplicated   every segment it needs has its R replicas, closed ones complete
     * @param highestSegmentId  the highest segment id its sender had seen opened when it answered
     * @param backupsBySegment  every segment it still needs (in its log, or freed but not yet
     *                          freed on its backups) and the backups it keeps replicas of it on
     */
    public record MasterReplicas(long masterId, boolean fullyReplicated, long highestSegmentId,
                                 Map<Long, java.util.Set<Long>> backupsBySegment) {
    }

    /**
     * The store's open counter: every replica opened, claimed again, or reloaded from now on
     * has an open sequence at least this. Read before asking a master, and given to
     * {@link #reconcile} with its answer.
     */
    public synchronized long openSequence() {
        return openSequence;
    }

    /**
     * Drops the replicas of {@code answer}'s master that it no longer keeps here: frees that
     * never arrived (lost on the way, or sent while this backup was down) and replicas it
     * replaced elsewhere (after timeouts, or while this server was down and restarted). A
     * replica (M, S) goes only if all of these hold:
     * <ul>
     *   <li>it was opened before the question was asked ({@code openedBefore}): a replica opened
     *       (or claimed again) since may be newer than the answer;</li>
     *   <li>S is at most the answer's {@code highestSegmentId} (a higher one was opened after the
     *       master answered);</li>
     *   <li>the answer does not list this server for S, under this id or a previous generation
     *       of it (same index: the master has not yet noticed the restart, and counts this copy);</li>
     *   <li>and either S is not among the segments the master needs (freed), or the master
     *       reports its log fully replicated and the replica is sound (so its R copies elsewhere
     *       are complete; a CORRUPT one stays, listed, as evidence until S leaves the log).</li>
     * </ul>
     * The caller checks that the master is UP: replicas of a crashed master are kept for recovery.
     *
     * @param selfId       this server's id now
     * @param openedBefore {@link #openSequence()} read before the question was sent
     * @return how many replicas were dropped
     */
    public synchronized int reconcile(MasterReplicas answer, long selfId, long openedBefore) {
        int dropped = 0;
        for (Map.Entry<Key, Replica> e : new ArrayList<>(replicas.entrySet())) {
            Key key = e.getKey();
            Replica replica = e.getValue();
            if (key.masterId() != answer.masterId() || replica.openSequence >= openedBefore
                    || key.segmentId() > answer.highestSegmentId()) {
                continue;
            }
            java.util.Set<Long> holders = answer.backupsBySegment().get(key.segmentId());
            boolean orphan;
            if (holders == null) {
                orphan = true; // freed: its FREE never came
            } else {
                boolean here = false;
                for (long holder : holders) {
                    here |= holder >>> 32 == selfId >>> 32;
                }
                orphan = !here && answer.fullyReplicated() && replica.corruption == null;
            }
            if (orphan) {
                drop(key, replica);
                dropped++;
            }
        }
        orphansDropped += dropped;
        return dropped;
    }

    /** Masters of which this store holds replicas, ascending. */
    public synchronized java.util.Set<Long> masters() {
        java.util.Set<Long> masters = new java.util.TreeSet<>();
        replicas.keySet().forEach(key -> masters.add(key.masterId()));
        return masters;
    }

    /** Replicas dropped by {@link #reconcile} (their masters no longer kept them here). */
    public synchronized long orphansDropped() {
        return orphansDropped;
    }

    /** Drops a replica its master freed (or one replaced by a higher epoch). */
    public synchronized boolean free(long masterId, long segmentId) {
        Key key = new Key(masterId, segmentId);
        Replica replica = replicas.get(key);
        if (replica == null) {
            return false;
        }
        drop(key, replica);
        return true;
    }

    private void drop(Key key, Replica replica) {
        replicas.remove(key);
        if (replica.flushFailed) {
            replica.flushFailed = false;
            failedFlushes.remove(key);
            health.flushRecovered();
        }
        if (replica.buffer != null && !replica.flushing) {
            Path path = replica.buffer.path();
            replica.buffer.close();
            replica.buffer = null;
            buffersInUse--;
            deleteQuietly(path);
        }
        if (replica.flushed != null) {
            deleteQuietly(replica.flushed);
            replica.flushed = null;
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", path, e.toString());
        }
    }

    private void scheduleFlush(Key key, Replica replica) {
        if (closedStore) {
            return;
        }
        flusher.execute(() -> flush(key, replica));
    }

    /**
     * Writes a closed replica to the backup directory and forces it, outside the store's lock
     * (appends of other replicas go on meanwhile), then releases its buffer. A replica freed
     * during the write leaves its buffer to this method, which then deletes both files. A
     * failed write or {@code fsync} keeps the replica in its buffer (still served, still
     * reported), is counted and retried with a growing delay by {@link #onDutyCycle}, and
     * stops new replicas meanwhile; nothing the flusher meets ends its thread.
     */
    private void flush(Key key, Replica replica) {
        ReplicaFile buffer;
        synchronized (this) {
            if (replicas.get(key) != replica || replica.buffer == null || replica.flushing) {
                return; // freed or replaced meanwhile
            }
            buffer = replica.buffer;
            replica.flushing = true;
        }
        Path target = backupDir.resolve(fileName(key.masterId(), key.segmentId()));
        StorageException failure = null;
        try {
            buffer.writeTo(target, syncer); // a closed replica's bytes no longer change
        } catch (StorageException e) {
            failure = e;
        } catch (RuntimeException | Error e) {
            failure = new StorageException(StorageException.Op.WRITE, StorageException.Kind.IO,
                    "flush of " + target + " failed: " + e, e);
        }
        synchronized (this) {
            replica.flushing = false;
            boolean dropped = replicas.get(key) != replica;
            if (failure != null && !dropped) {
                health.flushFailed(failure, !replica.flushFailed);
                if (!replica.flushFailed) {
                    replica.flushFailed = true;
                    failedFlushes.add(key);
                }
                replica.flushAttempts++;
                replica.flushRetryAtNs = 0; // the next duty cycle sets the retry time
                return;
            }
            if (replica.flushFailed) {
                replica.flushFailed = false;
                failedFlushes.remove(key);
                health.flushRecovered();
            }
            if (dropped) {
                deleteQuietly(target);
            } else {
                replica.flushed = target;
                flushedReplicas++;
                flushedBytes += replica.length;
            }
            Path bufferPath = buffer.path();
            buffer.close();
            replica.buffer = null;
            buffersInUse--;
            deleteQuietly(bufferPath);
        }
    }

    /**
     * Time moves on (the backup's duty cycle, with its clock): lets a failed allocation be tried
     * again after {@link StorageHealth#ALLOCATION_RETRY_NS}, and flushes that failed again after
     * 1 s, doubling to 30 s.
     */
    public synchronized void onDutyCycle(long nowNs) {
        health.tick(nowNs);
        for (int i = 0; i < failedFlushes.size(); i++) {
            Key key = failedFlushes.get(i);
            Replica replica = replicas.get(key);
            if (replica == null || replica.flushing) {
                continue;
            }
            if (replica.flushRetryAtNs == 0) {
                long delayNs = Math.min(FLUSH_RETRY_MAX_NS,
                        FLUSH_RETRY_MIN_NS << Math.min(5, Math.max(0, replica.flushAttempts - 1)));
                replica.flushRetryAtNs = nowNs + delayNs;
            } else if (nowNs - replica.flushRetryAtNs >= 0) {
                replica.flushRetryAtNs = Long.MAX_VALUE; // queued; the flush sets it again if it fails
                scheduleFlush(key, replica);
            }
        }
    }

    /** Replaces how flushed files are forced to disk (tests make it fail). */
    synchronized void syncer(ReplicaFile.Syncer replacement) {
        this.syncer = replacement;
    }

    /** Whether new replicas are refused because the store cannot store them now. */
    public synchronized boolean refusingReplicas() {
        return health.refusing();
    }

    /** Buffer allocations that failed (full or failing buffer file system). */
    public synchronized long allocationFailures() {
        return health.failures(StorageException.Op.ALLOCATE);
    }

    /** Flush writes (or renames) that failed. */
    public synchronized long flushFailures() {
        return health.failures(StorageException.Op.WRITE);
    }

    /** Flush {@code fsync}s that failed. */
    public synchronized long fsyncFailures() {
        return health.failures(StorageException.Op.FSYNC);
    }

    /** Closed replicas whose flush failed and waits for a retry (kept in their buffers meanwhile). */
    public synchronized int failingFlushes() {
        return health.failingFlushes();
    }

    /** Every replica held, ordered by master and segment. */
    public synchronized List<ReplicaInfo> list() {
        List<ReplicaInfo> out = new ArrayList<>(replicas.size());
        replicas.forEach((key, r) -> out.add(info(key, r)));
        out.sort(Comparator.comparingLong(ReplicaInfo::masterId).thenComparingLong(ReplicaInfo::segmentId));
        return out;
    }

    /** The replicas of one master's log. */
    public synchronized List<ReplicaInfo> list(long masterId) {
        return list().stream().filter(r -> r.masterId() == masterId).toList();
    }

    /** What this backup holds of one segment of a master's log, if anything. */
    public synchronized Optional<ReplicaInfo> info(long masterId, long segmentId) {
        Key key = new Key(masterId, segmentId);
        Replica replica = replicas.get(key);
        return replica == null ? Optional.empty() : Optional.of(info(key, replica));
    }

    private static ReplicaInfo info(Key key, Replica r) {
        ReplicaInfo.State state = r.corruption != null ? ReplicaInfo.State.CORRUPT
                : r.buffer == null ? ReplicaInfo.State.FLUSHED : ReplicaInfo.State.BUFFERED;
        return new ReplicaInfo(key.masterId(), key.segmentId(), r.epoch, r.length, r.certificate.lengthBytes(),
                r.certificate.checksum(), r.closed, state);
    }

    /**
     * The certified bytes of a replica (what recovery may trust).
     *
     * @return empty if there is no such replica
     * @throws CorruptReplicaException if the replica failed verification
     */
    public synchronized Optional<byte[]> read(long masterId, long segmentId) {
        Replica replica = replicas.get(new Key(masterId, segmentId));
        if (replica == null) {
            return Optional.empty();
        }
        if (replica.corruption != null) {
            throw new CorruptReplicaException("replica " + segmentId + " of master " + masterId + " is corrupt: "
                    + replica.corruption);
        }
        int certified = replica.certificate.lengthBytes();
        if (replica.buffer != null) {
            return Optional.of(replica.buffer.data().asSlice(0, certified).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
        try (ReplicaFile file = ReplicaFile.open(replica.flushed)) {
            ValidationResult verdict = file.verify();
            if (verdict instanceof ValidationResult.Corrupt corrupt) {
                replica.corruption = corrupt.corruption().toString();
                throw new CorruptReplicaException("replica " + segmentId + " of master " + masterId
                        + " is corrupt on disk: " + replica.corruption);
            }
            return Optional.of(file.data().asSlice(0, certified).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read replica " + segmentId + " of master " + masterId, e);
        }
    }

    /** A replica's certified bytes with what certifies them, read in one step. */
    public record CertifiedReplica(long epoch, boolean closed, io.ferrite.log.SegmentCertificate certificate,
                                   byte[] bytes) {
    }

    /**
     * The certified bytes of a replica with its epoch and certificate, read together (what
     * recovery reads; {@link #read} gives the bytes alone). A buffered replica is copied under
     * the store's lock (a memory copy); a flushed one is only opened under it and read after,
     * so recovery reads from disk do not hold up the appends this backup receives meanwhile.
     * Not verified here: the reader checks every entry against the certificate returned.
     *
     * @return empty if there is no such replica
     * @throws CorruptReplicaException if the replica failed verification before
     */
    public Optional<CertifiedReplica> readCertified(long masterId, long segmentId) {
        long epoch;
        boolean closed;
        SegmentCertificate certificate;
        java.nio.channels.FileChannel channel;
        synchronized (this) {
            Replica replica = replicas.get(new Key(masterId, segmentId));
            if (replica == null) {
                return Optional.empty();
            }
            if (replica.corruption != null) {
                throw new CorruptReplicaException("replica " + segmentId + " of master " + masterId + " is corrupt: "
                        + replica.corruption);
            }
            epoch = replica.epoch;
            closed = replica.closed;
            certificate = replica.certificate;
            if (replica.buffer != null) {
                return Optional.of(new CertifiedReplica(epoch, closed, certificate, replica.buffer.data()
                        .asSlice(0, certificate.lengthBytes()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
            }
            try {
                // Opened under the lock (a free may delete the file right after; the open channel
                // still reads it), read after it.
                channel = java.nio.channels.FileChannel.open(replica.flushed, java.nio.file.StandardOpenOption.READ);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open replica " + segmentId + " of master " + masterId, e);
            }
        }
        try (channel) {
            byte[] bytes = new byte[certificate.lengthBytes()];
            java.nio.ByteBuffer into = java.nio.ByteBuffer.wrap(bytes);
            long at = ReplicaFile.HEADER_BYTES;
            while (into.hasRemaining()) {
                int n = channel.read(into, at);
                if (n < 0) {
                    throw new CorruptReplicaException("replica " + segmentId + " of master " + masterId + " ends after "
                            + into.position() + " bytes on disk, its certificate covers " + bytes.length);
                }
                at += n;
            }
            return Optional.of(new CertifiedReplica(epoch, closed, certificate, bytes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read replica " + segmentId + " of master " + masterId, e);
        }
    }

    /** Drops every replica of one master (its recovery is done); returns how many. */
    public synchronized int freeMaster(long masterId) {
        int freed = 0;
        for (ReplicaInfo r : list(masterId)) {
            if (free(masterId, r.segmentId())) {
                freed++;
            }
        }
        return freed;
    }

    /** Replica buffers in use. */
    public synchronized int buffersInUse() {
        return buffersInUse;
    }

    public synchronized long flushedReplicas() {
        return flushedReplicas;
    }

    public synchronized long flushedBytes() {
        return flushedBytes;
    }

    /** Waits for the queued flushes (tests, orderly stop). */
    public void awaitFlushes(long timeout, TimeUnit unit) throws InterruptedException {
        java.util.concurrent.Future<?> marker = flusher.submit(() -> { });
        try {
            marker.get(timeout, unit);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("flushes did not finish in " + timeout + " " + unit, e);
        }
    }

    /** Stops the flusher after the queued flushes and unmaps every buffer (the files stay). */
    @Override
    public void close() {
        synchronized (this) {
            closedStore = true;
        }
        flusher.shutdown();
        try {
            flusher.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            for (Replica replica : replicas.values()) {
                if (replica.buffer != null) {
                    replica.buffer.close();
                    replica.buffer = null;
                }
            }
            replicas.clear();
            buffersInUse = 0;
        }
    }
}
