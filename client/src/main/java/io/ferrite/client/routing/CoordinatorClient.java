package io.ferrite.client.routing;

import io.ferrite.client.FerriteException;
import io.ferrite.client.FerriteTimeoutException;
import io.ferrite.client.transport.Backoff;
import io.ferrite.client.transport.ChannelPool;
import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.ClusterStatusResponse;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.DropTableResponse;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ListServersResponse;
import io.ferrite.proto.v1.ListTablesRequest;
import io.ferrite.proto.v1.ListTablesResponse;
import io.ferrite.proto.v1.Status;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Calls the coordinators. Each call starts at the preferred coordinator (the last one that
 * answered, or the leader a follower named), moves on to the next address when one is
 * unreachable or answers {@code NOT_LEADER}/{@code RETRY}, follows a {@code NOT_LEADER}
 * answer's leader address at once, and after trying every address backs off and starts a
 * new round, until the call's deadline. Answers are completed on the transport's thread.
 */
public final class CoordinatorClient {
    private static final long MIN_ATTEMPT_NS = TimeUnit.MILLISECONDS.toNanos(200);

    private final CopyOnWriteArrayList<String> addresses;
    private final ChannelPool channels;
    private final ScheduledExecutorService scheduler;
    private final Backoff backoff;
    private final long timeoutNs;
    private volatile String preferred;

