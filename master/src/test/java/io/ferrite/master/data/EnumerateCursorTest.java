package io.ferrite.master.data;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ferrite.proto.KeyHash;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class EnumerateCursorTest {
    @Test
    void roundTrips() {
        byte[] key = "some key".getBytes(StandardCharsets.UTF_8);
        EnumerateCursor cursor = new EnumerateCursor(KeyHash.hash(key), key);
        EnumerateCursor decoded = EnumerateCursor.decode(cursor.encode());
        assertThat(decoded).isNotNull();
        assertThat(decoded.keyHash()).isEqualTo(cursor.keyHash());
        assertThat(decoded.key()).isEqualTo(key);
    }

    @Test
    void rejectsBytesItDidNotIssue() {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        assertThat(EnumerateCursor.decode(ByteString.copyFromUtf8("garbage cursor"))).isNull();
        assertThat(EnumerateCursor.decode(ByteString.copyFrom(new byte[9]))).isNull();
        ByteString wrongHash = new EnumerateCursor(KeyHash.hash(key) + 1, key).encode();
        assertThat(EnumerateCursor.decode(wrongHash)).isNull();
        ByteString tooLong = new EnumerateCursor(0, new byte[70_000]).encode();
        assertThat(EnumerateCursor.decode(tooLong)).isNull();
    }
}
