package org.sparsetransfer.jobs.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.io.file.PathUtils;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Fan-out of the transfer stage across executors: {@code bench/fanout.sh} runs it on a Spark
 * local-cluster (master, workers and executor JVMs on 127.0.0.1) with one and with two
 * single-core executors, and two one-executor runs at once for the machine's own ceiling; each
 * twice in one application ({@link TransferRounds}), cold and then on warm executors. The
 * script starts Spark's cluster processes from the built application, so this benchmark runs
 * from a repository checkout after {@code mvn package} (the launcher builds it).
 */
final class FanoutBenchmark implements Benchmark {
    private final Path root;

    FanoutBenchmark(Path root) {
        this.root = root;
    }

    @Override
    public String name() {
        return "fanout";
    }

    @Override
    public String title() {
        return "Fan-out: transfer stage on 1 vs 2 single-core executors";
    }

    @Override
    public Result run(boolean quick) throws Exception {
        Path script = root.resolve("bench/fanout.sh");
        if (!Files.isRegularFile(script)) {
            throw new InvalidInputException("The fanout benchmark runs " + script + ", which is missing: run bench from the "
                    + "repository root (or leave fanout out with --only)");
        }
        Path work = Files.createTempDirectory("sparse-transfer-bench-fanout-");
        try {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("BENCH_WORK", work.resolve("warehouse").toString());
            String config = "conf/tiny.yaml";
            if (quick) {
                env.put("FANOUT_CONFIG", PipelineBenchmark.micro(work).toString());
                config = "`" + PipelineBenchmark.MICRO_CONFIG + "`";
            }
            Path log = work.resolve("fanout.log");
            ChildProcess.run(List.of("bash", script.toString(), "1"), env, log);
            Map<String, String> printed = new LinkedHashMap<>();
            for (String line : Files.readAllLines(log)) {
                int eq = line.indexOf('=');
                if (line.startsWith("fanout_") && eq > 0) {
                    printed.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return result(printed, config);
        } finally {
            PathUtils.deleteDirectory(work);
        }
    }

    private static Result result(Map<String, String> printed, String config) {
        LinkedHashMap<String, String> figures = new LinkedHashMap<>();
        for (String name : List.of("fanout_efficiency", "fanout_machine_ceiling", "fanout_t1_s", "fanout_t2_s", "fanout_pair_s",
                "fanout_efficiency_cold", "fanout_machine_ceiling_cold", "fanout_t1_cold_s", "fanout_t2_cold_s", "fanout_pair_cold_s")) {
            String value = printed.get(name);
            if (value == null) {
                throw new IllegalStateException("bench/fanout.sh printed no " + name + "; printed " + printed);
            }
            figures.put(name, value);
        }
        double efficiency = Double.parseDouble(figures.get("fanout_efficiency"));
        double ceiling = Double.parseDouble(figures.get("fanout_machine_ceiling"));
        figures.put("fanout_vs_machine_ceiling", String.format(Locale.ROOT, "%.3f", efficiency / ceiling));
        List<String> details = new ArrayList<>();
        details.add("- Spark 4.0.1 `local-cluster[N,1,2048]`; DJL / libtorch with 1 intra-op thread per executor");
        details.add("- Work: the transfer stage of " + config + ", " + printed.get("fanout_runs") + " runs (a Spark task per full run, and per checkpoint and task for the linear seeds); "
                + "ingest, upstream and pruning run beforehand in local mode");
        details.add("- Each measurement is one Spark application running the stage twice, on two copies of the prepared "
                + "warehouse (the same work: executors cache by file path). The first round (`_cold`) also pays every JVM's "
                + "start and JIT compilation, about 20 s of CPU per JVM here; the second runs on warm executors, the steady state "
                + "of a long run on a cluster. Figures without `_cold` are the warm round.");
        details.add("- Wall seconds of the warm stage, each measurement: 1 executor " + printed.get("fanout_t1_each") + "; 2 executors "
                + printed.get("fanout_t2_each") + "; two independent 1-executor applications at once " + printed.get("fanout_pair_each"));
        details.add("- fanout_efficiency = t1 / (2 t2). fanout_machine_ceiling = t1 / t_pair: what two fully independent "
                + "single-core applications reach on this machine at once (each with its own driver, on the same 2 cores).");
        details.add("- Target: fanout_efficiency >= 0.8.");
        return new Result(figures, details);
    }
}
