package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.delta.tables.DeltaTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.experiment.DenseExtension;
import org.sparsetransfer.core.experiment.ExperimentPlan;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.tables.WarehouseLock;
import org.sparsetransfer.jobs.notebooks.ZeppelinNotes;

/**
 * The tiny config (all nine methods) end to end through the CLI, on real data, with Kryo
 * registration required: the report's rows, exact masks read back from Delta, lineage, a rerun
 * that changes nothing, time travel to an earlier run, the warehouse lock, a run killed in the
 * middle of pruning and resumed, and a corrupt checkpoint.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TinyPipelineTest {
    private static final Path TINY = Path.of("../conf/tiny.yaml");
    /** Stages whose checkpoints are upstream models that get transferred. */
    private static final Set<String> MODEL_STAGES = Set.of("upstream", "prune", "imp", "colt_ticket");

    @TempDir
    static Path out;

    @TempDir
    static Path scratch;

    private ExperimentConfig config;
    private ExperimentIds ids;
    private String firstRunOutput;
    private String firstCsv;
    private Map<String, String> firstChecksums;
    private Map<String, List<Long>> firstTables;

    @BeforeAll
    void runPipeline() throws IOException {
        config = ConfigLoader.load(TINY);
        ids = new ExperimentIds(config);
        // No split passes through the driver: with the tiny train split's rows (3.1 MiB compressed)
        // collected there, as they once were, this limit fails the run.
        // No context may be running, or the limit below (a static setting) would not apply; each command stops its own.
        stopDefaultSession();
        firstRunOutput = InProcessCli.run("pipeline", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]",
                "--conf", "spark.driver.maxResultSize=2m");
        firstCsv = Files.readString(out.resolve("report/transfer_table.csv"));
        firstChecksums = checksums(out);
        firstTables = tables(out);
    }

    @AfterAll
    void stopSpark() {
        stopDefaultSession();
    }

    /** Stops the session the CLI commands left as the default, so the next test class starts its own. */
    static void stopDefaultSession() {
        SparkSession.getDefaultSession().foreach(session -> {
            session.stop();
            return null;
        });
    }

    @Test
    @Order(1)
    void bothCsvsHaveEveryMethodAndSparsity() throws Exception {
        List<String> lines = Files.readAllLines(out.resolve("report/transfer_table.csv"));
        assertEquals("method,sparsity,regime,task,metric,mean,std,n_seeds,delta_vs_dense,n_failed,n_missing,family,p_vs_dense,p_holm,"
                + "test_vs_dense,control,delta_vs_control,p_vs_control,p_holm_control,upstream_steps,upstream_examples,n_unconverged",
                lines.get(0));
        Map<String, Long> budgets = budgets();
        Set<String> keys = new HashSet<>();
        int tested = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(22, f.length, line);
            boolean control = f[0].equals(DenseExtension.METHOD);
            assertEquals(control ? "dense" : PruningMethods.byKey(f[0], "test").family().key(), f[11], line);
            assertEquals("0", f[9], "no seed failed: " + line);
            assertEquals("0", f[10], "no seed is missing: " + line);
            assertTrue(keys.add(f[0] + "|" + f[1] + (control ? "|" + f[19] : "") + "|" + f[2] + "|" + f[3]), "duplicate row " + line);
            assertEquals(String.valueOf(config.transfer.seeds.size()), f[7], line);
            double mean = Double.parseDouble(f[5]);
            assertTrue(mean > 10 && mean <= 100, "accuracy in percent, above chance: " + line);
            assertEquals(f[3].equals("digits8x8") ? "mean_per_class" : "top1", f[4], line);
            assertTrue(Long.parseLong(f[19]) > 0 && Long.parseLong(f[20]) == Long.parseLong(f[19]) * (f[0].equals("dense") || control
                    ? config.upstream.batchSize : config.pruning.batchSize) || f[0].equals("imp") || f[0].equals("colt"),
                    "the checkpoint's upstream steps and examples: " + line);
            assertTrue(Long.parseLong(f[21]) >= 0, line);
            if (f[0].equals("dense")) {
                assertEquals(0.0, Double.parseDouble(f[1]));
                assertEquals(0.0, Double.parseDouble(f[8]));
            } else if (!control) {
                // Every sparse cell: tested against dense (Holm-adjusted) and against the control of its own budget.
                assertEquals(DenseExtension.METHOD + "-" + f[19], f[15], "matched by upstream steps: " + line);
                assertTrue(budgets.containsKey(f[19]), line);
                assertFalse(f[16].isEmpty(), "a delta vs the control: " + line);
                if (!f[12].isEmpty()) {
                    tested++;
                    assertTrue(Double.parseDouble(f[13]) >= Double.parseDouble(f[12]), "Holm never lowers a p-value: " + line);
                    assertTrue(List.of("welch", "mcnemar").contains(f[14]), line);
                }
            }
        }
        assertTrue(tested > 0, "some comparisons were tested");
        Set<String> expected = new HashSet<>();
        for (String regime : config.transfer.regimes) {
            for (String task : config.transfer.tasks) {
                expected.add("dense|0.0000|" + regime + "|" + task);
                for (PruningMethod method : ExperimentPlan.methods(config)) {
                    for (double s : method.targets(config)) {
                        expected.add(method.key() + "|" + String.format("%.4f", s) + "|" + regime + "|" + task);
                    }
                }
                budgets.keySet().forEach(b -> expected.add(DenseExtension.METHOD + "|0.0000|" + b + "|" + regime + "|" + task));
            }
        }
        assertEquals(expected, keys);
        String markdown = Files.readString(out.resolve("report/transfer_table.md"));
        assertTrue(markdown.contains("## Findings"), markdown);
        assertTrue(markdown.contains("after Holm-Bonferroni correction over the"), markdown);
        assertTrue(markdown.contains("- Mean Δ vs dense per method family: magnitude "), markdown);
        assertTrue(markdown.contains("- Against the compute-matched control (dense_extended"), markdown);
        assertTrue(markdown.contains("| " + DenseExtension.METHOD + " +"), markdown);
        assertTrue(Files.readString(out.resolve("report/index.html")).contains("<h2>Findings</h2>"));

        List<String> upstream = Files.readAllLines(out.resolve("report/upstream_table.csv"));
        assertEquals("method,sparsity,actual_sparsity,upstream_top1,train_steps,wall_s", upstream.get(0));
        assertEquals(1 + prunedCheckpoints() + budgets.size(), upstream.size() - 1);
        Set<String> methods = new HashSet<>();
        upstream.subList(1, upstream.size()).forEach(line -> methods.add(line.split(",")[0]));
        Set<String> expectedMethods = new HashSet<>(config.pruning.methods);
        expectedMethods.add(DenseExtension.METHOD);
        assertEquals(expectedMethods, methods);

        String html = Files.readString(out.resolve("report/index.html"));
        for (String regime : config.transfer.regimes) {
            for (String task : config.transfer.tasks) {
                String plot = regime + "_" + task + ".png";
                assertTrue(html.contains("src=\"" + plot + "\"") && Files.size(out.resolve("report").resolve(plot)) > 1000, plot);
            }
            assertTrue(Files.exists(out.resolve("report/mean_" + regime + ".png")));
        }
        assertTrue(Files.exists(out.resolve("report/upstream.png")));

        assertTrue(markdown.contains("mean over tasks") && markdown.contains("| colt | 0.95 |"), markdown);
        assertTrue(firstRunOutput.contains("| dense | 0.00 |"), "pipeline prints the table at the end");
    }

    @Test
    @Order(2)
    void masksReadBackFromDeltaAreExactAndPrunedWeightsAreZero() {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        List<CheckpointRecord> records = spark.read().format("delta").load(new Warehouse(out).checkpoints()).collectAsList()
                .stream().map(CheckpointRecord::fromRow).filter(r -> MODEL_STAGES.contains(r.stage())).toList();
        assertEquals(1 + prunedCheckpoints(), records.size());
        for (CheckpointRecord record : records) {
            CheckpointCodec.Decoded decoded = record.decode();
            assertTrue(record.upstreamTop1() > 50, record.id() + " upstream top-1 " + record.upstreamTop1() + "% (chance is 10%)");
            if (record.method().equals("dense")) {
                assertEquals(null, decoded.mask());
                continue;
            }
            // COLT lands its intersected mask within pruning.colt.tolerance; every other method exactly.
            double tolerance = record.method().equals("colt") ? recipe("colt", "tolerance") : 0.001;
            assertEquals(record.targetSparsity(), decoded.mask().sparsity(), tolerance, record.id());
            assertEquals(record.actualSparsity(), decoded.mask().sparsity(), 1e-12);
            for (String name : decoded.mask().tensorNames()) {
                Tensor t = decoded.weights().get(name);
                boolean[] kept = decoded.mask().bits(name);
                for (int i = 0; i < kept.length; i++) {
                    if (!kept[i]) {
                        assertTrue(t.values()[i] == 0f, record.id() + " " + name + "[" + i + "] = " + t.values()[i]);
                    }
                }
            }
            // Bitmask plus kept values: about (1 - s) of the dense float32 bytes, plus 1/32 for the mask and the dense
            // tensors (biases, BatchNorm) that no method prunes.
            assertTrue(record.payload().length < (1.15 - record.targetSparsity()) * record.totalParams() * 4,
                    record.id() + " sparse encoding is compact: " + record.payload().length + " bytes for " + record.totalParams()
                            + " parameters");
            assertTrue(record.trainSteps() > 0);
        }
        CheckpointRecord colt95 = records.stream().filter(r -> r.id().equals(ids.prunedId(PruningMethods.byKey("colt", "test"), 0.95))).findFirst()
                .orElseThrow();
        CheckpointRecord imp95 = records.stream().filter(r -> r.id().equals(ids.prunedId(PruningMethods.byKey("imp", "test"), 0.95))).findFirst()
                .orElseThrow();
        assertTrue(colt95.trainSteps() > recipe("colt", "final_steps"), "COLT counts its rounds' steps too");
        assertTrue(imp95.trainSteps() >= 3 * recipe("imp", "retrain_steps"), "IMP counts the whole chain");
    }

    @Test
    @Order(3)
    void lineageWalksTheChainFromTheDenseModel() {
        String output = InProcessCli.run("lineage", "--out", out.toString(), "--method", "imp", "--sparsity", "0.95", "--master", "local[2]");
        List<String> chain = new ArrayList<>();
        for (String line : output.lines().toList()) {
            if (line.matches("^(dense|imp)-\\S+ .*")) {
                chain.add(line.split("\\s+")[0]);
            }
        }
        assertEquals(List.of(ids.denseId(), ids.prunedId(PruningMethods.byKey("imp", "test"), 0.8), ids.prunedId(PruningMethods.byKey("imp", "test"), 0.9),
                ids.prunedId(PruningMethods.byKey("imp", "test"), 0.95)), chain, output);
        String colt = InProcessCli.run("lineage", "--out", out.toString(), "--checkpoint", ids.prunedId(PruningMethods.byKey("colt", "test"), 0.9),
                "--master", "local[2]");
        assertTrue(colt.contains("colt_round") && colt.contains("colt_ticket"), colt);
    }

    @Test
    @Order(4)
    void rerunSkipsEveryStageAndChangesNoTable() throws Exception {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = new Warehouse(out);
        List<Long> before = versions(spark, warehouse);
        long results = spark.read().format("delta").load(warehouse.transferResults()).count();

        String output = InProcessCli.run("pipeline", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");

        spark = SparkSessions.create("test", "local[2]");
        assertTrue(output.contains("dense checkpoint") && output.contains("exists, skipping"), output);
        assertTrue(output.contains("all " + prunedCheckpoints() + " pruned checkpoints exist"),
                output);
        assertTrue(output.contains("transfer runs are done"), output);
        assertEquals(before, versions(spark, warehouse), "no commit to datasets, checkpoints or results");
        long grid = transferRuns(config.transfer.regimes.size() * config.transfer.seeds.size());
        assertEquals(grid, results, "one row per (checkpoint, task, regime, seed)");
        assertEquals(results, spark.read().format("delta").load(warehouse.transferResults()).count());

        // The older methods' checkpoints are the same whether or not the config also has the newer methods
        // (ids from the key and recipe, seeds from the key): without acdc, rigl and nm, pruning finds every one stored.
        Path older = out.resolve("tiny-older-methods.yaml");
        Files.writeString(older, Files.readString(TINY).replace("methods: [dense, oneshot, gmp, gmp_star, imp, colt, acdc, rigl, nm]",
                "methods: [dense, oneshot, gmp, gmp_star, imp, colt]"));
        output = InProcessCli.run("prune", "--config", older.toString(), "--out", out.toString(), "--master", "local[2]");
        assertTrue(output.contains("all 15 pruned checkpoints exist"), output);
        assertEquals(before, versions(SparkSessions.create("test", "local[2]"), warehouse), "no commit");
    }

    @Test
    @Order(5)
    void aRetriedTaskAndADivergedRunLeaveExactlyOneRowPerRunAndTheReportMarksTheFailure() throws Exception {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = new Warehouse(out);
        Map<String, String> original = results(spark, warehouse);
        String retried = ids.prunedId(PruningMethods.byKey("gmp_star", "test"), 0.9);
        String diverging = ids.prunedId(PruningMethods.byKey("oneshot", "test"), 0.8);
        DeltaTable.forPath(spark, warehouse.transferResults()).delete("checkpoint_id = '" + retried + "' OR (checkpoint_id = '"
                + diverging + "' AND task = 'mnist' AND regime = 'full')");
        Path faulty = scratch.resolve("retry.yaml");
        Files.writeString(faulty, Files.readString(TINY) + "\nfault:\n  fail_first_transfer_attempt: true\n  diverge_transfer:\n"
                + "    - {method: oneshot, sparsity: 0.8, task: mnist, regime: full}\n");
        stopSpark();

        // local[2,2]: spark.task.maxFailures = 2, so the task that fails its first attempt is retried.
        String output = InProcessCli.run("transfer", "--config", faulty.toString(), "--out", out.toString(), "--master", "local[2,2]");
        assertTrue(output.contains("failing attempt 0 of"), output);
        assertTrue(output.contains(" 18/18 stored"), output);

        spark = SparkSessions.create("test", "local[2]");
        Map<String, String> after = results(spark, warehouse);
        assertEquals(original.keySet(), after.keySet(), "no run lost");
        assertEquals(original.size(), spark.read().format("delta").load(warehouse.transferResults()).count(), "none duplicated");
        for (Map.Entry<String, String> e : original.entrySet()) {
            if (e.getKey().startsWith(diverging + "|mnist|full|")) {
                assertTrue(after.get(e.getKey()).startsWith("failed null training diverged"), after.get(e.getKey()));
            } else {
                assertEquals(e.getValue(), after.get(e.getKey()), "the retried runs reproduce their results: " + e.getKey());
            }
        }
        assertEquals(List.of("cpu()"), spark.read().format("delta").load(warehouse.transferResults()).select("device")
                .distinct().collectAsList().stream().map(r -> r.getString(0)).toList(), "the device is stored with each run");

        InProcessCli.run("report", "--config", faulty.toString(), "--out", out.toString(), "--master", "local[2]");
        String markdown = Files.readString(out.resolve("report/transfer_table.md"));
        String fullSection = markdown.substring(markdown.indexOf("## full finetuning"));
        assertTrue(fullSection.matches("(?s).*\\| oneshot \\| 0\\.80 \\| [0-9,]+ \\| [0-9,]+ \\| failed \\(2 of 2 runs\\) \\|.*"), markdown);
        assertTrue(Files.readString(out.resolve("report/index.html")).contains("<td class=\"failed\">failed (2 of 2 runs)</td>"));

        // A plain rerun retries the failed runs only, and the tables are whole again.
        output = InProcessCli.run("transfer", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        assertTrue(output.contains("2/2 stored"), output);
        spark = SparkSessions.create("test", "local[2]");
        assertEquals(original, results(spark, warehouse));
        InProcessCli.run("report", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        assertEquals(firstCsv, Files.readString(out.resolve("report/transfer_table.csv")));
    }

    @Test
    @Order(6)
    void reportAsOfAnEarlierRunUsesThatRunsTableVersions() throws IOException {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = new Warehouse(out);
        String firstRun = spark.read().format("delta").load(warehouse.runs()).where("command = 'pipeline'")
                .orderBy("started_at").select("run_id").first().getString(0);
        // Results change after that run; the current report shows it, the as-of report does not.
        DeltaTable.forPath(spark, warehouse.transferResults()).updateExpr("method = 'dense'", Map.of("value", "value - 5"));
        InProcessCli.run("report", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        assertNotEquals(firstCsv, Files.readString(out.resolve("report/transfer_table.csv")));

        InProcessCli.run("report", "--as-of-run", firstRun, "--out", out.toString(), "--master", "local[2]");
        assertEquals(firstCsv, Files.readString(out.resolve("report/runs/" + firstRun + "/transfer_table.csv")));
    }

    @Test
    @Order(7)
    void everyZeppelinNoteQueryRunsAndReturnsRowsOnThisWarehouse() throws IOException {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Map<String, String> forms = Map.of("warehouse", out.toAbsolutePath().toString());
        int queries = 0;
        for (Path file : ZeppelinNotes.files()) {
            for (ZeppelinNotes.Paragraph p : ZeppelinNotes.read(file)) {
                if (!p.interpreter().equals("%spark.sql")) {
                    continue;
                }
                for (String sql : ZeppelinNotes.statements(p, forms)) {
                    long rows = spark.sql(sql).count();
                    assertTrue(rows > 0, p.note() + " / " + p.title() + " returned no rows:\n" + sql);
                    queries++;
                }
            }
        }
        assertTrue(queries >= 12, "queries run: " + queries);
    }

    @Test
    @Order(8)
    void anIncompleteReportIsRefusedWritingNothingAndAPartialOneSaysSo() throws Exception {
        Warehouse warehouse = new Warehouse(out);
        InProcessCli.run("report", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        String completeCsv = Files.readString(out.resolve("report/transfer_table.csv"));
        SparkSession spark = SparkSessions.create("test", "local[2]");
        String missing = "checkpoint_id = '" + ids.prunedId(PruningMethods.byKey("gmp", "test"), 0.9) + "' AND regime = 'linear'";
        List<Row> saved = spark.read().format("delta").load(warehouse.transferResults()).where(missing).collectAsList();
        org.apache.spark.sql.types.StructType schema = spark.read().format("delta").load(warehouse.transferResults()).schema();
        DeltaTable.forPath(spark, warehouse.transferResults()).delete(missing);
        stopSpark();

        Map<String, String> before = snapshot(out);
        String message = CliErrorsTest.failing("report", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        long configured = transferRuns(config.transfer.regimes.size() * config.transfer.seeds.size());
        assertTrue(message.startsWith("error: The report is incomplete: 8 of " + configured + " configured transfer runs have no result, in 4 cells: "
                + "gmp 0.90 linear mnist (2), gmp 0.90 linear mnist_fewshot (2)"), message);
        assertTrue(message.contains("Produce them with the transfer command (or pipeline) and this config, or pass --allow-incomplete"),
                message);
        assertEquals(before, snapshot(out), "no table version, report file or directory changed");

        InProcessCli.run("report", "--allow-incomplete", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        String markdown = Files.readString(out.resolve("report/transfer_table.md"));
        assertTrue(markdown.contains("**PARTIAL REPORT** (written with --allow-incomplete): 8 of " + configured), markdown);
        assertTrue(markdown.matches("(?s).*\\| gmp \\| 0\\.90 \\| [0-9,]+ \\| [0-9,]+ \\| missing \\(2 of 2 runs\\) \\| missing \\(2 of 2 runs\\) \\|.*"),
                markdown);
        assertTrue(Files.readString(out.resolve("report/index.html")).contains("<b>Partial report</b>"));
        assertTrue(Files.readString(out.resolve("report/transfer_table.csv")).contains("gmp,0.9000,linear,mnist,top1,,,0,,0,2,magnitude,"));

        spark = SparkSessions.create("test", "local[2]");
        spark.createDataFrame(saved, schema).write().format("delta").mode("append").save(warehouse.transferResults());
        stopSpark();
        InProcessCli.run("report", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        assertEquals(completeCsv, Files.readString(out.resolve("report/transfer_table.csv")), "whole again");
        spark = SparkSessions.create("test", "local[2]");
        Row last = DeltaTable.forPath(spark, warehouse.transferTable()).history(1).select("userMetadata").first();
        String published = Files.readAllLines(out.resolve("report/.report-files")).get(0);
        assertEquals("# token " + last.getString(0).substring("report-files ".length()), published,
                "the report's files are those of the table's last commit");
    }

    @Test
    @Order(9)
    void aReportWithoutResultsForItsSettingsFailsLeavingTheOldReport() throws IOException {
        Path other = scratch.resolve("other-linear.yaml");
        Files.writeString(other, Files.readString(TINY).replace("  linear:\n    steps: 60\n", "  linear:\n    steps: 61\n"));
        Map<String, String> before = snapshot(out);
        String message = CliErrorsTest.failing("report", "--config", other.toString(), "--out", out.toString(), "--master", "local[2]");
        assertTrue(message.startsWith("error: No transfer results for this config in "), message);
        assertEquals(before, snapshot(out), "transfer_table keeps its version and report/ its files");
    }

    @Test
    @Order(10)
    void aDamagedCheckpointFileIsOneErrorNamingTheTableTheFileAndTheFix() throws Exception {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        String victim = ids.prunedId(PruningMethods.byKey("gmp_star", "test"), 0.8);
        Path file = Path.of(java.net.URI.create(spark.read().format("delta").load(new Warehouse(out).checkpoints())
                .where("id = '" + victim + "'").select("_metadata.file_path").first().getString(0)));
        stopSpark();
        Path crc = file.resolveSibling("." + file.getFileName() + ".crc");
        byte[] original = Files.readAllBytes(file);
        byte[] savedCrc = Files.readAllBytes(crc);
        try {
            byte[] damaged = original.clone();
            damaged[damaged.length / 2] ^= 0x10;
            Files.write(file, damaged);
            Map<String, String> before = snapshot(out);
            String checked = CliErrorsTest.failing("transfer", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
            assertTrue(checked.startsWith("error: Stored file " + file + " of table checkpoints is damaged: its bytes do not match its Hadoop checksum"), checked);
            assertTrue(checked.endsWith("rebuild the table: move " + out.resolve("checkpoints") + " aside and rerun upstream and prune "
                    + "(then transfer, whose results name checkpoints by id, keeps its rows) with the same config and --out"), checked);
            assertEquals(before, snapshot(out));

            Files.delete(crc); // without Hadoop's checksum, Parquet or the checkpoint's own SHA-256 finds the damage
            String unchecked = CliErrorsTest.failing("transfer", "--config", TINY.toString(), "--out", out.toString(), "--master",
                    "local[2]");
            assertTrue(unchecked.contains("Checkpoint " + victim + " failed its checksum")
                    || unchecked.contains("Stored file " + file), unchecked);
        } finally {
            Files.write(file, original);
            Files.write(crc, savedCrc);
        }
    }

    @Test
    @Order(11)
    void lostDeltaLogEntriesAreOneErrorNamingTheTable() throws Exception {
        Warehouse warehouse = new Warehouse(out);
        // The newest entry of transfer_results (a run recorded the version it made): the table would read as before it.
        Path results = warehouse.root().resolve("transfer_results/_delta_log").localPath();
        Path newest = newestCommit(results);
        Path aside = scratch.resolve(newest.getFileName());
        Files.move(newest, aside);
        try {
            String message = CliErrorsTest.failing("report", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
            assertTrue(message.contains("transfer_results"), message);
            assertTrue(message.contains("but run ") && message.contains("its log has lost the entry of version")
                    || message.contains("The Delta log of table transfer_results"), message);
        } finally {
            Files.move(aside, newest);
        }
        // An entry in the middle (after the last Delta checkpoint, which would otherwise cover it).
        Path log = warehouse.root().resolve("checkpoints/_delta_log").localPath();
        long checkpointed = new com.fasterxml.jackson.databind.ObjectMapper().readTree(log.resolve("_last_checkpoint").toFile())
                .get("version").asLong();
        long last = Long.parseLong(newestCommit(log).getFileName().toString().substring(0, 20));
        while (last - checkpointed < 2) { // the newest commit was a Delta checkpoint's: add commits after it (a row merged as it is)
            SparkSession spark = SparkSessions.create("test", "local[2]");
            CheckpointTable table = new CheckpointTable(spark, warehouse);
            table.write(List.of(table.get(ids.denseId()).orElseThrow()));
            stopSpark();
            last = Long.parseLong(newestCommit(log).getFileName().toString().substring(0, 20));
        }
        assertTrue(last - checkpointed >= 2, "a commit between the last checkpoint " + checkpointed + " and the newest " + last);
        Path middle = log.resolve(String.format("%020d.json", checkpointed + 1));
        Files.move(middle, aside.resolveSibling(middle.getFileName()));
        try {
            String message = CliErrorsTest.failing("transfer", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
            assertTrue(message.startsWith("error: The Delta log of table checkpoints (" + log + ") is damaged: [DELTA_"), message);
            assertTrue(message.contains("rebuild the table: move " + out.resolve("checkpoints") + " aside"), message);
        } finally {
            Files.move(aside.resolveSibling(middle.getFileName()), middle);
        }
    }

    @Test
    @Order(12)
    void everyCheckpointResultAndRunRecordsTheSoftwareThatMadeIt() {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = new Warehouse(out);
        for (String table : List.of(warehouse.checkpoints(), warehouse.transferResults(), warehouse.runs())) {
            List<String> versions = spark.read().format("delta").load(table).select("software_version").distinct().collectAsList().stream()
                    .map(r -> r.getString(0)).toList();
            assertEquals(List.of(org.sparsetransfer.core.SoftwareVersion.current()), versions, table);
            assertTrue(versions.get(0).matches("sparse-transfer \\S+ \\(git \\S+\\), DJL \\S+, libtorch \\S+"), versions.get(0));
        }
    }

    @Test
    @Order(13)
    void aSecondRunOnTheSameWarehouseFailsFast() throws IOException {
        try (WarehouseLock held = WarehouseLock.acquire(new Warehouse(out), "test", java.util.List.of("ingest"))) {
            StringWriter err = new StringWriter();
            long start = System.nanoTime();
            int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true),
                    "pipeline", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
            assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, err.toString());
            assertTrue(err.toString().contains("is in use by another sparse-transfer run for ingest (command test"), err.toString());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "fails fast");
        }
    }

    @Test
    @Order(14)
    void aDriverKilledWhilePruningAndWhileTransferringResumesToTheSameTables() throws Exception {
        Path resumed = scratch.resolve("resumed");
        // SIGKILL from outside (no shutdown hook runs): first in the middle of the dense training's third epoch (46 steps each),
        // once it saved its state at step 100.
        String upstream = pipelineKilledWhen(resumed, "killed-upstream",
                Pattern.compile("\\[upstream\\] saved the training state at step 100/138"), 1);
        assertTrue(!upstream.contains("[upstream] stored"), "killed before the dense checkpoint was stored:\n" + upstream);
        assertTrue(Files.isDirectory(resumed.resolve("training_states").resolve(ids.denseId())), "its state is in the warehouse");
        // Then after 11 stored pruning runs, inside the IMP and COLT chains.
        String pruning = pipelineKilledWhen(resumed, "killed-pruning", Pattern.compile("\\[prune\\] stored "), 11);
        assertTrue(pruning.contains("[upstream] resuming from the training state saved at step 100/138"),
                "the dense training resumed from its state:\n" + pruning);
        assertTrue(!pruning.contains("[transfer]"), "killed before the transfer stage:\n" + pruning);
        // A second driver resumes the pruning and is killed in the middle of the transfer stage, once it stored results (it
        // writes them in batches, by time), just after the 5th linear transfer run since then saved its state at step 50 of 60
        // (mid-epoch, at batch 64, on every task but the few-shot one).
        String transferring = pipelineKilledWhen(resumed, "killed-transferring", Pattern.compile("\\[transfer\\] \\d+/\\d+ stored: "),
                Pattern.compile("\\[transfer [^]]+\\] linear seed \\d+: saved the training state at step 50/60"), 5);
        assertTrue(transferring.contains("exists, skipping"), "the second driver kept what the first stored:\n" + transferring);
        assertTrue(transferring.matches("(?s).*\\[transfer\\] \\d+/\\d+ stored: .*"), "some transfer runs were stored:\n" + transferring);
        assertTrue(!Files.exists(resumed.resolve("report")), "killed before the report");

        String output = InProcessCli.run("pipeline", "--config", TINY.toString(), "--out", resumed.toString(), "--master", "local[2]");
        assertTrue(output.matches("(?s).*\\[transfer\\] \\d+ of \\d+ runs already have results.*"), output);
        assertTrue(output.matches("(?s).*linear seed \\d+: resuming from the training state saved at step 50/60.*"),
                "the killed linear run resumed from its state:\n" + output);
        assertEquals(firstChecksums, checksums(resumed), "bitwise-identical checkpoints (weights and masks)");
        assertTrue(!Files.exists(resumed.resolve("training_states")), "every training state deleted once its checkpoint was stored");
        assertEquals(firstCsv, Files.readString(resumed.resolve("report/transfer_table.csv")));
        assertEquals(firstTables, tables(resumed), "every final table as the uninterrupted run left it (columns "
                + VARYING_COLUMNS + " aside)");
        long runs = transferRuns(config.transfer.regimes.size() * config.transfer.seeds.size());
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Dataset<Row> results = spark.read().format("delta").load(new Warehouse(resumed).transferResults());
        assertEquals(runs, results.count(), "one row per run");
        assertEquals(runs, results.select("checkpoint_id", "task", "regime", "seed").distinct().count(), "no run twice");
    }

    /**
     * Starts {@code pipeline} on {@code warehouse} in a child JVM and kills it with SIGKILL once
     * {@code count} lines of its output match {@code line}; returns its output.
     */
    private static String pipelineKilledWhen(Path warehouse, String name, Pattern line, int count) throws Exception {
        return pipelineKilledWhen(warehouse, name, null, line, count);
    }

    /** As above, counting only the lines after the first that matches {@code after}. */
    private static String pipelineKilledWhen(Path warehouse, String name, Pattern after, Pattern line, int count) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib") && !a.startsWith("-javaagent")).toList());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), SparseTransferCli.class.getName(),
                "pipeline", "--config", TINY.toString(), "--out", warehouse.toString(), "--master", "local[2]"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        int seen = 0;
        try (java.io.BufferedReader reader = new java.io.BufferedReader(
                new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l = reader.readLine(); l != null; l = reader.readLine()) {
                log.append(l).append('\n');
                if (after != null && after.matcher(l).find()) {
                    after = null;
                } else if (after == null && line.matcher(l).find() && ++seen == count) {
                    process.destroyForcibly(); // SIGKILL on Linux
                    break;
                }
            }
        }
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), name + " ended");
        assertEquals(count, seen, name + " reached the point to kill it at:\n" + log);
        assertEquals(137, process.exitValue(), name + " died of SIGKILL (128 + 9)");
        Files.writeString(scratch.resolve(name + ".log"), log);
        return log.toString();
    }

    @Test
    @Order(15)
    void dataParallelTrainingOnTwoWorkersMatchesOneWorker() throws Exception {
        String tiny = Files.readString(TINY);
        Path upstream = scratch.resolve("dp-upstream.yaml");
        Files.writeString(upstream, tiny.replace("upstream:\n  epochs: 3\n",
                "upstream:\n  epochs: 3\n  data_parallel:\n    workers: 2\n    local_steps: 10\n"));
        // (No result limit here as in runPipeline: two workers' summed weights and momentum, 3.2 MiB in
        // double, are as large as the tiny split. UpstreamDataTest checks that workers read their shards.)
        String output = InProcessCli.run("upstream", "--config", upstream.toString(), "--out", out.toString(), "--master", "local[2]");
        assertTrue(output.contains("data-parallel: 2 workers, 10 local steps per round"), output);

        Path prune = scratch.resolve("dp-prune.yaml");
        Files.writeString(prune, tiny.replace("  methods: [dense, oneshot, gmp, gmp_star, imp, colt, acdc, rigl, nm]\n  sparsities: [0.8, 0.9, 0.95]\n",
                "  methods: [dense, gmp_star, imp, colt, rigl]\n  sparsities: [0.8, 0.9]\n  data_parallel:\n    workers: 2\n    local_steps: 10\n"));
        output = InProcessCli.run("prune", "--config", prune.toString(), "--out", out.toString(), "--master", "local[2]");
        assertTrue(output.matches("(?s).*\\[prune gmp_star 0\\.8\\] step \\d+/\\d+  mask updated: sparsity.*"),
                "the driver prunes the averaged weights between rounds:\n" + output);

        SparkSession spark = SparkSessions.create("test", "local[2]");
        CheckpointTable table = new CheckpointTable(spark, new Warehouse(out));
        ExperimentIds upstreamIds = new ExperimentIds(ConfigLoader.load(upstream));
        ExperimentIds pruneIds = new ExperimentIds(ConfigLoader.load(prune));
        compareWorkers(table.get(ids.denseId()).orElseThrow(), table.get(upstreamIds.denseId()).orElseThrow(),
                config.upstream.batchSize);
        String rewindId = PruningMethods.byKey("imp", "test").keepsFromDense(upstreamIds,
                new UpstreamSchedules(ConfigLoader.load(upstream), config.data.upstreamTrain)).orElseThrow().id();
        assertTrue(table.get(rewindId).isPresent(), "the rewind point is kept from the data-parallel run too");
        // Schedules: GMP* (pruning steps between rounds), IMP (rounds of pruning and rewinding), COLT's ticket.
        for (PruningMethod method : List.of(PruningMethods.byKey("gmp_star", "test"), PruningMethods.byKey("imp", "test"), PruningMethods.byKey("colt", "test"))) {
            for (double sparsity : List.of(0.8, 0.9)) {
                CheckpointRecord parallel = table.get(pruneIds.prunedId(method, sparsity)).orElseThrow();
                CheckpointRecord single = table.get(ids.prunedId(method, sparsity)).orElseThrow();
                System.out.printf("data-parallel %s %.2f: %.2f%% (1 worker) vs %.2f%% (2 workers)%n", method.key(), sparsity,
                        single.upstreamTop1(), parallel.upstreamTop1());
                CheckpointCodec.Decoded decoded = parallel.decode();
                double tolerance = method == PruningMethods.byKey("colt", "test") ? recipe("colt", "tolerance") : 1e-3;
                assertEquals(sparsity, decoded.mask().sparsity(), tolerance, parallel.id() + " hits its target");
                for (String name : decoded.mask().tensorNames()) {
                    boolean[] kept = decoded.mask().bits(name);
                    float[] values = decoded.weights().get(name).values();
                    for (int i = 0; i < kept.length; i++) {
                        assertTrue(kept[i] || values[i] == 0f, parallel.id() + " " + name + "[" + i + "] pruned but " + values[i]);
                    }
                }
                assertTrue(parallel.upstreamTop1() > single.upstreamTop1() - 5, parallel.id() + " learns like " + single.id());
            }
        }
    }

    /**
     * N = 2 sees the same examples as N = 1 (to one step per worker) and learns as well: within 5
     * points of it (measured about 1 apart), a band no floating-point difference between machines crosses.
     */
    private static void compareWorkers(CheckpointRecord one, CheckpointRecord two, int batch) {
        assertNotEquals(one.id(), two.id(), "data parallelism is part of the id");
        assertEquals(one.examplesSeen(), two.examplesSeen(), 2.0 * batch, "same number of examples");
        assertEquals(one.upstreamTop1(), two.upstreamTop1(), 5.0, one.id() + " vs " + two.id());
        System.out.printf("data-parallel: %s %.2f%% (1 worker) vs %s %.2f%% (2 workers)%n", one.id(), one.upstreamTop1(),
                two.id(), two.upstreamTop1());
    }

    @Test
    @Order(16)
    void aRegimeWithItsOwnSeedsReusesTheStoredRunsAndReportsOnlyThoseSeeds() throws Exception {
        Path oneLinearSeed = scratch.resolve("one-linear-seed.yaml");
        String tiny = Files.readString(TINY);
        Files.writeString(oneLinearSeed, tiny.replace("  linear:\n    steps: 60\n", "  linear:\n    steps: 60\n    seeds: [1]\n"));
        assertNotEquals(tiny, Files.readString(oneLinearSeed));
        // Seeds pick runs, not settings: the stored runs are this config's too, so nothing trains.
        String output = InProcessCli.run("transfer", "--config", oneLinearSeed.toString(), "--out", out.toString(), "--master", "local[2]");
        long runs = transferRuns(1 + config.transfer.seeds.size());
        assertTrue(output.contains("all " + runs + " transfer runs are done"), "checkpoints x tasks x (1 linear + full seeds): " + output);
        InProcessCli.run("report", "--config", oneLinearSeed.toString(), "--out", out.toString(), "--master", "local[2]");
        List<String> rows = Files.readAllLines(out.resolve("report/transfer_table.csv"));
        List<String> columns = List.of(rows.get(0).split(","));
        int regime = columns.indexOf("regime");
        int seeds = columns.indexOf("n_seeds");
        for (String row : rows.subList(1, rows.size())) {
            String[] cells = row.split(",", -1);
            assertEquals(cells[regime].equals("linear") ? "1" : "2", cells[seeds], row);
        }
        assertTrue(Files.readString(out.resolve("report/transfer_table.md")).contains("Mean ± std over seeds linear [1], full [0, 1]"));
        InProcessCli.run("report", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
    }

    @Test
    @Order(17)
    void aCorruptCheckpointStopsTransferWithItsName() throws Exception {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = new Warehouse(out);
        String victim = ids.prunedId(PruningMethods.byKey("gmp_star", "test"), 0.9);
        DeltaTable.forPath(spark, warehouse.checkpoints()).updateExpr("id = '" + victim + "'", Map.of("checksum", "'0000'"));
        StringWriter err = new StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true),
                "transfer", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, err.toString());
        assertTrue(err.toString().contains("Checkpoint " + victim + " failed its checksum"), err.toString());
    }

    /** Every file under {@code root} (relative path) with its content's SHA-256: equal snapshots mean nothing on disk changed. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (var walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                String name = root.relativize(p).toString();
                files.put(name + (Files.isDirectory(p) ? "/" : ""), Files.isDirectory(p) ? "" : CheckpointCodec.checksum(Files.readAllBytes(p)));
            }
        }
        return files;
    }

    /** The newest commit file of a Delta log. */
    private static Path newestCommit(Path log) throws IOException {
        try (var entries = Files.list(log)) {
            return entries.filter(p -> p.getFileName().toString().matches("\\d{20}\\.json")).max(Path::compareTo).orElseThrow();
        }
    }

    /** Pruned checkpoints the config asks for: each method's targets (N:M has its own). */
    private int prunedCheckpoints() {
        return ExperimentPlan.methods(config).stream().mapToInt(m -> m.targets(config).size()).sum();
    }

    /**
     * Transfer runs of the grid: every checkpoint (dense, pruned and the controls) x task x the runs
     * of one checkpoint on one task (regimes x seeds).
     */
    private long transferRuns(int runsPerCheckpointAndTask) {
        return (long) (1 + prunedCheckpoints() + budgets().size()) * config.transfer.tasks.size() * runsPerCheckpointAndTask;
    }

    /**
     * The dense_extended controls the run made, by budget: the distinct training steps of the
     * pruned checkpoints (read back from the warehouse; COLT's are known only once it ran), each
     * with its control checkpoint's steps, which must equal it.
     */
    private Map<String, Long> budgets() {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        List<CheckpointRecord> records = spark.read().format("delta").load(new Warehouse(out).checkpoints()).drop("payload").collectAsList()
                .stream().map(CheckpointRecord::fromRow).toList();
        Set<String> pruned = new HashSet<>();
        for (PruningMethod method : ExperimentPlan.methods(config)) {
            for (double s : method.targets(config)) {
                pruned.add(ids.prunedId(method, s));
            }
        }
        Map<String, Long> budgets = new java.util.TreeMap<>();
        records.stream().filter(r -> pruned.contains(r.id())).forEach(r -> budgets.put(String.valueOf(r.trainSteps()), (long) r.trainSteps()));
        Set<Long> controls = new HashSet<>();
        records.stream().filter(r -> r.method().equals(DenseExtension.METHOD)).forEach(r -> controls.add((long) r.trainSteps()));
        assertEquals(new HashSet<>(budgets.values()), controls, "one control per distinct budget, its steps the budget");
        return budgets;
    }

    /** A value of a method's recipe in the config, as its YAML key names it. */
    private double recipe(String method, String key) {
        return ExperimentIds.toJson(config.pruning.recipes().get(method)).get(key).asDouble();
    }

    /**
     * Columns that record wall-clock times, and so differ between an interrupted and an
     * uninterrupted run; everything else must be equal. The runs table is left out whole: it
     * records run ids and times, and a killed driver records no run.
     */
    private static final Map<String, List<String>> VARYING_COLUMNS = Map.of(
            "checkpoints", List.of("wall_s", "created_at"),
            "transfer_results", List.of("wall_s", "created_at"),
            "datasets", List.of(),
            "transfer_table", List.of());

    /** table -> sorted hashes of its rows (the columns of {@link #VARYING_COLUMNS} left out). */
    private static Map<String, List<Long>> tables(Path warehouse) {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse wh = new Warehouse(warehouse);
        Map<String, String> paths = Map.of("checkpoints", wh.checkpoints(), "transfer_results", wh.transferResults(),
                "datasets", wh.datasets(), "transfer_table", wh.transferTable());
        Map<String, List<Long>> tables = new TreeMap<>();
        VARYING_COLUMNS.forEach((table, varying) -> {
            Dataset<Row> rows = spark.read().format("delta").load(paths.get(table));
            org.apache.spark.sql.Column[] kept = java.util.Arrays.stream(rows.columns()).filter(c -> !varying.contains(c))
                    .map(org.apache.spark.sql.functions::col).toArray(org.apache.spark.sql.Column[]::new);
            tables.put(table, rows.select(org.apache.spark.sql.functions.xxhash64(kept)).collectAsList().stream()
                    .map(r -> r.getLong(0)).sorted().toList());
        });
        return tables;
    }

    /** id -> checksum of every checkpoint in a warehouse. */
    private static Map<String, String> checksums(Path warehouse) {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Map<String, String> sums = new TreeMap<>();
        for (Row r : spark.read().format("delta").load(new Warehouse(warehouse).checkpoints()).select("id", "checksum").collectAsList()) {
            sums.put(r.getString(0), r.getString(1));
        }
        return sums;
    }

    /** "checkpoint|task|regime|seed" -> "status value error" of every stored transfer run. */
    private static Map<String, String> results(SparkSession spark, Warehouse warehouse) {
        Map<String, String> results = new TreeMap<>();
        for (Row r : spark.read().format("delta").load(warehouse.transferResults())
                .select("checkpoint_id", "task", "regime", "seed", "status", "value", "error").collectAsList()) {
            results.put(r.getString(0) + "|" + r.getString(1) + "|" + r.getString(2) + "|" + r.getLong(3),
                    r.getString(4) + " " + r.get(5) + " " + r.getString(6));
        }
        return results;
    }

    private static List<Long> versions(SparkSession spark, Warehouse warehouse) {
        List<Long> versions = new ArrayList<>();
        for (String table : List.of(warehouse.datasets(), warehouse.checkpoints(), warehouse.transferResults())) {
            versions.add(DeltaTable.forPath(spark, table).history(1).head().getLong(0));
        }
        return versions;
    }
}
