package org.sparsetransfer.core.prune;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.sparsetransfer.core.model.Weights;

/**
 * Magnitude pruning to an exact sparsity. Already-pruned elements stay pruned (masks only
 * shrink), and exactly {@code round(sparsity * n)} elements end up pruned: the threshold is the
 * k-th smallest score found by selection (O(n)), and ties at the threshold are pruned in index
 * order until the count is met, so ties never overshoot the target.
 */
public final class MagnitudePruner {
    /** One threshold over all prunable tensors, or the same fraction in each tensor. */
    public enum Scope { GLOBAL, LAYERWISE }

    private final Scope scope;

    public MagnitudePruner(Scope scope) {
        this.scope = scope;
    }

    /** The pruner a config's criterion names: "global" or "layerwise". */
    public static MagnitudePruner forCriterion(String criterion) {
        return new MagnitudePruner("layerwise".equals(criterion) ? Scope.LAYERWISE : Scope.GLOBAL);
    }

    public Mask prune(Weights weights, Mask current, double sparsity) {
        if (!(sparsity >= 0.0 && sparsity < 1.0)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
        }
        Map<String, float[]> scores = scores(weights, current);
        Map<String, boolean[]> next = new LinkedHashMap<>();
        if (scope == Scope.LAYERWISE) {
            scores.forEach((name, s) -> next.put(name, keepLargest(new float[][] {s}, prunedCount(s.length, sparsity))[0]));
        } else {
            float[][] all = scores.values().toArray(new float[0][]);
            boolean[][] kept = keepLargest(all, prunedCount(total(all), sparsity));
            int i = 0;
            for (String name : scores.keySet()) {
                next.put(name, kept[i++]);
            }
        }
        return new Mask(next);
    }

    /**
     * The score at which global magnitude pruning of the {@code current} mask's tensors to
     * {@code sparsity} stops: the largest |w| it removes (pruned weights score -1, below all).
     * The selection {@link #prune} runs, exposed for benchmarks and diagnostics.
     */
    public static float globalThreshold(Weights weights, Mask current, double sparsity) {
        float[][] scores = scores(weights, current).values().toArray(new float[0][]);
        long prune = prunedCount(total(scores), sparsity);
        return prune == 0 ? -1f : kthSmallest(scores, prune - 1);
    }

    /** Per masked tensor, |w| where kept and -1 where already pruned (so pruned weights are chosen first). */
    private static Map<String, float[]> scores(Weights weights, Mask current) {
        Map<String, float[]> scores = new LinkedHashMap<>();
        for (String name : current.tensorNames()) {
            float[] v = weights.get(name).values();
            boolean[] kept = current.bitsUnsafe(name);
            float[] s = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                s[i] = kept[i] ? Math.abs(v[i]) : -1f;
            }
            scores.put(name, s);
        }
        return scores;
    }

    private static long total(float[][] arrays) {
        long n = 0;
        for (float[] a : arrays) {
            n += a.length;
        }
        return n;
    }

    static long prunedCount(long n, double sparsity) {
        return Math.round(sparsity * n);
    }

    /** Marks all but the {@code prune} smallest scores (over all arrays together) as kept. */
    static boolean[][] keepLargest(float[][] scores, long prune) {
        boolean[][] kept = new boolean[scores.length][];
        for (int a = 0; a < scores.length; a++) {
            kept[a] = new boolean[scores[a].length];
            Arrays.fill(kept[a], true);
        }
        if (prune == 0) {
            return kept;
        }
        float threshold = kthSmallest(scores, prune - 1);
        long remaining = prune;
        // Everything strictly below the threshold goes; then ties, in order, until the count is met.
        for (int a = 0; a < scores.length; a++) {
            float[] s = scores[a];
            for (int i = 0; i < s.length; i++) {
                if (s[i] < threshold) {
                    kept[a][i] = false;
                    remaining--;
                }
            }
        }
        for (int a = 0; a < scores.length && remaining > 0; a++) {
            float[] s = scores[a];
            for (int i = 0; i < s.length && remaining > 0; i++) {
                if (s[i] == threshold) {
                    kept[a][i] = false;
                    remaining--;
                }
            }
        }
        return kept;
    }

    private static float[] flatten(float[][] arrays) {
        int n = 0;
        for (float[] a : arrays) {
            n = Math.addExact(n, a.length);
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] a : arrays) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /** Below this many values, selection copies them and runs quickselect directly. */
    private static final int DIRECT = 1 << 17;
    private static final int SAMPLE = 1 << 16;
    /** Half-width of the candidate window in sample ranks: 8 standard deviations of a sample rank (at most sqrt(m) / 2). */
    private static final double MARGIN = 4 * Math.sqrt(SAMPLE);

    /**
     * The k-th smallest (0-based) of all values of {@code arrays}, exactly, without reordering them.
     * Large inputs use sampling (Floyd and Rivest's idea): a seeded sample's order statistics
     * bound the k-th value from both sides, one pass counts the values below the window and
     * copies those inside it (about 3% of them), and quickselect finishes on that copy. If the
     * window misses (probability far below 1e-9) it selects over a full copy instead.
     */
    static float kthSmallest(float[][] arrays, long k) {
        long n = total(arrays);
        if (n <= DIRECT) {
            return kthSmallest(flatten(arrays), k);
        }
        float[] sample = new float[SAMPLE];
        SplittableRandom random = new SplittableRandom(n * 31 + k);
        int array = 0;
        long offset = 0; // global index of arrays[array][0]
        for (int j = 0; j < SAMPLE; j++) {
            long index = (long) ((j + random.nextDouble()) * n / SAMPLE);
            while (index >= offset + arrays[array].length) {
                offset += arrays[array].length;
                array++;
            }
            sample[j] = arrays[array][(int) (index - offset)];
        }
        Arrays.sort(sample);
        double rank = (k + 0.5) * SAMPLE / n;
        float lo = sample[(int) Math.max(0, Math.floor(rank - MARGIN))];
        float hi = sample[(int) Math.min(SAMPLE - 1, Math.ceil(rank + MARGIN))];
        long below = 0;
        float[] window = new float[(int) Math.min(n, 4 * MARGIN * n / SAMPLE + 1024)];
        int inside = 0;
        for (float[] a : arrays) {
            for (float v : a) {
                if (v < lo) {
                    below++;
                } else if (v <= hi) {
                    if (inside == window.length) {
                        window = Arrays.copyOf(window, (int) Math.min(n, 2L * window.length));
                    }
                    window[inside++] = v;
                }
            }
        }
        if (k >= below && k < below + inside) {
            return kthSmallest(Arrays.copyOf(window, inside), k - below);
        }
        return kthSmallest(flatten(arrays), k);
    }

    /**
     * The k-th smallest value (0-based) by iterative quickselect with median-of-three pivots;
     * reorders {@code values}.
     */
    static float kthSmallest(float[] values, long k) {
        int lo = 0;
        int hi = values.length - 1;
        int target = Math.toIntExact(k);
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            float pivot = medianOfThree(values[lo], values[mid], values[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (values[i] < pivot) {
                    i++;
                }
                while (values[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    float t = values[i];
                    values[i] = values[j];
                    values[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return values[target];
            }
        }
        return values[target];
    }

    private static float medianOfThree(float a, float b, float c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
