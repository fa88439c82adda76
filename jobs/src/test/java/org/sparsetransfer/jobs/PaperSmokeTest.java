package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
import org.sparsetransfer.jobs.notebooks.ZeppelinNotes;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * conf/paper-smoke.yaml, the study's transfer-only experiment in miniature, end to end through the
 * CLI: generated tasks and generated checkpoints in the published layouts (synth-images
 * --experiment paper-smoke), imported by the transfer stage under their labels, transferred beside
 * the imported dense baseline, and reported with their measured sparsities and families; a rerun
 * imports nothing again; without the dense baseline the tables say why they have no delta.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PaperSmokeTest {
    private static final Set<String> LABELS = Set.of("dense", "acdc_published", "lth_published", "gmp_published");

    @TempDir
    static Path data;
    private Path config;
    private Path out;
    private String output;
    private double seconds;

    @BeforeAll
    void runIt() throws Exception {
        TinyPipelineTest.stopDefaultSession();
        Path dir = data.resolve("smoke");
        InProcessCli.run("synth-images", "--experiment", "paper-smoke", "--out", dir.toString());
        config = dir.resolve("paper-smoke.yaml");
        out = data.resolve("warehouse");
        long start = System.nanoTime();
        output = InProcessCli.run("pipeline", "--config", config.toString(), "--out", out.toString(), "--master", "local[2]");
        seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("paper-smoke pipeline: %.1f s%n", seconds);
    }

    @AfterAll
    void stop() {
        TinyPipelineTest.stopDefaultSession();
    }

    @Test
    @Order(1)
    void onlyTheTasksAreIngestedAndNothingIsTrainedUpstream() {
        assertTrue(output.contains("[upstream] a transfer-only experiment (upstream.enabled: false): nothing to train upstream"), output);
        assertTrue(output.contains("[prune] a transfer-only experiment (upstream.enabled: false): nothing to prune"), output);
        SparkSession spark = SparkSessions.create("test", "local[2]");
        Set<String> datasets = new TreeSet<>(spark.read().format("delta").load(new Warehouse(out).datasets()).select("dataset").distinct()
                .as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
        assertEquals(Set.of("cifar10", "dtd"), datasets);
    }

    @Test
    @Order(2)
    void everyLayoutIsImportedOnceUnderItsLabelWithItsMeasuredSparsity() {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        List<CheckpointRecord> records = spark.read().format("delta").load(new Warehouse(out).checkpoints()).drop("payload").collectAsList()
                .stream().map(CheckpointRecord::fromRow).toList();
        Map<String, CheckpointRecord> byLabel = new TreeMap<>();
        records.forEach(r -> byLabel.put(r.method(), r));
        assertEquals(new TreeSet<>(LABELS), byLabel.keySet());
        assertEquals(4, records.size());
        assertEquals(0.9, byLabel.get("acdc_published").targetSparsity(), 1e-9, "the study layout's masks, measured");
        assertEquals(0.8, byLabel.get("lth_published").targetSparsity(), 1e-9, "torch.nn.utils.prune's masks");
        assertEquals(0.8, byLabel.get("gmp_published").targetSparsity(), 1e-9, "safetensors zeros");
        assertEquals(0.0, byLabel.get("dense").actualSparsity(), 1e-9);
        assertEquals("regularization", byLabel.get("acdc_published").family());
        assertEquals("lottery_ticket", byLabel.get("lth_published").family());
        for (CheckpointRecord r : records) {
            assertTrue(r.id().startsWith("imported-resnet18-"), r.id());
            assertTrue(r.source().contains(" bytes, modified "), r.source());
            assertTrue(Double.isNaN(r.upstreamTop1()), "no upstream accuracy for an import");
            assertTrue(output.contains("stored id=" + r.id() + " method=" + r.method()), output);
        }
        assertTrue(output.contains("layout: a state_dict under 'model_state_dict' with model_config, 'module.' prefixes, mask-wrapped layers"),
                output);
        assertTrue(output.contains("layout: a plain state_dict, torch.nn.utils.prune masks"), output);
    }

    @Test
    @Order(3)
    void theTablesShowTheLabelsMeasuredSparsitiesFamiliesAndDeltas() throws Exception {
        SparkSession spark = SparkSessions.create("test", "local[2]");
        List<Row> table = spark.read().format("delta").load(new Warehouse(out).transferTable())
                .select("method", "sparsity", "regime", "task", "mean", "delta_vs_dense", "family", "n_seeds").collectAsList();
        assertEquals(4 * 2 * 2, table.size(), "4 checkpoints x 2 tasks x 2 regimes");
        Map<String, String> families = new TreeMap<>();
        for (Row r : table) {
            families.put(r.getString(0), r.getString(6));
            assertNotNull(r.get(4), "every cell has its mean");
            if (r.getString(0).equals("dense")) {
                assertEquals(0.0, r.getDouble(1));
            } else {
                assertNotNull(r.get(5), "a delta vs the imported dense baseline: " + r);
            }
            assertEquals(r.getString(2).equals("linear") ? 2L : 1L, r.getLong(7));
        }
        assertEquals(Map.of("acdc_published", "regularization", "dense", "dense", "gmp_published", "magnitude", "lth_published",
                "lottery_ticket"), families);
        String markdown = Files.readString(out.resolve("report/transfer_table.md"));
        assertTrue(markdown.contains("| acdc_published | 0.90 |"), markdown);
        assertTrue(markdown.contains("| gmp_published | 0.80 |"), markdown);
        assertTrue(markdown.contains("| Δ vs dense |"), markdown);
        assertTrue(markdown.contains("| acdc_published | 0.90 | 0.9000 | – (imported) |"), markdown);
        assertTrue(Files.exists(out.resolve("report/linear_cifar10.png")));
        assertFalse(Files.exists(out.resolve("report/upstream.png")), "no upstream accuracy to plot");
        // The Zeppelin notes' queries show the imports under their labels.
        Set<String> seen = new TreeSet<>();
        for (Path file : ZeppelinNotes.files()) {
            for (ZeppelinNotes.Paragraph p : ZeppelinNotes.read(file)) {
                if (p.interpreter().equals("%spark.sql") && p.body().contains("transfer_table") && p.body().contains("method")) {
                    for (String sql : ZeppelinNotes.statements(p, Map.of("warehouse", out.toAbsolutePath().toString(), "task", "cifar10"))) {
                        Dataset rows = new Dataset(spark.sql(sql));
                        if (rows.hasColumn("method")) {
                            seen.addAll(rows.column("method"));
                        }
                    }
                }
            }
        }
        assertTrue(seen.containsAll(LABELS), "the notes list " + seen);
    }

    @Test
    @Order(4)
    void aRerunImportsNothingAgainAndTransfersNothingAgain() {
        String again = InProcessCli.run("pipeline", "--config", config.toString(), "--out", out.toString(), "--master", "local[2]");
        assertFalse(again.contains("[import] reading "), again);
        assertTrue(again.contains("earlier (the file is unchanged)"), again);
        assertTrue(again.contains("all 24 transfer runs are done"), again);
    }

    @Test
    @Order(5)
    void withoutADenseBaselineTheTablesHaveNoDeltaAndSayWhy() throws Exception {
        Path noDense = config.resolveSibling("no-dense.yaml");
        Files.writeString(noDense, Files.readString(config).replaceAll("(?m)^  dense: .*$", ""));
        InProcessCli.run("pipeline", "--config", noDense.toString(), "--out", out.toString(), "--master", "local[2]");
        String markdown = Files.readString(out.resolve("report/transfer_table.md"));
        assertFalse(markdown.contains("| Δ vs dense |"), markdown);
        assertTrue(markdown.contains("This experiment has no dense checkpoint"), markdown);
        assertFalse(markdown.contains("| dense |"), markdown);
        SparkSession spark = SparkSessions.create("test", "local[2]");
        for (Row r : spark.read().format("delta").load(new Warehouse(out).transferTable()).select("delta_vs_dense").collectAsList()) {
            assertNull(r.get(0));
        }
    }

    /** A query's rows, by column. */
    private record Dataset(org.apache.spark.sql.Dataset<Row> rows) {
        boolean hasColumn(String name) {
            return List.of(rows.columns()).contains(name);
        }

        List<String> column(String name) {
            return rows.select(name).as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        }
    }
}
