package io.ferrite.master.replication;

/**
 * One replica of one segment on one backup, as the replication agent sees it. Owned by the
 * agent's thread.
 *
 * <p>{@code certifiedLength} is what the backup acknowledged as <em>certified</em> (the prefix
 * its last certificate covers, DESIGN §4): writers wait on it, never on more (acknowledged ⊆
 * certified). {@code ackedLength} is what it acknowledged holding, certified or not: sending is
 * paced by it. {@code sentLength} is how far the agent has sent; appends not yet covered by an
 * acknowledgement are kept in a small ring (end offset and send time), so timing a lost answer
 * allocates nothing.
 */
final class Replica {
    final ReplicaManager.Backup backup;
    final long epoch;
    boolean openSent;
    boolean openAcked;
    int sentLength;
    int ackedLength;
    int certifiedLength;
    boolean closeSent;
    boolean closeAcked;
    long lastSendNs;
    long retryAfterNs;
    int timeouts;
    /** Since when the backup refuses this master as not in the cluster (0: it does not). */
    long notInClusterSinceNs;
    long reopenDelayNs;
    private final int[] inFlightEnd;
    private final long[] inFlightSentNs;
    private int inFlightFirst;
    private int inFlightCount;

    Replica(ReplicaManager.Backup backup, long epoch, int maxInFlight) {
        this.backup = backup;
        this.epoch = epoch;
        this.inFlightEnd = new int[maxInFlight];
        this.inFlightSentNs = new long[maxInFlight];
    }

    long backupId() {
        return backup.serverId();
    }

    int inFlight() {
        return inFlightCount;
    }

    boolean canSendAppend() {
        return inFlightCount < inFlightEnd.length;
    }

    void appendSent(int end, long nowNs) {
        int slot = (inFlightFirst + inFlightCount) % inFlightEnd.length;
        inFlightEnd[slot] = end;
        inFlightSentNs[slot] = nowNs;
        inFlightCount++;
        sentLength = end;
        lastSendNs = nowNs;
    }

    boolean awaitingAnswer() {
        return openSent && !openAcked || inFlightCount > 0 || closeSent && !closeAcked;
    }

    /** When the oldest unanswered message went out. */
    long oldestOutstandingNs() {
        return inFlightCount > 0 && openAcked && !closeSent ? inFlightSentNs[inFlightFirst] : lastSendNs;
    }

    /** The backup holds everything up to {@code length}, and vouches for the first {@code certified} bytes. */
    void acknowledged(int length, int certified) {
        certifiedLength = Math.max(certifiedLength, Math.min(certified, length));
        ackedLength = Math.max(ackedLength, length);
        while (inFlightCount > 0 && inFlightEnd[inFlightFirst] <= ackedLength) {
            inFlightFirst = (inFlightFirst + 1) % inFlightEnd.length;
            inFlightCount--;
        }
        if (sentLength < ackedLength) {
            sentLength = ackedLength;
        }
    }

    /** Sends again from what was acknowledged (an answer, or a message, may have been lost). */
    void resendFromAcknowledged() {
        sentLength = ackedLength;
        inFlightFirst = 0;
        inFlightCount = 0;
        closeSent = false;
    }

    /** Starts over: open again (after a refusal that asks for it). */
    void reopen(long retryAfterNs) {
        openSent = false;
        openAcked = false;
        sentLength = 0;
        ackedLength = 0;
        certifiedLength = 0;
        inFlightFirst = 0;
        inFlightCount = 0;
        closeSent = false;
        closeAcked = false;
        this.retryAfterNs = retryAfterNs;
    }
}
