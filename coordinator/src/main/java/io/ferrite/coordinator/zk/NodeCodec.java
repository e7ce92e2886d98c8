package io.ferrite.coordinator.zk;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UInt64Value;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.Tablet;

/**
 * Encodes node data as protobuf messages: counters and ids as {@code google.protobuf.UInt64Value},
 * records as the {@code ServerInfo}, {@code TableInfo} and {@code Tablet} messages of
 * {@code ferrite/v1/coordinator.proto}. Protobuf keeps the nodes readable by other tools and
 * lets fields be added later without breaking older coordinators.
 */
public final class NodeCodec {
    private NodeCodec() {
    }

    public static byte[] encodeLong(long value) {
        return UInt64Value.of(value).toByteArray();
    }

    public static long decodeLong(String path, byte[] data) {
        try {
            return UInt64Value.parseFrom(data).getValue();
        } catch (InvalidProtocolBufferException e) {
            throw corrupt(path, e);
        }
    }

    public static ServerInfo decodeServer(String path, byte[] data) {
        try {
            return ServerInfo.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            throw corrupt(path, e);
        }
    }

    public static TableInfo decodeTable(String path, byte[] data) {
        try {
            return TableInfo.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            throw corrupt(path, e);
        }
    }

    public static Tablet decodeTablet(String path, byte[] data) {
        try {
            return Tablet.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            throw corrupt(path, e);
        }
    }

    private static ClusterStoreException corrupt(String path, InvalidProtocolBufferException e) {
        return new ClusterStoreException("node " + path + " holds data that does not decode", e);
    }
}
