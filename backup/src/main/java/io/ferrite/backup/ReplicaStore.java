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
 * under it is a memory copy).
 */
public final class ReplicaStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaStore.class);
    private static final String SUFFIX = ".replica";

    /** What an operation did. */
    public enum Outcome {
        OK, NO_BUFFER_FREE, OUT_OF_ORDER, STALE_EPOCH, TOO_LARGE, UNKNOWN_REPLICA, IO_ERROR
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
        /** Found on disk at start (not opened by a master since). */
        boolean reloaded;
        /** The flusher is writing the buffer out: it, not drop(), releases the buffer. */
        boolean flushing;
    }

    private final Path bufferDir;
    private final Path backupDir;
    private final int maxBuffers;
    private final Map<Key, Replica> replicas = new HashMap<>();
    private final ExecutorService flusher = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("ferrite-backup-flush").factory());
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
        replica.reloaded = true;
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
            }
        }
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
                existing.reloaded = false; // its master claims it again
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
        try {
            Replica replica = new Replica();
            replica.buffer = ReplicaFile.create(bufferDir.resolve(fileName(masterId, segmentId)), masterId, segmentId,
                    epoch, capacity);
            replica.epoch = epoch;
            buffersInUse++;
            replicas.put(key, replica);
            return new Result(Outcome.OK, 0, 0, false);
        } catch (IOException e) {
            LOG.error("cannot create a buffer for replica {} of master {}: {}", segmentId, masterId, e.toString());
            return new Result(Outcome.IO_ERROR, 0, 0, false);
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
            int held = replica.length - offset;
            replica.buffer.append(bytes.asSlice(held), count - held);
            replica.length += count - held;
        }
        if (certificateLength > certifiedLength(replica) && certificateLength <= replica.length && !replica.closed) {
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
            return new Result(replica.epoch > epoch ? Outcome.STALE_EPOCH : Outcome.UNKNOWN_REPLICA,
                    replica.length, certifiedLength(replica), replica.closed);
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
     * Drops the replicas of {@code masterId} reloaded at start whose segments are no longer in
     * its log (freed while this backup was down, so their free never arrived). Replicas opened
     * since are the master's current ones and are kept.
     *
     * @param inLog the ids of the segments in the master's log now
     * @return how many replicas were dropped
     */
    public synchronized int retainOnly(long masterId, java.util.Set<Long> inLog) {
        int dropped = 0;
        for (Map.Entry<Key, Replica> e : new ArrayList<>(replicas.entrySet())) {
            if (e.getKey().masterId() == masterId && e.getValue().reloaded
                    && !inLog.contains(e.getKey().segmentId())) {
                drop(e.getKey(), e.getValue());
                dropped++;
            }
        }
        return dropped;
    }

    /**
     * Drops every replica of {@code masterId} still as it was reloaded (its master has not
     * claimed it since): once the master holds its full replication factor on other backups,
     * these copies are redundant, and nobody would ever free them. CORRUPT ones stay, listed,
     * as evidence, until their master frees the segment ({@link #retainOnly}).
     *
     * @return how many replicas were dropped
     */
    public synchronized int dropReloaded(long masterId) {
        int dropped = 0;
        for (Map.Entry<Key, Replica> e : new ArrayList<>(replicas.entrySet())) {
            if (e.getKey().masterId() == masterId && e.getValue().reloaded && e.getValue().corruption == null) {
                drop(e.getKey(), e.getValue());
                dropped++;
            }
        }
        return dropped;
    }

    /** Masters of which this store holds sound replicas as they were reloaded (not claimed since). */
    public synchronized java.util.Set<Long> reloadedMasters() {
        java.util.Set<Long> masters = new java.util.TreeSet<>();
        replicas.forEach((key, replica) -> {
            if (replica.reloaded && replica.corruption == null) {
                masters.add(key.masterId());
            }
        });
        return masters;
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
     * during the write leaves its buffer to this method, which then deletes both files.
     */
    private void flush(Key key, Replica replica) {
        ReplicaFile buffer;
        synchronized (this) {
            if (replicas.get(key) != replica || replica.buffer == null) {
                return; // freed or replaced meanwhile
            }
            buffer = replica.buffer;
            replica.flushing = true;
        }
        Path target = backupDir.resolve(fileName(key.masterId(), key.segmentId()));
        IOException failure = null;
        try {
            buffer.writeTo(target); // a closed replica's bytes no longer change
        } catch (IOException e) {
            failure = e;
        }
        synchronized (this) {
            replica.flushing = false;
            boolean dropped = replicas.get(key) != replica;
            if (failure != null && !dropped) {
                LOG.error("flush of replica {} of master {} to {} failed (kept in its buffer): {}", key.segmentId(),
                        key.masterId(), target, failure.toString());
                return;
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
