package io.ferrite.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void parsesUnitsInPowersOf1024() {
        assertThat(Sizes.parse("65536")).isEqualTo(65_536);
        assertThat(Sizes.parse("64k")).isEqualTo(65_536);
        assertThat(Sizes.parse("512m")).isEqualTo(512L << 20);
        assertThat(Sizes.parse("1G")).isEqualTo(1L << 30);
        assertThat(Sizes.parse("2GiB")).isEqualTo(2L << 30);
        assertThat(Sizes.parse(" 3 mb ")).isEqualTo(3L << 20);
        assertThat(Sizes.parse("1_000")).isEqualTo(1_000);
    }

    @Test
    void rejectsWhatIsNotASize() {
        assertThat(Sizes.parse("")).isEqualTo(-1);
        assertThat(Sizes.parse("m")).isEqualTo(-1);
        assertThat(Sizes.parse("-1m")).isEqualTo(-1);
        assertThat(Sizes.parse("12q")).isEqualTo(-1);
        assertThat(Sizes.parse("1.5g")).isEqualTo(-1);
        assertThat(Sizes.parse("99999999999t")).isEqualTo(-1);
        assertThat(Sizes.parse(null)).isEqualTo(-1);
    }

    @Test
    void formats() {
        assertThat(Sizes.format(512L << 20)).isEqualTo("512 MiB");
        assertThat(Sizes.format(1_536L << 10)).isEqualTo("1536 KiB");
        assertThat(Sizes.format(100)).isEqualTo("100 bytes");
    }
}
