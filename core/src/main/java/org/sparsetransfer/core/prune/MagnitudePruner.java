package org.sparsetransfer.core.prune;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sparsetransfer.core.model.Weights;

/**
 * Magnitude pruning to an exact sparsity. Already-pruned elements stay pruned (masks only
 * shrink), and exactly {@code round(sparsity * n)} elements end up pruned: the threshold is the
 * k-th smallest score found by selection (O(n)), and ties at the threshold are pruned in index
 * order until the count is met, so ties never overshoot the target.
 */
public final class MagnitudePruner implements MaskUpdater {
    private static final long serialVersionUID = 1L;
    /** One threshold over all prunable tensors, or the same fraction in each tensor. */
    public enum Scope { GLOBAL, LAYERWISE }

    private final Scope scope;

    public MagnitudePruner(Scope scope) {
        this.scope = scope;
    }

    /** Whether it ranks weights over all tensors or within each. */
    public Scope scope() {
        return scope;
    }

    /** The pruner of a config's criterion. */
    public static MagnitudePruner of(Criterion criterion) {
        return new MagnitudePruner(switch (criterion) {
            case GLOBAL -> Scope.GLOBAL;
            case LAYERWISE -> Scope.LAYERWISE;
        });
    }

    @Override
    public Mask update(int step, double target, Weights weights, Mask current, Weights gradient) {
        return prune(weights, current, target);
    }

    @Override
    public String describe() {
        return scope.name();
    }

