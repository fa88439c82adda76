package org.sparsetransfer.jobs.stages;

import java.lang.ref.SoftReference;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * What training tasks read from the tables, kept per executor JVM so that the runs of one
 * checkpoint or one task that land on the same executor read its files once. Keys name
 * immutable Delta data files, so an entry never goes stale; entries are soft references in a
 * small LRU, so the cache gives way to training memory.
 */
final class ExecutorCache {
    // A transfer grid cycles through every task's train and test split per checkpoint: keep them all.
    private static final int MAX_ENTRIES = 32;
    private static final Map<Object, SoftReference<Object>> ENTRIES = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, SoftReference<Object>> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    private ExecutorCache() {}

    @SuppressWarnings("unchecked")
    static synchronized <T> T get(Object key, Callable<T> load) throws Exception {
        SoftReference<Object> cached = ENTRIES.get(key);
        Object value = cached == null ? null : cached.get();
        if (value == null) {
            value = load.call();
            ENTRIES.put(key, new SoftReference<>(value));
        }
        return (T) value;
    }
}
