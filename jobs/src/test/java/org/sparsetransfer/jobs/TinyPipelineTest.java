package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * The tiny config end to end through the CLI, on real data, with Kryo registration required:
 * the report's rows, exact mask sparsity read back from Delta, upstream accuracy, and a rerun
 * that skips every stage and changes no table.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TinyPipelineTest {
    private static final Path TINY = Path.of("../conf/tiny.yaml");

    @TempDir
    static Path out;

    private ExperimentConfig config;
    private String firstRunOutput;

    @BeforeAll
    void runPipeline() {
        config = ConfigLoader.load(TINY);
        firstRunOutput = runCli("pipeline", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");
    }

    @AfterAll
    void stopSpark() {
        SparkSession.getDefaultSession().foreach(session -> {
            session.stop();
            return null;
        });
    }

    @Test
    @Order(1)
    void csvHasOneRowPerMethodSparsityRegimeAndTask() throws Exception {
        List<String> lines = Files.readAllLines(out.resolve("report/transfer_table.csv"));
        assertEquals("method,sparsity,regime,task,metric,mean,std,n_seeds,delta_vs_dense", lines.get(0));
        Set<String> keys = new HashSet<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(9, f.length, line);
            assertTrue(keys.add(f[0] + "|" + f[1] + "|" + f[2] + "|" + f[3]), "duplicate row " + line);
            assertEquals(String.valueOf(config.transfer.seeds.size()), f[7], line);
            double mean = Double.parseDouble(f[5]);
            assertTrue(mean > 10 && mean <= 100, "accuracy in percent, above chance: " + line);
            assertEquals(f[3].equals("digits8x8") ? "mean_per_class" : "top1", f[4], line);
            if (f[0].equals("dense")) {
                assertEquals(0.0, Double.parseDouble(f[1]));
                assertEquals(0.0, Double.parseDouble(f[8]));
            }
        }
        Set<String> expected = new HashSet<>();
        for (String regime : config.transfer.regimes) {
            for (String task : config.transfer.tasks) {
                expected.add("dense|0.0000|" + regime + "|" + task);
                for (String method : List.of("oneshot", "gmp_star")) {
                    for (double s : config.pruning.sparsities) {
                        expected.add(method + "|" + String.format("%.4f", s) + "|" + regime + "|" + task);
                    }
                }
            }
        }
        assertEquals(expected, keys);
        String markdown = Files.readString(out.resolve("report/transfer_table.md"));
        assertTrue(markdown.contains("mean over tasks") && markdown.contains("| gmp_star | 0.95 |"), markdown);
        assertTrue(firstRunOutput.contains("| dense | 0.00 |"), "pipeline prints the table at the end");
    }

    @Test
    @Order(2)
    void masksReadBackFromDeltaAreExactAndPrunedWeightsAreZero() {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        List<Row> rows = spark.read().format("delta").load(new Warehouse(out).checkpoints()).collectAsList();
        assertEquals(1 + 2 * config.pruning.sparsities.size(), rows.size());
        for (Row row : rows) {
            CheckpointRecord record = CheckpointRecord.fromRow(row);
            CheckpointCodec.Decoded decoded = record.decode();
            assertTrue(record.upstreamTop1() > 60, record.id() + " upstream top-1 " + record.upstreamTop1() + "% (chance is 10%)");
            if (record.method().equals("dense")) {
                assertEquals(null, decoded.mask());
                continue;
            }
            assertEquals(record.targetSparsity(), decoded.mask().sparsity(), 0.001, record.id());
            assertEquals(record.actualSparsity(), decoded.mask().sparsity(), 1e-12);
            assertEquals(record.parentId(), rows.stream().filter(r -> r.getAs("method").equals("dense"))
                    .findFirst().orElseThrow().getAs("id"));
            for (String name : decoded.mask().tensorNames()) {
                Tensor t = decoded.weights().get(name);
                boolean[] kept = decoded.mask().bits(name);
                for (int i = 0; i < kept.length; i++) {
                    if (!kept[i]) {
                        assertTrue(t.values()[i] == 0f, record.id() + " " + name + "[" + i + "] = " + t.values()[i]);
                    }
                }
            }
            assertTrue(record.payload().length < 0.35 * record.totalParams() * 4, "sparse encoding is compact");
        }
    }

    @Test
    @Order(3)
    void rerunSkipsEveryStageAndChangesNoTable() {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = new Warehouse(out);
        List<Long> before = versions(spark, warehouse);
        long results = spark.read().format("delta").load(warehouse.transferResults()).count();

        String output = runCli("pipeline", "--config", TINY.toString(), "--out", out.toString(), "--master", "local[2]");

        spark = SparkSessions.create("test", "local[2]");
        assertTrue(output.contains("dense checkpoint") && output.contains("exists, skipping"), output);
        assertTrue(output.contains("all " + 2 * config.pruning.sparsities.size() + " pruned checkpoints exist"), output);
        assertTrue(output.contains("transfer runs are done"), output);
        assertEquals(before, versions(spark, warehouse), "no commit to datasets, checkpoints or results");
        assertEquals(results, spark.read().format("delta").load(warehouse.transferResults()).count());
        int grid = (1 + 2 * config.pruning.sparsities.size()) * config.transfer.tasks.size()
                * config.transfer.regimes.size() * config.transfer.seeds.size();
        assertEquals(grid, results, "one row per (checkpoint, task, regime, seed)");
    }

    @Test
    @Order(4)
    void aCorruptCheckpointStopsTransferWithItsName() throws Exception {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = new Warehouse(out);
        String victim = spark.read().format("delta").load(warehouse.checkpoints())
                .where("method = 'gmp_star'").select("id").first().getString(0);
        io.delta.tables.DeltaTable.forPath(spark, warehouse.checkpoints())
                .updateExpr("id = '" + victim + "'", java.util.Map.of("checksum", "'0000'"));
        Path config = out.resolve("more-seeds.yaml");
        Files.writeString(config, Files.readString(TINY).replace("seeds: [0, 1]", "seeds: [0, 1, 2]"));
        java.io.StringWriter err = new java.io.StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new java.io.PrintWriter(err, true),
                "transfer", "--config", config.toString(), "--out", out.toString(), "--master", "local[2]");
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, err.toString());
        assertTrue(err.toString().contains("Checkpoint " + victim + " failed its checksum"), err.toString());
    }

    private static List<Long> versions(SparkSession spark, Warehouse warehouse) {
        List<Long> versions = new ArrayList<>();
        for (String table : List.of(warehouse.datasets(), warehouse.checkpoints(), warehouse.transferResults())) {
            versions.add(io.delta.tables.DeltaTable.forPath(spark, table).history(1).head().getLong(0));
        }
        return versions;
    }

    /** Runs the CLI in-process, returning what it printed on stdout (and echoing it). */
    static String runCli(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeStream(captured, original), true, StandardCharsets.UTF_8));
        try {
            int code = SparseTransferCli.execute(new SparseTransferCli(), args);
            assertEquals(0, code, "exit code of " + String.join(" ", args));
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
