package io.ferrite.proto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * KeyHash is xxHash64 with seed 0. The expected values below were produced by the reference
 * implementation ({@code xxhsum -H1}, xxHash 0.8.1); the text vectors are also the published ones.
 */
class KeyHashTest {
    @Test
    void emptyInput() {
        assertThat(KeyHash.hash(new byte[0])).isEqualTo(0xEF46DB3751D8E999L);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', textBlock = """
            a                                           | D24EC4F1A98C6E5B
            abc                                         | 44BC2CF5AD770999
            Nobody inspects the spammish repetition     | FBCEA83C8A378BF1
            The quick brown fox jumps over the lazy dog | 0B242D361FDA71BC
            """)
    void publishedTextVectors(String text, String expectedHex) {
        assertThat(KeyHash.hash(text.getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(Long.parseUnsignedLong(expectedHex, 16));
    }

    /** Lengths chosen to hit every path: each tail (1, 4, 8 bytes) alone and combined, and 1..3 stripes. */
    @ParameterizedTest(name = "{0} bytes")
    @CsvSource(delimiter = '|', textBlock = """
            1    | A96C7F0CE858BBB7
            3    | 56E6957632A487F9
            4    | C60D15B1E3FF8F04
            5    | 808815858624DD4E
            7    | AFBEFC3D6C6F9A8E
            8    | 3DA5C7AA269683E0
            9    | 4B17A9BA9E215C09
            12   | 8FE8AB1C1FD0666E
            15   | AE2A37EB9357CAA7
            16   | A19AD429B02BC413
            31   | 4A74F3A1A39AD4A1
            32   | 8D57D6A4671CC43D
            33   | 62C9FD21ED857664
            35   | 85CBCF9E0D9CBECA
            40   | 49B45332E280F187
            63   | 5C320A0D2707057F
            64   | 7BBABBC45729D17E
            65   | F3980C34BAE65DC1
            100  | EFA0AD2D3E70C151
            1000 | 99594F4828043D35
            """)
    void referenceVectorsOverEveryStripeAndTailLength(int length, String expectedHex) {
        assertThat(KeyHash.hash(pattern(length))).isEqualTo(Long.parseUnsignedLong(expectedHex, 16));
    }

    @Test
    void hashOfARangeEqualsHashOfTheSameBytesAlone() {
        SplittableRandom random = new SplittableRandom(17);
        byte[] large = new byte[300];
        for (int i = 0; i < large.length; i++) {
            large[i] = (byte) random.nextInt(256);
        }
        for (int length = 0; length <= 100; length++) {
            byte[] alone = new byte[length];
            for (int offset : new int[] {0, 1, 3, 7, 8, 13, 200 - length, 300 - length}) {
                System.arraycopy(large, offset, alone, 0, length);
                assertThat(KeyHash.hash(large, offset, length))
                        .as("length %d at offset %d", length, offset)
                        .isEqualTo(KeyHash.hash(alone));
            }
        }
    }

    @Test
    void hashIsStableAcrossCallsAndSensitiveToEveryByte() {
        byte[] key = pattern(100);
        long hash = KeyHash.hash(key);
        assertThat(KeyHash.hash(key.clone())).isEqualTo(hash);
        for (int i = 0; i < key.length; i++) {
            byte[] changed = key.clone();
            changed[i] = (byte) (changed[i] ^ 1);
            assertThat(KeyHash.hash(changed)).as("byte %d changed", i).isNotEqualTo(hash);
        }
        assertThat(KeyHash.hash(key, 0, 99)).isNotEqualTo(hash);
    }

    /** Byte {@code i} is {@code (31 * i + 7) mod 256}, as fed to xxhsum for the vectors above. */
    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (31 * i + 7);
        }
        return bytes;
    }
}
