package org.sparsetransfer.jobs.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bench}: the benchmark suite. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run the benchmarks, write one results file each under --results and print one name=value line per figure: "
                + "train-step (steps/s vs eager PyTorch from bench/pytorch_step.py, input overhead; after bench/setup-pytorch.sh), "
                + "pruning-threshold (global magnitude threshold vs a memory pass and a full sort over ResNet-50's weights), "
                + "checkpoint-size (90%%-sparse ResNet-50 checkpoint bytes over dense, codec speed), linear-transfer (seeds with and "
                + "without the feature cache), pipeline (wall time and peak "
                + "memory of the tiny and demo pipelines), fanout (the transfer stage on 1 vs 2 executors of a local cluster, "
                + "bench/fanout.sh). Run from the repository root; the whole suite takes about 40 minutes on 2 cores (docs/development.md, Benchmarks).")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "Small inputs (ResNet-18, a two-method micro pipeline) and few repetitions: checks that the benchmarks run, not their figures.")
    boolean quick;

    @Option(names = "--only", split = ",", paramLabel = "NAME", description = "Run only these benchmarks (comma-separated).")
    List<String> only;

    @Option(names = "--results", paramLabel = "DIR", defaultValue = "bench/results",
            description = "Directory of the results files. Default: ${DEFAULT-VALUE}.")
    Path results;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String command = "bin/sparse-transfer bench" + (quick ? " --quick" : "") + (only == null ? "" : " --only " + String.join(",", only));
        org.sparsetransfer.jobs.bench.BenchSuite.run(only, quick, results, command, spec.commandLine().getOut());
        return 0;
    }
}
