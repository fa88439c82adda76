package org.sparsetransfer.jobs.bench;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/** Writes one benchmark's results file: what ran, where, and what it measured. */
final class BenchReport {
    static final String HISTORY = "## History";

    private BenchReport() {}

    static Path write(Path dir, Benchmark benchmark, Benchmark.Result result, String command) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# ").append(benchmark.title()).append("\n\n");
        md.append("Command: `").append(command).append("` (").append(Instant.now().truncatedTo(ChronoUnit.MINUTES)).append(")\n\n");
        md.append("- Machine: ").append(machine()).append('\n');
        md.append("- Java: ").append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.runtime.version"))
                .append("; DJL ").append(Engine.getDjlVersion()).append(" / ").append(Engine.getInstance().getEngineName()).append(' ')
                .append(Engine.getInstance().getVersion()).append('\n');
        result.details().forEach(line -> md.append(line).append('\n'));
        md.append("\n| figure | value |\n|---|---:|\n");
        result.figures().forEach((name, value) -> md.append("| `").append(name).append("` | ").append(value).append(" |\n"));
        Files.createDirectories(dir);
        Path file = dir.resolve(benchmark.name() + ".md");
        // Earlier figures (before and after a change) are kept by hand under this heading; a rerun carries them over.
        if (Files.exists(file)) {
            String old = Files.readString(file);
            int history = old.indexOf(HISTORY);
            if (history >= 0) {
                md.append('\n').append(old.substring(history));
            }
        }
        return Files.writeString(file, md.toString());
    }

    private static String machine() {
        long memory = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        return String.format(Locale.ROOT, "%d cores, %.0f GiB, %s %s", Runtime.getRuntime().availableProcessors(),
                memory / (double) (1L << 30), System.getProperty("os.name"), System.getProperty("os.version"));
    }
}
