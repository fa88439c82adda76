package org.sparsetransfer.jobs.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.io.file.PathUtils;

/**
 * Wall time and peak resident memory of whole pipelines, each from an empty warehouse in a fresh
 * JVM (Spark local mode, so the driver JVM is the whole job): the tiny config and the demo (the
 * embedded default, the README's first command), which must stay within the README's budget.
 */
final class PipelineBenchmark implements Benchmark {
    /** The demo's budget as the README states it ("the budget is 15 minutes"). */
    static final int DEMO_BUDGET_S = 15 * 60;
    static final String MICRO_CONFIG = "sparse-transfer/bench-micro.yaml";

    private record Case(String key, String config, String description) {}

    @Override
    public String name() {
        return "pipeline";
    }

    @Override
    public String title() {
        return "Pipeline wall time and peak memory";
    }

    @Override
    public Result run(boolean quick) throws Exception {
        Path work = Files.createTempDirectory("sparse-transfer-bench-pipeline-");
        try {
            List<Case> cases = quick
                    ? List.of(new Case("micro", micro(work).toString(), "`" + MICRO_CONFIG + "` (2 methods, 2 tasks, 1 seed)"))
                    : List.of(new Case("tiny", "conf/tiny.yaml", "`conf/tiny.yaml` (nine methods, 4 tasks, 2 regimes, 2 seeds)"),
                            new Case("demo", null, "the demo, `bin/sparse-transfer pipeline` with no config (conf/demo.yaml)"));
            LinkedHashMap<String, String> figures = new LinkedHashMap<>();
            List<String> details = new ArrayList<>();
            for (Case c : cases) {
                List<String> args = new ArrayList<>(List.of("pipeline", "--out", work.resolve(c.key()).toString()));
                if (c.config() != null) {
                    args.addAll(List.of("--config", c.config()));
                }
                ChildProcess.Measurement m = ChildProcess.run(ChildProcess.application(args.toArray(String[]::new)), Map.of(),
                        work.resolve(c.key() + ".log"));
                figures.put(c.key() + "_wall_s", String.format(Locale.ROOT, "%.1f", m.wallSeconds()));
                figures.put(c.key() + "_peak_rss_mb", m.peakRssBytes() < 0 ? "n/a" : Long.toString(m.peakRssBytes() >> 20));
                details.add("- `" + c.key() + "`: " + c.description());
                if (c.key().equals("demo")) {
                    figures.put("demo_wall_vs_budget", String.format(Locale.ROOT, "%.3f", m.wallSeconds() / DEMO_BUDGET_S));
                }
            }
            details.add("- Each pipeline runs from an empty warehouse in a fresh JVM with the launcher's flags and heap, "
                    + "Spark local[*], JVM start and Spark session included; peak RSS is the kernel's high-water mark "
                    + "(VmHWM) of that JVM, read every 50 ms.");
            details.add("- Budget: the README states " + DEMO_BUDGET_S / 60 + " minutes for the demo (demo_wall_vs_budget <= 1).");
            return new Result(figures, details);
        } finally {
            PathUtils.deleteDirectory(work);
        }
    }

    /** The micro pipeline's config, written into {@code work}. */
    static Path micro(Path work) throws IOException {
        Path config = work.resolve("bench-micro.yaml");
        try (InputStream in = PipelineBenchmark.class.getClassLoader().getResourceAsStream(MICRO_CONFIG)) {
            Files.copy(in, config);
        }
        return config;
    }
}
