package org.sparsetransfer.jobs.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.sparsetransfer.jobs.cli.SparseTransferCli;

/**
 * Runs a command as a child process, output to a log, and measures its wall time and peak
 * resident memory. Peak memory is the kernel's own high-water mark ({@code VmHWM} in
 * {@code /proc/PID/status}), read every 50 ms while the process lives: the last reading misses
 * at most the final 50 ms. Where {@code /proc} is missing the peak is unknown (-1).
 */
final class ChildProcess {
    private static final long POLL_MS = 50;

    record Measurement(double wallSeconds, long peakRssBytes) {}

    private ChildProcess() {}

    /**
     * This application in a fresh JVM with this JVM's flags and classpath (so it runs the code
     * under test whether started by the launcher or by the test runner).
     */
    static List<String> application(String... args) {
        return java(List.of(), SparseTransferCli.class, args);
    }

    /** {@code main} in a fresh JVM with this JVM's flags, then {@code flags} (a later -Xmx wins), and its classpath. */
    static List<String> java(List<String> flags, Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib:jdwp") && !a.startsWith("-javaagent:"))
                .forEach(command::add);
        command.addAll(flags);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        return command;
    }

    /** Runs {@code command} to its end; a non-zero exit is an error naming the log. */
    static Measurement run(List<String> command, Map<String, String> environment, Path log) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        long start = System.nanoTime();
        Process process = builder.start();
        Path status = Path.of("/proc", Long.toString(process.pid()), "status");
        long peak = -1;
        while (!process.waitFor(POLL_MS, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, highWaterMark(status));
        }
        double wall = (System.nanoTime() - start) / 1e9;
        if (process.exitValue() != 0) {
            // The benchmarks delete their scratch directories, the log included: the message carries its end.
            List<String> lines = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList(); // never throws on bad bytes
            throw new IllegalStateException(String.join(" ", command.subList(Math.max(0, command.size() - 6), command.size()))
                    + " exited with " + process.exitValue() + " (log " + log + "); its last lines:\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
        }
        return new Measurement(wall, peak);
    }

    /** VmHWM in bytes, or -1 where it cannot be read (no /proc, or the process just ended). */
    static long highWaterMark(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024; // the kernel reports kB
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone between polls, or not Linux: the peak read so far stands.
        }
        return -1;
    }
}