    public Mask prune(Weights weights, Mask current, double sparsity) {
        if (!(sparsity >= 0.0 && sparsity < 1.0)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
        }
        Map<String, boolean[]> next = new LinkedHashMap<>();
        if (scope == Scope.LAYERWISE) {
            for (String name : current.tensorNames()) {
                Scores one = new Scores(new float[][] {weights.get(name).values()}, new boolean[][] {current.bitsUnsafe(name)});
                next.put(name, keepLargest(one, prunedCount(one.size(), sparsity))[0]);
            }
        } else {
            Scores all = Scores.of(weights, current);
            boolean[][] kept = keepLargest(all, prunedCount(all.size(), sparsity));
            int i = 0;
            for (String name : current.tensorNames()) {
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
        Scores scores = Scores.of(weights, current);
        long prune = prunedCount(scores.size(), sparsity);
        return prune == 0 ? -1f : Scores.toFloat(kthSmallest(scores, prune - 1));
    }

    /**
     * The score of each masked weight, |w| where kept and -1 where already pruned (so pruned
     * weights are chosen first), read from the weights and mask in place and compared as ints:
     * a non-negative float's bits order like the float, and -1 lies below them all. Int keys
     * make the passes over all weights branch-free (a float select on the mask, or the
     * "below the window" test, would mispredict on random masks), and nothing is copied.
     */
    record Scores(float[][] weights, boolean[][] kept) {
        static final int PRUNED = -1;

        static Scores of(Weights weights, Mask mask) {
            List<String> names = List.copyOf(mask.tensorNames());
            return new Scores(names.stream().map(n -> weights.get(n).values()).toArray(float[][]::new),
                    names.stream().map(mask::bitsUnsafe).toArray(boolean[][]::new));
        }

        static int key(float weight, boolean kept) {
            int magnitude = Float.floatToRawIntBits(weight) & 0x7fffffff;
            return kept ? magnitude : PRUNED;
        }

        static float toFloat(int key) {
            return key == PRUNED ? -1f : Float.intBitsToFloat(key);
        }

        long size() {
            long n = 0;
            for (float[] a : weights) {
                n += a.length;
            }
            return n;
        }

        int[] flatten() {
            int[] out = new int[Math.toIntExact(size())];
            int at = 0;
            for (int a = 0; a < weights.length; a++) {
                float[] w = weights[a];
                boolean[] k = kept[a];
                for (int i = 0; i < w.length; i++) {
                    out[at++] = key(w[i], k[i]);
                }
            }
            return out;
        }
    }

    static long prunedCount(long n, double sparsity) {
        return Math.round(sparsity * n);
    }

    /** Marks all but the {@code prune} smallest scores (over all arrays together) as kept. */
    static boolean[][] keepLargest(Scores scores, long prune) {
        float[][] weights = scores.weights();
        boolean[][] kept = new boolean[weights.length][];
        if (prune == 0) {
            for (int a = 0; a < weights.length; a++) {
                kept[a] = new boolean[weights[a].length];
                Arrays.fill(kept[a], true);
            }
            return kept;
        }
        int threshold = kthSmallest(scores, prune - 1);
        long remaining = prune;
        // Everything strictly below the threshold goes; then ties, in order, until the count is met.
        for (int a = 0; a < weights.length; a++) {
            float[] w = weights[a];
            boolean[] current = scores.kept()[a];
            boolean[] next = new boolean[w.length];
            int pruned = 0;
            for (int i = 0; i < w.length; i++) {
                boolean keep = Scores.key(w[i], current[i]) >= threshold;
                next[i] = keep;
                pruned += keep ? 0 : 1;
            }
            kept[a] = next;
            remaining -= pruned;
        }
        for (int a = 0; a < weights.length && remaining > 0; a++) {
            float[] w = weights[a];
            boolean[] current = scores.kept()[a];
            for (int i = 0; i < w.length && remaining > 0; i++) {
                if (Scores.key(w[i], current[i]) == threshold) {
                    kept[a][i] = false;
                    remaining--;
                }
            }
        }
        return kept;
    }

    /** Below this many values, selection copies them and runs quickselect directly. */
    private static final int DIRECT = 1 << 17;
    private static final int SAMPLE = 1 << 16;

    /**
     * The k-th smallest (0-based) score key, exactly, without copying the scores.
     * Large inputs use sampling (Floyd and Rivest's idea): a seeded sample's order statistics
     * bound the k-th key from both sides, one pass counts the keys below the window and
     * copies those inside it (about 2% of them at 90% sparsity), and quickselect finishes on
     * that copy. If the window misses (probability far below 1e-9) it selects over a full copy
     * instead.
     */
    static int kthSmallest(Scores scores, long k) {
        long n = scores.size();
        if (n <= DIRECT) {
            return kthSmallest(scores.flatten(), k);
        }
        float[][] weights = scores.weights();
        boolean[][] kept = scores.kept();
        int[] sample = new int[SAMPLE];
        SplittableRandom random = new SplittableRandom(n * 31 + k);
        int array = 0;
        long offset = 0; // global index of weights[array][0]
        for (int j = 0; j < SAMPLE; j++) {
            long index = (long) ((j + random.nextDouble()) * n / SAMPLE);
            while (index >= offset + weights[array].length) {
                offset += weights[array].length;
                array++;
            }
            int i = (int) (index - offset);
            sample[j] = Scores.key(weights[array][i], kept[array][i]);
        }
        // The k-th key's rank in the sample is binomial(SAMPLE, p): 8 standard deviations either
        // side (plus a few ranks where p is near 0 or 1) hold it but for odds far below 1e-9.
        double p = (k + 0.5) / n;
        double margin = 8 * Math.sqrt(SAMPLE * p * (1 - p)) + 16;
        int loRank = (int) Math.max(0, Math.floor(p * SAMPLE - margin));
        int hiRank = (int) Math.min(SAMPLE - 1, Math.ceil(p * SAMPLE + margin));
        int lo = kthSmallest(sample, loRank); // partitions: the ranks above loRank lie after it
        int span = kthSmallest(Arrays.copyOfRange(sample, loRank, SAMPLE), hiRank - loRank) - lo;
        Window window = new Window((int) Math.min(n, 2.5 * margin * n / SAMPLE + 1024));
        for (int a = 0; a < weights.length; a++) {
            window.count(weights[a], kept[a], lo, span);
        }
        if (k >= window.below && k < window.below + window.size) {
            return kthSmallest(Arrays.copyOf(window.keys, window.size), k - window.below);
        }
        return kthSmallest(scores.flatten(), k);
    }

    /** The counting pass's state: the keys inside [lo, lo + span] so far, and how many lay below. */
    private static final class Window {
        int[] keys;
        int size;
        long below;

        Window(int capacity) {
            keys = new int[capacity];
        }

        /**
         * One tensor's part of the pass: a method of its own, so that the JIT compiles this loop
         * alone and alike in every run (inlined into the loop over tensors its speed varied by a
         * third between JVMs).
         */
        void count(float[] w, boolean[] m, int lo, int span) {
            int belowHere = 0;
            for (int i = 0; i < w.length; i++) {
                int key = Scores.key(w[i], m[i]);
                // Keys lie in [-1, 2^31), so key - lo cannot overflow: its sign bit says "below".
                belowHere += (key - lo) >>> 31;
                if (Integer.compareUnsigned(key - lo, span) <= 0) { // lo <= key <= lo + span, one branch, rarely taken
                    if (size == keys.length) {
                        keys = Arrays.copyOf(keys, 2 * keys.length);
                    }
                    keys[size++] = key;
                }
            }
            below += belowHere;
        }
    }

    /**
     * The k-th smallest value (0-based) by iterative quickselect with median-of-three pivots;
     * reorders {@code values}.
     */
    static int kthSmallest(int[] values, long k) {
        int lo = 0;
        int hi = values.length - 1;
        int target = Math.toIntExact(k);
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int pivot = medianOfThree(values[lo], values[mid], values[hi]);
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
                    int t = values[i];
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

    private static int medianOfThree(int a, int b, int c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
