package org.sparsetransfer.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The fan-out benchmark's whole path (local-cluster executors started from the built jar, two
 * rounds of the transfer stage per application) on the micro pipeline.
 */
@Tag("slow")
class FanoutBenchmarkIT {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @Test
    void quickFanoutMeasuresOneAndTwoExecutors() throws Exception {
        Benchmark.Result result = new FanoutBenchmark(ROOT).run(true);
        double t1 = Double.parseDouble(result.figures().get("fanout_t1_s"));
        double t2 = Double.parseDouble(result.figures().get("fanout_t2_s"));
        double efficiency = Double.parseDouble(result.figures().get("fanout_efficiency"));
        assertTrue(t1 > 0 && t2 > 0, result.figures().toString());
        assertTrue(Math.abs(efficiency - t1 / (2 * t2)) < 0.002, "efficiency = t1 / (2 t2): " + result.figures());
        double t1Cold = Double.parseDouble(result.figures().get("fanout_t1_cold_s"));
        double t2Cold = Double.parseDouble(result.figures().get("fanout_t2_cold_s"));
        double efficiencyCold = Double.parseDouble(result.figures().get("fanout_efficiency_cold"));
        assertTrue(Math.abs(efficiencyCold - t1Cold / (2 * t2Cold)) < 0.002, "the cold round's too: " + result.figures());
        assertTrue(result.details().stream().anyMatch(d -> d.contains("8 runs")), "the micro transfer stage has 8 runs: " + result.details());
    }
}
