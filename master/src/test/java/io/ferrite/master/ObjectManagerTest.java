package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ObjectManagerTest {
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writeReadOverwriteRemove() {
        engine = new ObjectManager(new EngineContext().memoryBytes(64L << 20).segmentSizeBytes(2 << 20).conclude());
        ObjectResult out = new ObjectResult();
        assertThat(engine.read(1, bytes("k"), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.write(1, bytes("k"), bytes("v1"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        long v1 = out.version();
        assertThat(engine.read(1, bytes("k"), out)).isEqualTo(Status.OK);
        assertThat(new String(out.valueCopy(), StandardCharsets.UTF_8)).isEqualTo("v1");
        assertThat(out.version()).isEqualTo(v1);
        assertThat(engine.read(2, bytes("k"), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.write(1, bytes("k"), bytes("v2"), RejectRules.ifVersion(v1), out)).isEqualTo(Status.OK);
        long v2 = out.version();
        assertThat(v2).isGreaterThan(v1);
        assertThat(engine.write(1, bytes("k"), bytes("v3"), RejectRules.ifVersion(v1), out)).isEqualTo(Status.WRONG_VERSION);
        assertThat(engine.write(1, bytes("k"), bytes("v3"), RejectRules.IF_ABSENT, out)).isEqualTo(Status.OBJECT_EXISTS);
        assertThat(engine.remove(1, bytes("k"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(out.version()).isEqualTo(v2);
        assertThat(engine.read(1, bytes("k"), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.write(1, bytes("k"), bytes("v4"), RejectRules.IF_ABSENT, out)).isEqualTo(Status.OK);
        assertThat(out.version()).isGreaterThan(v2);
        assertThat(engine.incrementLong(1, bytes("n"), 5, RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.incrementLong(1, bytes("n"), -2, RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(out.longValue()).isEqualTo(3);
        assertThat(engine.incrementLong(1, bytes("k"), 1, RejectRules.NONE, out)).isEqualTo(Status.NOT_A_NUMBER);
        assertThat(engine.write(1, new byte[0], bytes("x"), RejectRules.NONE, out)).isEqualTo(Status.INVALID_ARGUMENT);
    }

    @Test
    void cleanerKeepsEverythingReadableUnderOverwrites() throws Exception {
        engine = new ObjectManager(new EngineContext().memoryBytes(32L << 20).segmentSizeBytes(2 << 20).conclude());
        Random random = new Random(42);
        Map<Integer, byte[]> oracle = new HashMap<>();
        ObjectResult out = new ObjectResult();
        int keys = 20_000; // ~ 20k * 1 KiB = 20 MiB live of 32 MiB
        for (int i = 0; i < 200_000; i++) {
            int k = random.nextInt(keys);
            byte[] value = new byte[500 + random.nextInt(1000)];
            random.nextBytes(value);
            Status status;
            while ((status = engine.write(7, bytes("key-" + k), value, RejectRules.NONE, out)) == Status.RETRY) {
                engine.awaitFreeMemory(1_000_000_000L);
            }
            assertThat(status).isEqualTo(Status.OK);
            oracle.put(k, value);
        }
        for (Map.Entry<Integer, byte[]> e : oracle.entrySet()) {
            assertThat(engine.read(7, bytes("key-" + e.getKey()), out)).isEqualTo(Status.OK);
            assertThat(out.valueCopy()).isEqualTo(e.getValue());
        }
        EngineStats stats = engine.stats();
        System.out.println(stats);
        assertThat(stats.cleaner().segletsFreed()).isPositive();
    }
}
