package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    /** Runs {@code command} with {@code options} and a fresh {@code --out}, which must fail as bad input and leave nothing behind. */
    private String fail(String command, String... options) {
        Path out = dir.resolve("out");
        String[] args = new String[options.length + 3];
        args[0] = command;
        System.arraycopy(options, 0, args, 1, options.length);
        args[options.length + 1] = "--out";
        args[options.length + 2] = out.toString();
        String message = failing(args);
        assertFalse(Files.exists(out), "nothing written, not even the warehouse directory or its locks");
        return message;
    }

    /** The one line a command that fails as bad input prints (exit code 2). */
    static String failing(String... args) {
        StringWriter err = new StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), args);
        String message = err.toString().strip();
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, message);
        assertTrue(message.startsWith("error: "), message);
        assertEquals(1, message.lines().count(), "one line: " + message);
        return message;
    }

    /** A master no Spark reaches: a command that started Spark before failing would hang on it, not fail at once. */
    private static final String UNREACHABLE = "spark://127.0.0.1:1";

    @Test
    void aRepeatedValueInAnyListIsRefusedBeforeAnythingRuns() throws IOException {
        String methods = failWith("pruning:\n  methods: [dense, oneshot, oneshot]\n", "pipeline");
        assertTrue(methods.contains("pruning.methods") && methods.contains("\"oneshot\" is listed twice"), methods);
        Path config = dir.resolve("seeds.yaml");
        Files.writeString(config, "transfer:\n  seeds: [5, 6, 6]\n");
        for (String command : List.of("transfer", "report", "prune", "upstream", "ingest")) {
            String seeds = fail(command, "--config", config.toString(), "--master", UNREACHABLE);
            assertTrue(seeds.contains("transfer.seeds") && seeds.contains("6 is listed twice"), seeds);
        }
        assertTrue(fail("pipeline", "--dry-run", "--config", config.toString()).contains("6 is listed twice"), "a dry run plans no repeats");
    }

    @Test
    void aConfigThatIsADirectoryOrEmptyOrMisnumberedSaysWhat() throws IOException {
        assertTrue(fail("pipeline", "--config", dir.toString()).contains("is a directory, not a file"));
        assertTrue(failWith("", "pipeline").contains("is empty; write the keys it changes"));
        assertTrue(failWith("# nothing yet\n", "pipeline").contains("is empty"));
        String batch = failWith("upstream:\n  batch_size: 0\n", "pipeline");
        assertTrue(batch.endsWith("upstream.batch_size in " + dir.resolve("config.yaml") + ": 0; expected a positive number"), batch);
    }

    @Test
    void badWarehouseLocationsAreNamedWithTheReason() {
        String empty = failing("pipeline", "--out", "", "--master", UNREACHABLE);
        assertEquals("error: --out is empty; give a directory, e.g. --out sparse-transfer-out, or a URI such as hdfs://namenode:8020/wh",
                empty);
        String proc = failing("ingest", "--out", "/proc/sparse-transfer-test", "--master", UNREACHABLE);
        assertTrue(proc.contains("Cannot use /proc/sparse-transfer-test as the warehouse (--out): cannot create or open "
                + "/proc/sparse-transfer-test: no such file or directory"), proc);
        assertTrue(failing("lineage", "--out", "", "--checkpoint", "x").contains("--out is empty"));
    }

    @Test
    void aCommandThatFailsInItsStageLeavesAFreshWarehouseAsItWas() {
        // transfer finds no checkpoints only after taking its lock and starting Spark: the lock files go again.
        String message = fail("transfer", "--master", "local[1]");
        assertTrue(message.contains("are not in") && message.contains("run the upstream and prune commands"), message);
    }

    @Test
    void masterUrlsAndNamesAreCheckedBeforeSparkStarts() throws IOException {
        String garbage = fail("pipeline", "--master", "garbage://x");
        assertTrue(garbage.startsWith("error: --master garbage://x is not a Spark master URL; expected local, local[N]"), garbage);
        Files.createDirectories(dir.resolve("warehouse"));
        String lineage = failing("lineage", "--out", dir.resolve("warehouse").toString(), "--method", "nosuch", "--sparsity", "0.9",
                "--master", UNREACHABLE);
        assertTrue(lineage.contains("Unknown pruning method 'nosuch' at --method"), lineage);
        String prune = failing("prune", "--method", "nosuch", "--out", dir.resolve("warehouse").toString(), "--master", UNREACHABLE);
        assertTrue(prune.contains("Unknown pruning method 'nosuch'"), prune);
        assertTrue(failing("lineage", "--out", dir.resolve("nowhere").toString(), "--checkpoint", "x", "--master", UNREACHABLE)
                .contains("No warehouse at " + dir.resolve("nowhere")));
        assertTrue(failing("lineage", "--out", dir.toString(), "--method", "imp", "--sparsity", "lots").contains(
                "Invalid value for option '--sparsity': 'lots' is not a double (see sparse-transfer lineage --help)"));
    }

    @Test
    void sparkSettingsAreCheckedBeforeOrAsSparkStarts() {
        assertTrue(fail("report", "--conf", "spark.master=garbage").startsWith("error: --conf spark.master garbage is not a Spark master URL"));
        assertTrue(fail("report", "--conf", "foo=bar").contains("--conf foo is not a Spark property"));
        String refused = fail("report", "--conf", "spark.sql.shuffle.partitions=abc", "--master", "local[1]");
        assertTrue(refused.contains("Spark did not start with these settings: spark.sql.shuffle.partitions should be int, but was abc"),
                refused);
    }

    @Test
    void lineageNamesWhatNoCheckpointCanBe() throws IOException {
        Path warehouse = Files.createDirectories(dir.resolve("lineage"));
        String w = warehouse.toString();
        assertTrue(failing("lineage", "--out", w, "--method", "dense", "--sparsity", "0.9", "--master", UNREACHABLE)
                .contains("--method dense is the dense model, at sparsity 0"));
        assertTrue(failing("lineage", "--out", w, "--method", "gmp", "--sparsity", "NaN", "--master", UNREACHABLE)
                .contains("--sparsity NaN is not a sparsity"));
        assertTrue(failing("lineage", "--out", w, "--method", "gmp", "--sparsity", "0.85", "--config", "../conf/tiny.yaml",
                "--master", UNREACHABLE).contains("--sparsity 0.85 is not among the sparsities [0.8, 0.9, 0.95] of ../conf/tiny.yaml"));
    }

    @Test
    void otherCommandsRefuseBadInputInOneLine() throws IOException {
        assertTrue(failing("import-weights", "--model", "resnet18", "--file", dir.resolve("none.safetensors").toString(),
                "--method", "r18_published", "--out", dir.resolve("w").toString()).contains("Weights file not found"));
        assertTrue(failing("import-weights", "--model", "resnet18", "--classes", "0", "--file", "x", "--method", "r18_published",
                "--out", dir.resolve("w").toString()).contains("--classes must be at least 1"));
        assertTrue(failing("import-weights", "--model", "resnet18", "--file", "x", "--method", "r18_published", "--master", "nonsense")
                .contains("--master nonsense is not a Spark master URL"));
        assertTrue(failing("import-weights", "--model", "resnet18", "--file", "x", "--out", dir.resolve("w").toString())
                .contains("Missing required option: '--method=LABEL'"));
        assertTrue(failing("import-weights", "--model", "resnet18", "--file", "x", "--method", "r18", "--family", "odd",
                "--out", dir.resolve("w").toString()).contains("Unknown method family 'odd' at --family"));
        assertTrue(failing("models", "--classes", "0").contains("--classes must be at least 1"));
        assertTrue(failing("synth-images", "--out", "/proc/sparse-transfer-synth").contains("cannot create --out /proc/sparse-transfer-synth"));
        Files.writeString(dir.resolve("taken"), "x");
        assertTrue(failing("synth-images", "--out", dir.resolve("taken").toString()).contains("is a file, not a directory"));
        Files.createDirectories(dir.resolve("used/x"));
        assertTrue(failing("synth-images", "--out", dir.resolve("used").toString()).contains("exists and is not an empty directory"));
        assertTrue(failing("import-weights", "--model", "resnet18", "--file", dir.toString(), "--method", "r18_published",
                "--out", dir.resolve("w").toString()).contains("is a directory; give the checkpoint file itself"));
        assertTrue(failing("export", "--checkpoint", "x", "--file", dir.toString(), "--out", dir.resolve("w").toString())
                .contains("is a directory; give a file such as model.pth"));
        assertFalse(Files.exists(dir.resolve("w")), "import-weights wrote nothing");
    }

    @Test
    void aStageThatFailsMidwayKeepsWhatItStoredAndSaysSo() throws IOException {
        Path images = dir.resolve("images");
        InProcessCli.run("synth-images", "--out", images.toString());
        // The task's first batch holds a label CIFAR-10 does not have: found when it is decoded, after the upstream dataset is stored.
        Path batch = images.resolve("transfer/cifar10/data_batch_1.bin");
        byte[] bytes = Files.readAllBytes(batch);
        bytes[0] = (byte) 200;
        Files.write(batch, bytes);
        Path out = dir.resolve("out");
        String message = failing("ingest", "--config", images.resolve("tiny-images.yaml").toString(), "--out", out.toString(),
                "--master", "local[1]");
        assertTrue(message.contains("label 200 at record 0 is outside 0..9 of CIFAR10"), message);
        assertTrue(message.endsWith("; what was stored before the failure is kept (datasets created at version 1), and a rerun "
                + "continues from it"), message);
        assertTrue(Files.isDirectory(out.resolve("datasets")), "the upstream dataset stays stored");
    }

    @Test
    void aDamagedIdxHeaderIsNamedAndNothingIsIngested() throws IOException {
        Path fashion = Files.createDirectories(dir.resolve("fashion"));
        java.io.ByteArrayOutputStream labels = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(labels);
        out.writeInt(0x801);
        out.writeInt(0x8000ea60); // 60000 labels with one bit flipped
        out.write(new byte[60_000]);
        for (String name : new String[] {"train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"}) {
            Files.write(fashion.resolve(name), labels.toByteArray());
        }
        for (String name : new String[] {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"}) {
            Files.write(fashion.resolve(name), new byte[] {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0});
        }
        String message = failWith("data:\n  fetch: false\n  dir: " + dir.resolve("cache") + "\n  fashion_mnist: " + fashion
                + "\n  mnist: " + fashion + "\n  digits: " + dir.resolve("digits.csv.gz") + "\n", "ingest");
        assertTrue(message.contains("Corrupt dataset file " + fashion.resolve("train-labels-idx1-ubyte")
                + ": its header gives -2147423648 labels"), message);
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
        assertTrue(plan.toString().matches("(?s).*transfer\\s+2,976\\s.*"), plan.toString());
        assertTrue(plan.toString().contains("  aircraft (6,667 training images)\n    linear: 150 epochs = 15,600 steps, lr 0.01"), plan.toString());
        assertTrue(plan.toString().contains("    full: 150 epochs = 15,600 steps, lr 0.01 x0.1 at epochs [50, 100]"), plan.toString());
        // The pruning recipes in epochs, with the steps they come to on 1,271,167 images at batch 256 (4,965 per epoch).
        assertTrue(plan.toString().contains("  oneshot: fine-tuning 10 epochs = 49,650 steps\n"), plan.toString());
        assertTrue(plan.toString().contains("  gmp: 20 intervals of 1 epoch = 4,965 steps, recovery 10 epochs = 49,650 steps\n"),
                plan.toString());
        assertTrue(plan.toString().contains("  imp: rewind point 1 epoch = 4,965 steps into the dense run"), plan.toString());
        assertFalse(Files.exists(out), "a dry run writes nothing");

        // The study's transfer-only experiment plans without its checkpoints or data at hand.
        plan.reset();
        System.setOut(new java.io.PrintStream(plan, true));
        try {
            assertEquals(0, SparseTransferCli.execute(new SparseTransferCli(), "pipeline", "--dry-run", "--config",
                    "../conf/paper-transfer.yaml", "--out", out.toString()));
        } finally {
            System.setOut(stdout);
        }
        assertTrue(plan.toString().matches("(?s).*transfer\\s+1,536\\s.*"), "16 checkpoints x 12 tasks x (5 + 3) seeds: " + plan);
        assertTrue(plan.toString().contains("none: a transfer-only experiment"), plan.toString());
        assertTrue(plan.toString().contains("16 imported checkpoints (dense, acdc_published"), plan.toString());
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
        String message = failing("pipeline", "--cofnig", "x");
        assertTrue(message.contains("Unknown options: '--cofnig'") && message.contains("did you mean --config"), message);
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
