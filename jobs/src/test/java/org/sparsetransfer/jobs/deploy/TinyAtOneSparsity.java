package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.jobs.stages.PruneStage;
import org.sparsetransfer.jobs.stages.ReportStage;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;

/**
 * conf/tiny.yaml at one of its sparsities: every method, task, regime and seed at a third of the
 * trainings, for the tests that run the whole pipeline on a cluster or a remote store; and what
 * such a run must have stored, which those tests check alike wherever the warehouse is.
 */
final class TinyAtOneSparsity {
    private TinyAtOneSparsity() {
    }

    /** Writes the narrowed config into {@code dir}; returns its path. */
    static Path write(Path dir) throws IOException {
        String tiny = Files.readString(LoopbackServer.ROOT.resolve("conf/tiny.yaml"));
        assertTrue(tiny.contains("sparsities: [0.8, 0.9, 0.95]"), "conf/tiny.yaml's sparsities, which this config narrows");
        String methods = "methods: [dense, oneshot, gmp, gmp_star, imp, colt, acdc, rigl, nm]";
        assertTrue(tiny.contains(methods), "conf/tiny.yaml's methods, which this config narrows");
        assertTrue(tiny.contains("dense_extended: true"), "conf/tiny.yaml's control, which this config leaves out");
        // On a cluster the methods' mechanics matter, not their number: RigL stays (its updates read gradients from executors).
        // The control trains as every upstream training does (TinyPipelineTest runs it); left out here for time.
        return Files.writeString(dir.resolve("tiny-one-sparsity.yaml"),
                tiny.replace("sparsities: [0.8, 0.9, 0.95]", "sparsities: [0.9]").replace(methods,
                        "methods: [dense, oneshot, gmp, gmp_star, imp, colt, rigl]").replace("name: tiny", "name: tiny-one-sparsity")
                        .replace("dense_extended: true", "dense_extended: false"));
    }

    /** Pruned checkpoints the config asks for (the dense one not counted). */
    static int prunedCheckpoints(ExperimentConfig config) {
        return PruneStage.methods(config).stream().mapToInt(m -> m.targets(config).size()).sum();
    }

    /** Cells of the transfer table: checkpoint x regime x task. */
    static int reportCells(ExperimentConfig config) {
        return (1 + prunedCheckpoints(config)) * config.transfer.regimes.size() * config.transfer.tasks.size();
    }

    /** Transfer runs: one per cell and seed. */
    static long transferRuns(ExperimentConfig config) {
        return (long) reportCells(config) * config.transfer.seeds.size();
    }

    /** Exactly one result row per configured run, each one a success. */
    static void assertOneSuccessPerRun(Dataset<Row> results, ExperimentConfig config) {
        long runs = transferRuns(config);
        assertEquals(runs, results.count(), "one row per run");
        assertEquals(runs, results.select("checkpoint_id", "task", "regime", "seed").distinct().count(), "no run twice");
        assertEquals(runs, results.where("status = 'ok'").count(), "every run succeeded");
    }

    /** The report read back from the warehouse's store: every cell with a mean over all seeds, the Markdown and the plots. */
    static void assertCompleteReport(Storage storage, String out, ExperimentConfig config) throws IOException {
        Location report = Location.parse(out, "--out").resolve("report");
        List<String> rows = storage.readString(report.resolve("transfer_table.csv")).lines().toList();
        assertEquals(String.join(",", ReportStage.CSV_COLUMNS), rows.get(0));
        assertEquals(reportCells(config), rows.size() - 1, "one row per cell");
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",", -1);
            assertFalse(f[5].isEmpty(), "mean of " + row);
            assertEquals(String.valueOf(config.transfer.seeds.size()), f[7], "seeds of " + row);
            assertTrue(Double.parseDouble(f[5]) > 30, "learned something: " + row);
        }
        assertTrue(storage.readString(report.resolve("transfer_table.md")).contains("gmp_star"));
        assertTrue(storage.list(report).containsAll(List.of("index.html", "transfer_table.md", "upstream.png", "mean_linear.png")),
                "the report's files are in the warehouse's store: " + storage.list(report));
    }

    /** A rerun's output: every stage found done, nothing trained. */
    static void assertRerunSkipsEverything(String again, ExperimentConfig config) {
        long runs = transferRuns(config);
        for (String skipped : List.of("is ingested", "[upstream] dense checkpoint",
                "[prune] all " + prunedCheckpoints(config) + " pruned checkpoints exist",
                "[transfer] " + runs + " of " + runs + " runs already have results")) {
            assertTrue(again.contains(skipped), "the rerun skips what is stored (" + skipped + "):\n" + again);
        }
        assertFalse(again.contains("] epoch "), "the rerun trains nothing");
    }
}
