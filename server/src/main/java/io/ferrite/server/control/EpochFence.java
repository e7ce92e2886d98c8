package io.ferrite.server.control;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * This server's fence against deposed coordinator leaders: the highest coordinator epoch it has
 * seen. Every leader term has an epoch from ZooKeeper ({@code counters/coordinator-epoch}, bumped
 * by compare-and-set at each election), strictly larger than every earlier term's; control calls
 * that move or drop data carry the sender's ({@code coordinator_epoch}). A call whose epoch is
 * lower than the highest seen, or 0 (no epoch), comes from a leader that has been replaced, or
 * from a tool that is not a leader: it is refused with {@code Status.STALE_COORDINATOR} and the
 * message {@link #refusal} gives ("stale coordinator epoch N &lt; M"), and changes nothing.
 *
 * <p>The highest epoch rises with every admitted call and with what the server learns otherwise
 * ({@link #observe}): the epoch in the leader's heartbeat acknowledgements, and the counter read
 * at registration. So once a new leader has acknowledged one heartbeat of this server, the old
 * leader cannot move anything here, even before the new one sent any control call.
 *
 * <p><b>For every RPC that moves, drops or replays data</b> ({@code TakeTablets},
 * {@code DropTableData}, and the recovery calls): put a {@code uint64 coordinator_epoch} field in
 * the request, have the coordinator set it from {@code Leadership.epoch()} (the coordinator's
 * {@code MasterClients} does so for the calls it makes), and check it here first:
 * <pre>{@code
 * return fence.admit(request.getCoordinatorEpoch(),
 *         () -> doTheWork(request),                                   // runs only if admitted
 *         refusal -> Response.newBuilder().setStatus(Status.STALE_COORDINATOR).setMessage(refusal).build());
 * }</pre>
 * {@link #admit(long, Supplier, Function)} runs the work while holding the fence, so a call of a
 * higher epoch is not admitted (waits) until it is done: use it for short state changes (taking or
 * dropping tablets). For long work (a recovery replaying data for seconds), use
 * {@link #check(long)} at the start, and again before the step that makes the result visible
 * (taking ownership), as a higher epoch may have arrived meanwhile.
 *
 * <p>Thread-safe.
 */
public final class EpochFence {
    private final AtomicLong highest = new AtomicLong();

    /** The highest coordinator epoch seen (0: none yet). */
    public long highest() {
        return highest.get();
    }

    /** Raises the highest epoch seen to {@code epoch} if it is higher (never lowers it). */
    public void observe(long epoch) {
        highest.accumulateAndGet(epoch, Math::max);
    }

    /**
     * Admits a call of this epoch, or says why not.
     *
     * @return null if admitted (the highest epoch seen is raised to it), else the refusal message
     */
    public synchronized String check(long epoch) {
        long seen = highest.get();
        if (epoch == 0 || epoch < seen) {
            return refusal(epoch, seen);
        }
        observe(epoch);
        return null;
    }

    /**
     * Admits a call of this epoch and runs {@code work} while holding the fence (no call of
     * another epoch is admitted meanwhile), or answers {@code refused} with the refusal message.
     */
    public synchronized <T> T admit(long epoch, Supplier<T> work, Function<String, T> refused) {
        String refusal = check(epoch);
        return refusal == null ? work.get() : refused.apply(refusal);
    }

    /** The refusal message for a call of {@code epoch}: "stale coordinator epoch N &lt; M". */
    public String refusal(long epoch) {
        return refusal(epoch, highest.get());
    }

    private static String refusal(long epoch, long seen) {
        return epoch == 0
                ? "stale coordinator epoch 0 < " + seen + ": the request carries no coordinator epoch (only the"
                + " leader coordinator may move or drop data)"
                : "stale coordinator epoch " + epoch + " < " + seen + ": the request comes from a deposed"
                + " coordinator leader";
    }

    @Override
    public String toString() {
        return "EpochFence{highest=" + highest.get() + "}";
    }
}
