package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * conf/tiny.yaml at one of its sparsities: every method, task, regime and seed at a third of the
 * trainings, for the tests that run the whole pipeline on a cluster or a remote store.
 */
final class TinyAtOneSparsity {
    private TinyAtOneSparsity() {
    }

    /** Writes the narrowed config into {@code dir}; returns its path. */
    static Path write(Path dir) throws IOException {
        String tiny = Files.readString(LoopbackServer.ROOT.resolve("conf/tiny.yaml"));
        assertTrue(tiny.contains("sparsities: [0.8, 0.9, 0.95]"), "conf/tiny.yaml's sparsities, which this config narrows");
        return Files.writeString(dir.resolve("tiny-one-sparsity.yaml"),
                tiny.replace("sparsities: [0.8, 0.9, 0.95]", "sparsities: [0.9]").replace("name: tiny", "name: tiny-one-sparsity"));
    }
}
