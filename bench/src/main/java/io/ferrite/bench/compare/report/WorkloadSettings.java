package io.ferrite.bench.compare.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The YCSB settings of a comparison, as the report states them.
 *
 * @param records               records loaded per record size
 * @param operationsPerWorkload operations of each run phase ({@code A}, {@code B}, ...)
 * @param clientThreads         YCSB client threads
 * @param recordSizesBytes      the record sizes run, e.g. {@code [1000, 100]}
 * @param fieldLengthBytes      bytes of one YCSB field (a record holds {@code size / fieldLength} fields)
 * @param phaseNotes            one line per phase that needs one, in report order (e.g. {@code memory-w3}
 *                              to what the W3 pattern deletes and refills); may be empty
 */
public record WorkloadSettings(long records, long operationsPerWorkload, int clientThreads,
                               List<Integer> recordSizesBytes, int fieldLengthBytes, Map<String, String> phaseNotes) {
    /** Copies the collections (keeping the notes' order) and checks the sizes. */
    public WorkloadSettings {
        recordSizesBytes = List.copyOf(recordSizesBytes);
        phaseNotes = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(phaseNotes, "phaseNotes")));
        if (fieldLengthBytes <= 0) {
            throw new IllegalArgumentException("fieldLengthBytes must be positive: " + fieldLengthBytes);
        }
    }
}
