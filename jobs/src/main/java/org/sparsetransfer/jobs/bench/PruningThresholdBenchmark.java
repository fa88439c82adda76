package org.sparsetransfer.jobs.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;

/**
 * The global magnitude threshold (selection, as pruning runs it) over every weight tensor of
 * ResNet-50, against one read pass over the same floats and against a full sort.
 */
final class PruningThresholdBenchmark implements Benchmark {
    static final double SPARSITY = 0.9;

    @Override
    public String name() {
        return "pruning-threshold";
    }

    @Override
    public String title() {
        return "Global magnitude threshold vs a memory pass";
    }

    @Override
    public Result run(boolean quick) throws Exception {
        ModelWeights model = ModelWeights.resnet(quick);
        Mask dense = Mask.dense(model.weights(), model.prunableAll());
        float[][] arrays = model.prunableAll().stream().map(t -> model.weights().get(t).values()).toArray(float[][]::new);
        long n = model.count(model.prunableAll());
        long k = Math.round(SPARSITY * n);
        float[] sortedAtK = new float[1];
        double[] t = Timing.medians(quick ? 2 : 7,
                () -> MagnitudePruner.globalThreshold(model.weights(), dense, SPARSITY),
                () -> readPass(arrays),
                () -> {
                    float[] scores = abs(arrays, n);
                    Arrays.sort(scores);
                    sortedAtK[0] = scores[(int) (k - 1)];
                    return scores;
                },
                () -> new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(model.weights(), dense, SPARSITY));
        float threshold = MagnitudePruner.globalThreshold(model.weights(), dense, SPARSITY);
        if (threshold != sortedAtK[0]) {
            throw new IllegalStateException("selection found " + threshold + " but the sorted scores hold " + sortedAtK[0]);
        }
        LinkedHashMap<String, String> figures = new LinkedHashMap<>();
        figures.put("topk_threshold_vs_memory_pass", fmt(t[0] / t[1]));
        figures.put("topk_threshold_s", fmt(t[0]));
        figures.put("memory_pass_s", fmt(t[1]));
        figures.put("full_sort_s", fmt(t[2]));
        figures.put("full_sort_vs_memory_pass", fmt(t[2] / t[1]));
        figures.put("prune_global_s", fmt(t[3]));
        List<String> details = new ArrayList<>();
        details.add(String.format(Locale.ROOT, "- Input: %s with 1000 classes, every weight tensor (%d tensors, %,d floats), "
                + "freshly initialized; threshold for %.0f%% sparsity (the %,d-th smallest |w|)", model.model(),
                arrays.length, n, 100 * SPARSITY, k));
        details.add("- `topk_threshold_s`: `MagnitudePruner.globalThreshold` (sampling selection over score keys read in place, "
                + "the int bits of |w| where kept: a seeded sample bounds the k-th score, one branch-free counting pass over the "
                + "weights and mask copies the keys between the bounds, quickselect finishes on them), one thread; `memory_pass_s`: summing the same floats once; `full_sort_s`: the same scores sorted "
                + "(`Arrays.sort`); `prune_global_s`: a whole global prune (threshold and mask)");
        details.add("- The selected threshold equals the sorted scores' k-th value (checked every run).");
        details.add(Timing.DESCRIPTION);
        details.add("- Target: topk_threshold_vs_memory_pass <= 3.");
        return new Result(figures, details);
    }

    private static double readPass(float[][] arrays) {
        double sum = 0;
        for (float[] a : arrays) {
            for (float v : a) {
                sum += v;
            }
        }
        return sum;
    }

    private static float[] abs(float[][] arrays, long n) {
        float[] out = new float[Math.toIntExact(n)];
        int at = 0;
        for (float[] a : arrays) {
            for (float v : a) {
                out[at++] = Math.abs(v);
            }
        }
        return out;
    }

    static String fmt(double value) {
        return String.format(Locale.ROOT, value >= 100 ? "%.1f" : "%.4g", value);
    }
}
