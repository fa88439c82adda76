package org.sparsetransfer.core.data;

import java.nio.file.Path;

/**
 * Where data over a task's buffer ({@code data.buffer_mb}) spills: under the JVM's temporary
 * directory, which cluster managers point at the container's local disk (YARN, Kubernetes
 * emptyDir), so spilled files go with the executor.
 */
public final class SpillDirectory {
    private SpillDirectory() {}

    /** The directory for spilled {@code kind} (e.g. "images", "features"). */
    public static Path of(String kind) {
        return Path.of(System.getProperty("java.io.tmpdir"), "sparse-transfer-" + kind);
    }
}