    /**
     * Creates the client.
     *
     * @param addresses coordinators' host:port, at least one
     * @param channels  channel cache
     * @param scheduler runs backoff waits
     * @param backoff   backoff between rounds
     * @param timeoutNs per-call deadline
     */
    public CoordinatorClient(List<String> addresses, ChannelPool channels, ScheduledExecutorService scheduler,
                             Backoff backoff, long timeoutNs) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("no coordinator address");
        }
        this.addresses = new CopyOnWriteArrayList<>(addresses);
        this.channels = channels;
        this.scheduler = scheduler;
        this.backoff = backoff;
        this.timeoutNs = timeoutNs;
        this.preferred = addresses.getFirst();
    }

    /**
     * The coordinator the next call starts with.
     *
     * @return host:port
     */
    public String preferred() {
        return preferred;
    }

    /**
     * Creates a table.
     *
     * @param name table name
     * @param span servers to spread it over
     * @return the final answer (OK, TABLE_EXISTS, INVALID_ARGUMENT)
     */
    public CompletableFuture<CreateTableResponse> createTable(String name, int span) {
        // One random token for every attempt of this create: if an attempt whose answer was lost did
        // create the table, the coordinator recognises the retry and answers OK rather than TABLE_EXISTS.
        byte[] token = new byte[16];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(token);
        CreateTableRequest request = CreateTableRequest.newBuilder().setName(name).setServerSpan(span)
                .setCreateToken(com.google.protobuf.ByteString.copyFrom(token)).build();
        return call("createTable(" + name + ")", request, (stub, q, o) -> stub.createTable(q, o),
                r -> redirect(r.getStatus(), r.getLeader()));
    }

    /**
     * Drops a table.
     *
     * @param name table name
     * @return the final answer (OK, TABLE_DOESNT_EXIST)
     */
    public CompletableFuture<DropTableResponse> dropTable(String name) {
        DropTableRequest request = DropTableRequest.newBuilder().setName(name).build();
        return call("dropTable(" + name + ")", request, (stub, q, o) -> stub.dropTable(q, o),
                r -> redirect(r.getStatus(), r.getLeader()));
    }

    /**
     * Lists the tables.
     *
     * @return the answer
     */
    public CompletableFuture<ListTablesResponse> listTables() {
        return call("listTables", ListTablesRequest.getDefaultInstance(), (stub, q, o) -> stub.listTables(q, o),
                r -> null);
    }

    /**
     * Fetches a table's tablet map.
     *
     * @param name    table name (used when {@code tableId} is 0)
     * @param tableId table id, or 0
     * @return the final answer (OK or TABLE_DOESNT_EXIST)
     */
    public CompletableFuture<GetTabletMapResponse> getTabletMap(String name, long tableId) {
        GetTabletMapRequest request = GetTabletMapRequest.newBuilder().setName(name).setTableId(tableId).build();
        return call("getTabletMap(" + name + ")", request, (stub, q, o) -> stub.getTabletMap(q, o),
                r -> redirect(r.getStatus(), ""));
    }

    /**
     * Lists the servers.
     *
     * @return the answer
     */
    public CompletableFuture<ListServersResponse> listServers() {
        return call("listServers", ListServersRequest.getDefaultInstance(), (stub, q, o) -> stub.listServers(q, o),
                r -> null);
    }

    /**
     * Asks for the cluster's status.
     *
     * @return the answer
     */
    public CompletableFuture<ClusterStatusResponse> clusterStatus() {
        return call("clusterStatus", ClusterStatusRequest.getDefaultInstance(),
                (stub, q, o) -> stub.clusterStatus(q, o), r -> null);
    }

    /**
     * Takes a snapshot of a table.
     *
     * @param table table name
     * @return the final answer (OK, TABLE_DOESNT_EXIST, INVALID_ARGUMENT; RETRY if still refused at the deadline)
     */
    public CompletableFuture<io.ferrite.proto.v1.CreateSnapshotResponse> createSnapshot(String table) {
        var request = io.ferrite.proto.v1.CreateSnapshotRequest.newBuilder().setTableName(table).build();
        return call("createSnapshot(" + table + ")", request, (stub, q, o) -> stub.createSnapshot(q, o),
                r -> redirect(r.getStatus(), r.getLeader()));
    }

    /**
     * Lists a table's snapshots.
     *
     * @param table   table name (used when {@code tableId} is 0)
     * @param tableId table id, or 0
     * @return the answer (OK or TABLE_DOESNT_EXIST)
     */
    public CompletableFuture<io.ferrite.proto.v1.ListSnapshotsResponse> listSnapshots(String table, long tableId) {
        var request = io.ferrite.proto.v1.ListSnapshotsRequest.newBuilder().setTableName(table).setTableId(tableId)
                .build();
        return call("listSnapshots(" + table + ")", request, (stub, q, o) -> stub.listSnapshots(q, o), r -> null);
    }

    /**
     * Drops a snapshot.
     *
     * @param tableId    the table's id
     * @param snapshotId the snapshot's id
     * @return the final answer (OK, SNAPSHOT_DOESNT_EXIST)
     */
    public CompletableFuture<io.ferrite.proto.v1.DropTableSnapshotResponse> dropSnapshot(long tableId, long snapshotId) {
        var request = io.ferrite.proto.v1.DropTableSnapshotRequest.newBuilder().setTableId(tableId)
                .setSnapshotId(snapshotId).build();
        return call("dropSnapshot(" + snapshotId + ")", request, (stub, q, o) -> stub.dropSnapshot(q, o),
                r -> redirect(r.getStatus(), r.getLeader()));
    }

    /**
     * Turns autosave of a table on or off.
     *
     * @param table       table name
     * @param intervalMs  0 for off
     * @param budgetBytes memory budget of its snapshots (0: none)
     * @return the final answer
     */
    public CompletableFuture<io.ferrite.proto.v1.SetAutosaveResponse> setAutosave(String table, long intervalMs,
                                                                                  long budgetBytes) {
        var request = io.ferrite.proto.v1.SetAutosaveRequest.newBuilder().setTableName(table).setIntervalMs(intervalMs)
                .setBudgetBytes(budgetBytes).build();
        return call("setAutosave(" + table + ")", request, (stub, q, o) -> stub.setAutosave(q, o),
                r -> redirect(r.getStatus(), r.getLeader()));
    }

    /** Null for a final answer, the leader (or "" if unknown) to go elsewhere. */
    private static String redirect(Status status, String leader) {
        return switch (status) {
            case NOT_LEADER -> leader;
            case RETRY -> "";
            default -> null;
        };
    }

    private <Q, A> CompletableFuture<A> call(String what, Q request, Rpc<Q, A> rpc, Function<A, String> redirect) {
        CoordinatorCall<Q, A> call = new CoordinatorCall<>(what, request, rpc, redirect, System.nanoTime() + timeoutNs);
        call.send();
        return call;
    }

    private void noteLeader(String leader) {
        if (!addresses.contains(leader)) {
            addresses.addIfAbsent(leader);
        }
        preferred = leader;
    }

    /** One coordinator RPC, as a lambda over the async stub. */
    @FunctionalInterface
    private interface Rpc<Q, A> {
        void invoke(CoordinatorServiceGrpc.CoordinatorServiceStub stub, Q request, StreamObserver<A> observer);
    }

    /** The state of one call across coordinators and rounds. */
    private final class CoordinatorCall<Q, A> extends CompletableFuture<A> {
        private final String what;
        private final Q request;
        private final Rpc<Q, A> rpc;
        private final Function<A, String> redirect;
        private final long deadlineNs;
        private String target = preferred;
        private int triesInRound;
        private int round;
        private String lastProblem = "no attempt";
        private Throwable lastFailure;

        CoordinatorCall(String what, Q request, Rpc<Q, A> rpc, Function<A, String> redirect, long deadlineNs) {
            this.what = what;
            this.request = request;
            this.rpc = rpc;
            this.redirect = redirect;
            this.deadlineNs = deadlineNs;
        }

        void send() {
            if (isDone()) {
                return;
            }
            long remaining = deadlineNs - System.nanoTime();
            if (remaining <= 0) {
                timeout();
                return;
            }
            long attemptNs = Math.min(remaining, Math.max(timeoutNs / 3, MIN_ATTEMPT_NS));
            String to = target;
            CoordinatorServiceGrpc.CoordinatorServiceStub stub;
            try {
                stub = CoordinatorServiceGrpc.newStub(channels.channel(to))
                        .withDeadlineAfter(attemptNs, TimeUnit.NANOSECONDS);
            } catch (RuntimeException e) {
                completeExceptionally(e);
                return;
            }
            rpc.invoke(stub, request, new StreamObserver<>() {
                @Override
                public void onNext(A answer) {
                    answered(to, answer);
                }

                @Override
                public void onError(Throwable t) {
                    failed(to, t);
                }

                @Override
                public void onCompleted() {
                }
            });
        }

        private void answered(String from, A answer) {
            String hint;
            try {
                hint = redirect.apply(answer);
            } catch (RuntimeException e) {
                completeExceptionally(e);
                return;
            }
            if (hint == null) {
                preferred = from;
                complete(answer);
                return;
            }
            lastProblem = "coordinator " + from + " answered " + answer.toString().trim().replace('\n', ' ');
            if (!hint.isEmpty() && !hint.equals(from)) {
                noteLeader(hint);
                next(hint);
            } else {
                next(null);
            }
        }

        private void failed(String from, Throwable t) {
            io.grpc.Status status = io.grpc.Status.fromThrowable(t);
            switch (status.getCode()) {
                case INVALID_ARGUMENT, UNIMPLEMENTED, PERMISSION_DENIED, UNAUTHENTICATED ->
                        completeExceptionally(new FerriteException(what + " failed at coordinator " + from
                                + ": " + status, t));
                default -> {
                    lastProblem = "coordinator " + from + ": " + status;
                    lastFailure = t;
                    next(null);
                }
            }
        }

        private void next(String hint) {
            triesInRound++;
            List<String> all = addresses;
            if (hint != null && triesInRound <= all.size() + 1) {
                target = hint;
                send();
                return;
            }
            if (triesInRound < all.size()) {
                int at = all.indexOf(target);
                target = all.get((at + 1) % all.size());
                send();
                return;
            }
            triesInRound = 0;
            long delay = backoff.delayNs(round++);
            if (System.nanoTime() + delay - deadlineNs >= 0) {
                timeout();
                return;
            }
            target = preferred;
            try {
                scheduler.schedule(this::send, delay, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                completeExceptionally(new FerriteException("client is closed", e));
            }
        }

        private void timeout() {
            completeExceptionally(new FerriteTimeoutException(what + ": no coordinator answered in time ("
                    + lastProblem + ")", lastFailure));
        }
    }
}
