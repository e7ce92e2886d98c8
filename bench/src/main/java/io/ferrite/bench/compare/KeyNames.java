package io.ferrite.bench.compare;

import java.util.Map;
import java.util.Properties;
import site.ycsb.WorkloadException;
import site.ycsb.measurements.Measurements;
import site.ycsb.workloads.CoreWorkload;

/** YCSB's key of record number n, from its own workload code (so the keys match what it loaded). */
final class KeyNames extends CoreWorkload {
    private KeyNames() {
    }

    /** The key names of a run with these YCSB properties. */
    static KeyNames of(Map<String, String> properties) throws WorkloadException {
        Properties p = new Properties();
        p.putAll(properties);
        Measurements.setProperties(p); // CoreWorkload's constructor asks YCSB's measurement singleton for them
        KeyNames names = new KeyNames();
        names.init(p);
        return names;
    }

    String key(long n) {
        return buildKeyName(n);
    }
}
