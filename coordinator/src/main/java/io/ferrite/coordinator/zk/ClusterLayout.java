package io.ferrite.coordinator.zk;

import org.apache.curator.framework.CuratorFramework;

/** Creates a cluster's folders and counters the first time anyone uses it (idempotent). */
public final class ClusterLayout {
    /** First table id handed out; 0 means "no table" on the wire. */
    public static final long FIRST_TABLE_ID = 1;
    /** First server index handed out; index 0 means "no server" (server id 0 is never valid). */
    public static final long FIRST_SERVER_INDEX = 1;

    private ClusterLayout() {
    }

    public static void ensure(CuratorFramework client, ClusterPaths paths) {
        for (String folder : paths.folders()) {
            Zk.createIfMissing(client, folder, new byte[0]);
        }
        Zk.createIfMissing(client, paths.nextTableId(), NodeCodec.encodeLong(FIRST_TABLE_ID));
        Zk.createIfMissing(client, paths.nextServerIndex(), NodeCodec.encodeLong(FIRST_SERVER_INDEX));
        Zk.createIfMissing(client, paths.coordinatorEpoch(), NodeCodec.encodeLong(0));
    }
}
