package org.sparsetransfer.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;

class MagnitudePrunerTest {
    private final Weights weights = new Weights(Map.of(
            "a", Synthetic.gaussian(1, 64, 3, 3, 3),
            "b", Synthetic.gaussian(2, 1000, 7),
            "bias", Synthetic.gaussian(3, 7)));
    private final Set<String> prunable = Set.of("a", "b");
    private final MagnitudePruner global = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL);

    @Test
    void globalPruningHitsTheTargetCountExactly() {
        Mask dense = Mask.dense(weights, prunable);
        long n = dense.size();
        for (double s : new double[] {0.0, 0.1, 0.5, 0.8, 0.9, 0.95, 0.999}) {
            Mask m = global.prune(weights, dense, s);
            assertEquals(Math.round(s * n), m.prunedCount(), "sparsity " + s);
            assertTrue(Math.abs(m.sparsity() - s) <= 0.5 / n + 1e-12);
        }
    }

    @Test
    void sampledSelectionOverLargeInputsIsExact() {
        SplittableRandom random = new SplittableRandom(7);
        float[][] continuous = new float[3][];
        float[][] ties = new float[3][];
        boolean[][] kept = new boolean[3][];
        for (int a = 0; a < 3; a++) {
            continuous[a] = new float[100_000 + a * 37_000];
            ties[a] = new float[continuous[a].length];
            kept[a] = new boolean[continuous[a].length];
            for (int i = 0; i < continuous[a].length; i++) {
                // 40% already pruned (score -1), the rest signed gaussians; and a copy with only ten distinct magnitudes
                kept[a][i] = random.nextDouble() >= 0.4;
                continuous[a][i] = (float) random.nextGaussian();
                ties[a][i] = random.nextInt(-9, 10);
            }
        }
        for (float[][] weights : List.of(continuous, ties)) {
            float[] sorted = new float[0];
            for (int a = 0; a < weights.length; a++) {
                int at = sorted.length;
                sorted = Arrays.copyOf(sorted, at + weights[a].length);
                for (int i = 0; i < weights[a].length; i++) {
                    sorted[at + i] = kept[a][i] ? Math.abs(weights[a][i]) : -1f;
                }
            }
            float[] before = weights[1].clone();
            Arrays.sort(sorted);
            MagnitudePruner.Scores scores = new MagnitudePruner.Scores(weights, kept);
            for (long k : new long[] {0, 1, 1000, 160_000, 200_000, 299_999, sorted.length - 1L}) {
                assertEquals(sorted[(int) k], MagnitudePruner.Scores.toFloat(MagnitudePruner.kthSmallest(scores, k)), "k = " + k);
            }
            assertTrue(Arrays.equals(before, weights[1]), "the weights are not reordered");
        }
    }

    @Test
    void scoreKeysOrderLikeMagnitudesWithPrunedBelowAll() {
        float[] magnitudes = {0f, Float.MIN_VALUE, 1e-30f, 0.5f, 1f, 3e38f, Float.POSITIVE_INFINITY};
        int previous = MagnitudePruner.Scores.key(123f, false);
        assertEquals(-1f, MagnitudePruner.Scores.toFloat(previous));
        for (float m : magnitudes) {
            int key = MagnitudePruner.Scores.key(-m, true);
            assertEquals(key, MagnitudePruner.Scores.key(m, true), "the sign does not matter");
            assertTrue(key > previous, m + " orders above the one before it");
            assertEquals(m, MagnitudePruner.Scores.toFloat(key));
            previous = key;
        }
    }

    @Test
    void theGlobalThresholdIsTheLargestMagnitudePruned() {
        Mask dense = Mask.dense(weights, prunable);
        Mask m = global.prune(weights, dense, 0.9);
        float largestPruned = -1;
        for (String name : prunable) {
            float[] v = weights.get(name).values();
            boolean[] kept = m.bits(name);
            for (int i = 0; i < v.length; i++) {
                if (!kept[i]) {
                    largestPruned = Math.max(largestPruned, Math.abs(v[i]));
                }
            }
        }
        assertEquals(largestPruned, MagnitudePruner.globalThreshold(weights, dense, 0.9));
        assertEquals(-1f, MagnitudePruner.globalThreshold(weights, dense, 0.0), "nothing to prune");
        assertEquals(-1f, MagnitudePruner.globalThreshold(weights, m, 0.5), "already-pruned weights are taken first");
    }

    @Test
    void globalPruningRemovesTheSmallestMagnitudesAcrossTensors() {
        Mask m = global.prune(weights, Mask.dense(weights, prunable), 0.7);
        float maxPruned = 0;
        float minKept = Float.MAX_VALUE;
        for (String name : prunable) {
            float[] v = weights.get(name).values();
            boolean[] kept = m.bits(name);
            for (int i = 0; i < v.length; i++) {
                if (kept[i]) {
                    minKept = Math.min(minKept, Math.abs(v[i]));
                } else {
                    maxPruned = Math.max(maxPruned, Math.abs(v[i]));
                }
            }
        }
        assertTrue(maxPruned <= minKept, maxPruned + " > " + minKept);
        assertTrue(!m.covers("bias"));
    }

    @Test
    void tiesNeverOvershootTheTarget() {
        float[] same = new float[1001];
        Arrays.fill(same, 0.5f);
        Weights flat = new Weights(Map.of("w", new Tensor(new long[] {7, 143}, same)));
        Mask m = global.prune(flat, Mask.dense(flat, Set.of("w")), 0.9);
        assertEquals(Math.round(0.9 * 1001), m.prunedCount());
    }

    @Test
    void prunedWeightsStayPrunedWhenSparsityGrows() {
        Mask first = global.prune(weights, Mask.dense(weights, prunable), 0.5);
        // Perturb the weights so that magnitudes reorder: previously pruned elements must stay out.
        Map<String, Tensor> grown = new LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(9);
        first.apply(weights).tensors().forEach((name, t) -> {
            float[] v = t.values().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) random.nextDouble(-0.5, 0.5);
            }
            grown.put(name, new Tensor(t.shape(), v));
        });
        Mask second = global.prune(new Weights(grown), first, 0.8);
        assertEquals(second, second.intersect(first), "the new mask keeps nothing the old one pruned");
        assertEquals(Math.round(0.8 * first.size()), second.prunedCount());
    }

    @Test
    void layerwisePruningGivesEachTensorTheSameFraction() {
        Mask m = new MagnitudePruner(MagnitudePruner.Scope.LAYERWISE).prune(weights, Mask.dense(weights, prunable), 0.75);
        for (String name : prunable) {
            Mask one = m.restrictTo(Set.of(name));
            assertEquals(Math.round(0.75 * one.size()), one.prunedCount(), name);
        }
    }

    @Test
    void selectionAgreesWithSorting() {
        SplittableRandom random = new SplittableRandom(4);
        for (int trial = 0; trial < 50; trial++) {
            int[] v = new int[1 + random.nextInt(500)];
            for (int i = 0; i < v.length; i++) {
                v[i] = random.nextInt(-1, 20); // many ties
            }
            int[] sorted = v.clone();
            Arrays.sort(sorted);
            int k = random.nextInt(v.length);
            assertEquals(sorted[k], MagnitudePruner.kthSmallest(v.clone(), k));
        }
    }
}
