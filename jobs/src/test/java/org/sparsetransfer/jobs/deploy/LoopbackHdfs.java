package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real HDFS on 127.0.0.1, started and stopped by deploy/hdfs/start-hdfs.sh and stop-hdfs.sh, as a user runs them. */
public final class LoopbackHdfs implements AutoCloseable {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private final Path state;
    private final String uri;
    private final long pid;

    private LoopbackHdfs(Path state, String uri, long pid) {
        this.state = state;
        this.uri = uri;
        this.pid = pid;
    }

    public static LoopbackHdfs start(Path state) throws Exception {
        Files.createDirectories(state);
        Path stdout = state.resolve("start.out");
        Process p = new ProcessBuilder("bash", ROOT.resolve("deploy/hdfs/start-hdfs.sh").toString(), state.toString())
                .redirectOutput(stdout.toFile()).redirectError(state.resolve("start.err").toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            fail("start-hdfs.sh failed:\n" + Files.readString(state.resolve("start.err")));
        }
        List<String> lines = Files.readAllLines(stdout);
        String uri = lines.get(lines.size() - 1).strip();
        assertTrue(uri.matches("hdfs://127\\.0\\.0\\.1:\\d+"), "the last line of standard output is the URI: " + lines);
        long pid = Long.parseLong(Files.readString(state.resolve("hdfs.pid")).strip());
        return new LoopbackHdfs(state, uri, pid);
    }

    /** E.g. hdfs://127.0.0.1:PORT */
    public String uri() {
        return uri;
    }

    long pid() {
        return pid;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", ROOT.resolve("deploy/hdfs/stop-hdfs.sh").toString(), state.toString())
                .redirectErrorStream(true).redirectOutput(state.resolve("stop.out").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stop-hdfs.sh finished");
        assertEquals(0, p.exitValue(), Files.readString(state.resolve("stop.out")));
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "HDFS (pid " + pid + ") stopped");
    }
}
