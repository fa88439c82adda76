package org.sparsetransfer.jobs.bench;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;

/** The benchmarks {@code bench} knows, run in order. */
public final class BenchSuite {
    /** In-process benchmarks first, then those that start whole pipelines and clusters (minutes each). */
    static final List<Benchmark> ALL = List.of(new TrainStepBenchmark(), new PruningThresholdBenchmark(), new CheckpointSizeBenchmark(),
            new LinearTransferBenchmark(), new InputPipelineBenchmark(), new DataScaleBenchmark(), new PipelineBenchmark(), new FanoutBenchmark(Path.of("")));

    private BenchSuite() {}

    /** Runs {@code only} (null: all), writing each results file into {@code dir} and printing its figures. */
    public static void run(List<String> only, boolean quick, Path dir, String command, PrintWriter out) throws Exception {
        List<String> known = ALL.stream().map(Benchmark::name).toList();
        if (only != null) {
            for (String name : only) {
                if (!known.contains(name)) {
                    throw new InvalidInputException("Unknown benchmark '" + name + "' in --only; expected one of " + known);
                }
            }
        }
        for (Benchmark benchmark : ALL) {
            if (only != null && !only.contains(benchmark.name())) {
                continue;
            }
            out.println("# " + benchmark.name() + ": " + benchmark.title() + (quick ? " (quick)" : ""));
            out.flush();
            Benchmark.Result result = benchmark.run(quick);
            result.figures().forEach((name, value) -> out.println(name + "=" + value));
            out.println("# wrote " + BenchReport.write(dir, benchmark, result, command));
            out.flush();
        }
    }
}
