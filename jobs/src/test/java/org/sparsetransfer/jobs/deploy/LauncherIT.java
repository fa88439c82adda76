package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The launcher checks its environment settings before it starts a JVM: one line, exit 2. */
class LauncherIT {
    private static final Path LAUNCHER = Path.of("..", "bin", "sparse-transfer");

    @Test
    void badHeapAndThreadSettingsAreOneLine() throws Exception {
        assertEquals("error: SPARSE_TRANSFER_HEAP=lots is not a heap size; give e.g. 8g or 12000m",
                run("SPARSE_TRANSFER_HEAP", "lots"));
        assertEquals("error: SPARSE_TRANSFER_THREADS=0 is not a positive whole number of threads; give e.g. 4",
                run("SPARSE_TRANSFER_THREADS", "0"));
    }

    private static String run(String variable, String value) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(LAUNCHER.toString(), "models").redirectErrorStream(true);
        builder.environment().put(variable, value);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        process.waitFor(60, TimeUnit.SECONDS);
        assertEquals(2, process.exitValue(), output);
        return output;
    }
}
