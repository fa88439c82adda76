package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.jobs.cli.SparseTransferCli;

/** Bad input: one clear "error:" line, exit code 2, and nothing written under --out. */
class CliErrorsTest {
    @TempDir
    Path dir;

    private String failWith(String yaml, String command) throws IOException {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, yaml);
        return fail(command, "--config", config.toString());
    }

    private String fail(String command, String... options) {
        Path out = dir.resolve("out");
        StringWriter err = new StringWriter();
        String[] args = new String[options.length + 3];
        args[0] = command;
        System.arraycopy(options, 0, args, 1, options.length);
        args[options.length + 1] = "--out";
        args[options.length + 2] = out.toString();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), args);
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, err.toString());
        assertFalse(Files.exists(out.resolve("datasets")) || Files.exists(out.resolve("checkpoints")), "nothing half-written");
        String message = err.toString().strip();
        assertTrue(message.startsWith("error: ") || message.startsWith("Unknown option"), message);
        assertEquals(1, message.lines().count(), "one line: " + message);
        return message;
    }

    @Test
    void missingConfigFile() {
        String message = fail("pipeline", "--config", dir.resolve("nope.yaml").toString());
        assertTrue(message.contains("Config file not found") && message.contains("nope.yaml"), message);
    }

    @Test
    void anImageConfigWithoutItsDataSaysWhereItLooked() {
        String message = fail("pipeline", "--config", "../conf/cifar-resnet18.yaml");
        assertTrue(message.contains("Upstream dataset directory not found: /data/cifar-100-binary (data.images.upstream)"), message);
        Path out = dir.resolve("planned");
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream plan = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(plan, true));
        try {
            assertEquals(0, SparseTransferCli.execute(new SparseTransferCli(), "pipeline", "--dry-run", "--config",
                    "../conf/paper-resnet50.yaml", "--out", out.toString()));
        } finally {
            System.setOut(stdout);
        }
        assertTrue(plan.toString().matches("(?s).*transfer\\s+1,512\\s.*"), plan.toString());
        assertFalse(Files.exists(out), "a dry run writes nothing");
    }

    @Test
    void pruneMethodNotInTheConfig() throws IOException {
        Path config = dir.resolve("methods.yaml");
        Files.writeString(config, "pruning:\n  methods: [dense, gmp_star]\n");
        String c = config.toString();
        assertTrue(fail("prune", "--method", "imp", "--config", c).contains("--method imp is not among the config's pruning.methods [dense, gmp_star]"));
        assertTrue(fail("prune", "--method", "dense", "--config", c).contains("--method dense: the dense model is the upstream checkpoint"));
        assertTrue(fail("prune", "--method", "magic", "--config", c).contains("magic"));
    }

    @Test
    void unknownKey() throws IOException {
        assertTrue(failWith("pruning:\n  sparsity: [0.9]\n", "prune").contains("Unknown key 'sparsity' at pruning.sparsity"));
    }

    @Test
    void sparsityOutsideTheUnitInterval() throws IOException {
        assertTrue(failWith("pruning:\n  sparsities: [0.9, 1.0]\n", "pipeline").contains("pruning.sparsities[1]"));
    }

    @Test
    void unknownMethodAndTask() throws IOException {
        assertTrue(failWith("pruning:\n  methods: [dense, lottery]\n", "pipeline").contains("Unknown pruning method 'lottery'"));
        assertTrue(failWith("transfer:\n  tasks: [mnist, imagenet]\n", "transfer").contains("Unknown task 'imagenet'"));
    }

    @Test
    void unknownCommandLineOption() {
        StringWriter err = new StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), "pipeline", "--cofnig", "x");
        assertEquals(2, code);
        assertTrue(err.toString().contains("'--cofnig'") && err.toString().contains("--config"), err.toString());
    }

    @Test
    void corruptDatasetFileIsNamedAndNothingIsIngested() throws IOException {
        Path fashion = Files.createDirectories(dir.resolve("fashion"));
        for (String name : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"}) {
            Files.write(fashion.resolve(name), new byte[] {0, 0, 8, 3, 0, 0});
        }
        String message = failWith("data:\n  fetch: false\n  dir: " + dir.resolve("cache") + "\n  fashion_mnist: " + fashion
                + "\n  mnist: " + fashion + "\n  digits: " + dir.resolve("digits.csv.gz") + "\n", "ingest");
        assertTrue(message.contains("Corrupt dataset file") && message.contains("fashion"), message);
    }

    @Test
    void missingDemoDataWithFetchingOff() throws IOException {
        String message = failWith("data:\n  fetch: false\n  dir: " + dir.resolve("empty-cache") + "\n", "ingest");
        assertTrue(message.contains("is missing from") && message.contains("data.fetch"), message);
    }
}
