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

/**
 * A server on 127.0.0.1 that deploy/SERVICE/start-SERVICE.sh starts and stop-SERVICE.sh stops, as a
 * user runs them: the start script prints the server's address as the last line of standard
 * output and records its pid in STATE_DIR/SERVICE.pid.
 */
public class LoopbackServer implements AutoCloseable {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private final String service;
    private final Path state;
    private final String uri;
    private final long pid;

    LoopbackServer(String service, Path state, String addressPattern) throws Exception {
        this.service = service;
        this.state = Files.createDirectories(state);
        Path stdout = state.resolve("start.out");
        Process p = new ProcessBuilder("bash", script("start"), state.toString())
                .redirectOutput(stdout.toFile()).redirectError(state.resolve("start.err").toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            fail("start-" + service + ".sh failed:\n" + Files.readString(state.resolve("start.err")));
        }
        List<String> lines = Files.readAllLines(stdout);
        this.uri = lines.get(lines.size() - 1).strip();
        assertTrue(uri.matches(addressPattern), "the last line of standard output is the address: " + lines);
        this.pid = Long.parseLong(Files.readString(state.resolve(service + ".pid")).strip());
    }

    /** The address the start script printed, e.g. hdfs://127.0.0.1:PORT. */
    public String uri() {
        return uri;
    }

    long pid() {
        return pid;
    }

    private String script(String verb) {
        return ROOT.resolve("deploy/" + service + "/" + verb + "-" + service + ".sh").toString();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", script("stop"), state.toString())
                .redirectErrorStream(true).redirectOutput(state.resolve("stop.out").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stop-" + service + ".sh finished");
        assertEquals(0, p.exitValue(), Files.readString(state.resolve("stop.out")));
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), service + " (pid " + pid + ") stopped");
    }
}
