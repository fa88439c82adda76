package org.sparsetransfer.jobs.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.io.file.PathUtils;
import org.sparsetransfer.jobs.stages.DataScaleProbe;

/**
 * A task's memory against the size of its data: the upstream training path (a Spark task reading
 * its shard from the datasets table, training, scoring) and a linear transfer run, each in a fresh
 * JVM with the same fixed heap, on a generated image dataset at 1x and 10x its size; and the
 * largest split trained on and evaluated with a heap smaller than the split.
 */
final class DataScaleBenchmark implements Benchmark {
    /** The heap every measured JVM gets: smaller than the large split. */
    static final String HEAP = "1g";

    @Override
    public String name() {
        return "data-scale";
    }

    @Override
    public String title() {
        return "Memory against data size, and a split larger than the heap";
    }

    @Override
    public Result run(boolean quick) throws Exception {
        int small = quick ? 200 : 2_000;
        int side = quick ? 40 : 128; // 10x is about the heap: a task that held its split would run out of it
        int large = quick ? 400 : 12_000;
        int largeSide = quick ? 64 : 256;
        int steps = quick ? 4 : 20;
        String bufferMb = quick ? "0.5" : "8";
        Path work = Files.createTempDirectory("sparse-transfer-bench-data-scale-");
        try {
            LinkedHashMap<String, String> figures = new LinkedHashMap<>();
            List<String> details = new ArrayList<>();
            Map<String, Long> peaks = new HashMap<>();
            for (int scale : new int[] {1, 10}) {
                Path dir = work.resolve("x" + scale);
                probe(work, "generate-x" + scale, "4g", "generate", dir.toString(), Integer.toString(small * scale), Integer.toString(side));
                for (String mode : List.of("upstream", "transfer")) {
                    Probe p = probe(work, mode + "-x" + scale, HEAP, mode, dir.toString(), "32", bufferMb, Integer.toString(steps));
                    peaks.put(mode + scale, p.peakRss());
                    figures.put(mode + "_peak_rss_mb_" + scale + "x", Long.toString(p.peakRss() >> 20));
                    if (!p.values().get("spilled").equals("true")) {
                        throw new IllegalStateException(mode + " at " + scale + "x did not spill; the ratio would not measure the bounded path");
                    }
                }
            }
            double upstreamRatio = peaks.get("upstream10") / (double) peaks.get("upstream1");
            double transferRatio = peaks.get("transfer10") / (double) peaks.get("transfer1");
            figures.put("data_scale_memory_ratio_10x", String.format(Locale.ROOT, "%.3f", Math.max(upstreamRatio, transferRatio)));
            figures.put("upstream_memory_ratio_10x", String.format(Locale.ROOT, "%.3f", upstreamRatio));
            figures.put("transfer_memory_ratio_10x", String.format(Locale.ROOT, "%.3f", transferRatio));

            Path dir = work.resolve("large");
            probe(work, "generate-large", "4g", "generate", dir.toString(), Integer.toString(large), Integer.toString(largeSide));
            Probe big = probe(work, "upstream-large", HEAP, "upstream", dir.toString(), "32", "1024", Integer.toString(steps));
            Map<String, String> v = big.values();
            long splitBytes = Long.parseLong(v.get("split_bytes"));
            if (!v.get("mask_exact").equals("true") || Long.parseLong(v.get("train_split_examples")) != large
                    || Integer.parseInt(v.get("steps")) != steps) {
                throw new IllegalStateException("the large split's run did not train and evaluate all of it: " + v);
            }
            figures.put("large_split_gib", String.format(Locale.ROOT, "%.2f", splitBytes / (double) (1L << 30)));
            figures.put("large_split_heap_gib", String.format(Locale.ROOT, "%.2f", Long.parseLong(v.get("heap_max")) / (double) (1L << 30)));
            figures.put("large_split_peak_rss_gib", String.format(Locale.ROOT, "%.2f", big.peakRss() / (double) (1L << 30)));
            figures.put("large_split_train_s", v.get("train_s"));
            figures.put("large_split_count_s", v.get("count_s"));

            details.add(String.format(Locale.ROOT, "- Data: generated RGB images of 10 learnable classes (`DataScaleProbe generate`), "
                    + "written to a Delta datasets table by Spark tasks; %d and %d training images at %d px (%.1f and %.1f MB of "
                    + "stored pixels) for the ratio, %d at %d px for the large split; val and test a tenth each.", small, small * 10,
                    side, small * 3.0 * side * side / 1e6, small * 30.0 * side * side / 1e6, large, largeSide));
            details.add("- Upstream: ResNet-18, one-shot pruning to 50% then " + steps + " steps at batch 32 on 32-px random "
                    + "resized crops, as a Spark task (local[1]) reading its shard (the whole training split) from the table's "
                    + "files; val and test scored as Spark tasks; then the whole training split counted as one evaluation part. "
                    + "Transfer: one linear run (" + steps + " steps) on features of a random-weight ResNet-18, the task's train "
                    + "and test splits read as the transfer stage reads them.");
            details.add("- Every measured JVM has -Xms" + HEAP + " -Xmx" + HEAP + " -XX:+AlwaysPreTouch (the heap counted in full "
                    + "from the start, so the figure does not measure how far the collector grew it) and `data.buffer_mb` " + bufferMb + " for the ratio (both sizes "
                    + "spill, checked), the default 1024 for the large split (a split over the buffer spills). Peak memory is the "
                    + "kernel's high-water mark (VmHWM: heap, native and engine memory) of the whole JVM, driver and executor, read "
                    + "every 50 ms. `data_scale_memory_ratio_10x` is the larger of the upstream and transfer ratios (target <= 1.2).");
            details.add("- `large_split_gib`: the training split trained on and counted in full (every image, mask exact, checked) "
                    + "with the heap of `large_split_heap_gib` (target >= 2.0 GiB, over the 2 GiB a Java array holds).");
            return new Result(figures, details);
        } finally {
            PathUtils.deleteDirectory(work);
        }
    }

    /** What a probe printed on its {@code probe} line, and the JVM's peak memory. */
    private record Probe(Map<String, String> values, long peakRss) {}

    private static Probe probe(Path work, String label, String heap, String... args) throws Exception {
        Path log = work.resolve(label + ".log");
        // The whole heap committed and touched from the start, so peak memory does not depend on how far the
        // collector grew the heap: what grows with the data outside the heap shows, and a heap that
        // had to hold the data runs out.
        List<String> flags = List.of("-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch");
        ChildProcess.Measurement m = ChildProcess.run(ChildProcess.java(flags, DataScaleProbe.class, args), Map.of(), log);
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList()) {
            if (line.startsWith("probe ")) {
                for (String pair : line.substring(6).trim().split(" ")) {
                    String[] kv = pair.split("=", 2);
                    values.put(kv[0], kv[1]);
                }
            }
        }
        if (values.isEmpty()) {
            throw new IllegalStateException("probe " + label + " printed no figures (log " + log + ")");
        }
        System.out.println("  " + label + ": " + values + ", peak RSS " + (m.peakRssBytes() >> 20) + " MB, " + Math.round(m.wallSeconds()) + " s");
        return new Probe(values, m.peakRssBytes());
    }
}
