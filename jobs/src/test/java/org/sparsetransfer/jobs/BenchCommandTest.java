package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.jobs.cli.SparseTransferCli;

/** The benchmark code runs and reports what it should; its figures are for the results files, not asserted here. */
class BenchCommandTest {
    @TempDir
    Path results;

    @Test
    void quickRunPrintsEveryFigureAndWritesItsResultsFiles() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new picocli.CommandLine(new SparseTransferCli()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute("bench", "--quick", "--only", "train-step,pruning-threshold,checkpoint-size,linear-transfer,pipeline", "--results", results.toString());
        assertEquals(0, code, err.toString());
        Map<String, Double> figures = new LinkedHashMap<>();
        out.toString().lines().filter(l -> !l.startsWith("#")).forEach(l -> {
            String[] kv = l.split("=", 2);
            // The PyTorch reference is n/a where python3-torch is not installed (CI); everything else is a number.
            figures.put(kv[0], kv[1].equals("n/a") && kv[0].startsWith("train_step_ratio_vs_pytorch") ? 1.0 : Double.parseDouble(kv[1]));
        });
        for (String name : new String[] {"train_steps_per_s_small_cnn", "train_steps_per_s_resnet18", "input_overhead_resnet18_augmented",
                "train_step_ratio_vs_pytorch_small_cnn", "train_step_ratio_vs_pytorch_resnet18", "topk_threshold_vs_memory_pass", "full_sort_s", "checkpoint_bytes_ratio_090",
                "checkpoint_bytes_ratio_090_all_layers", "checkpoint_encode_mb_s", "checkpoint_decode_mb_s", "linear_transfer_cache_speedup", "micro_wall_s", "micro_peak_rss_mb"}) {
            assertTrue(figures.containsKey(name) && figures.get(name) > 0, name + " in " + figures);
        }
        assertTrue(figures.get("checkpoint_bytes_ratio_090_all_layers") < figures.get("checkpoint_bytes_ratio_090"),
                "pruning the stem and head too stores less: " + figures);
        assertTrue(figures.get("checkpoint_bytes_ratio_090_all_layers") < 0.2, "bitmask + 10% of the values: " + figures);
        assertTrue(figures.get("input_overhead") < 1, "a share of the step: " + figures);
        String threshold = Files.readString(results.resolve("pruning-threshold.md"));
        assertTrue(threshold.contains("Command: `bin/sparse-transfer bench --quick --only train-step,") && threshold.contains("cores")
                && threshold.contains("| `topk_threshold_vs_memory_pass` |"), threshold);
        assertTrue(Files.readString(results.resolve("checkpoint-size.md")).contains("read back equal"));
        // A whole Spark pipeline in a JVM of its own: more than a few seconds and more than 100 MB resident.
        assertTrue(figures.get("micro_wall_s") > 5 && figures.get("micro_peak_rss_mb") > 100, figures.toString());
    }

    @Test
    void fanoutOutsideTheRepositoryNamesTheMissingScript() {
        StringWriter err = new StringWriter();
        // The test runs in jobs/, which has no bench/fanout.sh.
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), "bench", "--quick", "--only", "fanout",
                "--results", results.toString());
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code);
        assertTrue(err.toString().contains("bench/fanout.sh, which is missing: run bench from the repository root"), err.toString());
    }

    @Test
    void anUnknownBenchmarkIsNamed() {
        StringWriter err = new StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), "bench", "--only", "warp-drive");
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code);
        assertTrue(err.toString().contains("Unknown benchmark 'warp-drive'"), err.toString());
    }
}
