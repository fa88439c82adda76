package org.sparsetransfer.core.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch (and scikit-learn) as the tests' reference (never a run-time dependency): Debian's
 * python3-torch, python3-torchvision and python3-sklearn for the system python3, installed by
 * bench/setup-pytorch.sh when missing (it needs root or sudo, as CI has). The scripts are in test
 * resources {@code pytorch/}.
 */
public final class PyTorchReference {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path SETUP = Path.of("..", "bench", "setup-pytorch.sh");
    private static boolean ready;

    private PyTorchReference() {}

    /** Installs the reference once per JVM if it is missing; fails with what to do when it cannot. */
    public static synchronized void require() throws IOException, InterruptedException {
        if (ready) {
            return;
        }
        if (run(List.of(PYTHON.toString(), "-c", "import torch, torchvision, sklearn"), null, 60).exit() != 0) {
            Result setup = run(List.of("bash", SETUP.toString()), null, 1800);
            if (setup.exit() != 0 || run(List.of(PYTHON.toString(), "-c", "import torch, torchvision, sklearn"), null, 60).exit() != 0) {
                throw new IllegalStateException("These tests compare with PyTorch, which is not installed and could not be "
                        + "installed: run `bash bench/setup-pytorch.sh` as root (Debian's python3-torch and python3-torchvision). "
                        + "Setup said: " + setup.output());
            }
        }
        ready = true;
    }

    /** Runs {@code script} (a test resource under pytorch/) with {@code args}; its standard output, or a failure with its output. */
    public static String script(String script, String... args) throws IOException, InterruptedException {
        require();
        Path dir = scripts();
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), dir.resolve(script).toString()));
        command.addAll(List.of(args));
        Result r = run(command, dir, 900);
        if (r.exit() != 0) {
            throw new IllegalStateException(script + " failed (exit " + r.exit() + "):\n" + r.output());
        }
        return r.output();
    }

    private static Path scripts() {
        try {
            return Path.of(PyTorchReference.class.getResource("/pytorch/reference_models.py").toURI()).getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command, Path dir, long timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (dir != null) {
            builder.directory(dir.toFile());
            builder.environment().put("PYTHONPATH", dir.toString());
        }
        builder.environment().put("OMP_NUM_THREADS", "2");
        Path log = Files.createTempFile("pytorch-reference", ".log");
        try {
            Process p = builder.redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out after " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
