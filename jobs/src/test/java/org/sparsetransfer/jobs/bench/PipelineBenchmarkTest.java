package org.sparsetransfer.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineBenchmarkTest {
    @Test
    void theDemoBudgetIsTheOneTheReadmeStates() throws Exception {
        String readme = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("README.md"));
        assertTrue(readme.contains("the budget is " + PipelineBenchmark.DEMO_BUDGET_S / 60 + " minutes"), "README budget sentence");
    }

    @Test
    void aChildsPeakMemoryIsItsHighWaterMark(@TempDir Path dir) throws Exception {
        // A JVM that touches a 300 MB array: its peak resident memory is at least that, and it is over when it exits.
        Path source = Files.writeString(dir.resolve("Touch.java"), "public class Touch { public static void main(String[] a) throws Exception {"
                + " byte[] b = new byte[300 << 20]; for (int i = 0; i < b.length; i += 4096) b[i] = 1; Thread.sleep(300); } }");
        String java = ProcessHandle.current().info().command().orElse("java");
        ChildProcess.Measurement m = ChildProcess.run(List.of(java, "-Xmx1g", source.toString()), Map.of(), dir.resolve("log"));
        assertTrue(m.peakRssBytes() >= 300L << 20, "peak " + m.peakRssBytes());
        assertTrue(m.wallSeconds() >= 0.3, "wall " + m.wallSeconds());
    }

    @Test
    void aFailingChildNamesItsLog(@TempDir Path dir) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ChildProcess.run(List.of("bash", "-c", "echo boom; exit 3"), Map.of(), dir.resolve("child.log")));
        assertTrue(e.getMessage().contains("exited with 3") && e.getMessage().contains("child.log") && e.getMessage().endsWith("boom"),
                e.getMessage());
    }
}
