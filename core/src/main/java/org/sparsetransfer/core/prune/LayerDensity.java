package org.sparsetransfer.core.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.sparsetransfer.core.model.Weights;

/**
 * How a global target sparsity is spread over layers for sparse-from-scratch training, and
 * the random sparse mask that starts it (Evci et al. 2020, "Rigging the Lottery: Making All
 * Tickets Winners", Section 3; Erdős-Rényi after Mocanu et al. 2018).
 */
public final class LayerDensity {
    /** Same sparsity in every layer, or Erdős-Rényi-Kernel: density proportional to sum(shape)/prod(shape). */
    public enum Distribution { UNIFORM, ERK }

    private LayerDensity() {}

    /**
     * Each tensor's density (fraction kept) before rounding, in {@code shapes}' order. ERK follows
     * the RigL reference (google-research/rigl, sparse_utils.get_sparsities_erdos_renyi):
     * density_l = eps * sum(shape_l) / prod(shape_l), eps solved so the kept weights total
     * (1-s)*N; while the densest layer would exceed 1 it is made dense and eps is solved again
     * over the rest. Empty tensors get density 0.
     */
    public static Map<String, Double> densities(Map<String, long[]> shapes, double sparsity, Distribution distribution) {
        requireSparsity(sparsity);
        Map<String, Double> out = new LinkedHashMap<>();
        if (distribution == Distribution.UNIFORM) {
            shapes.forEach((name, shape) -> out.put(name, size(shape) == 0 ? 0.0 : 1 - sparsity));
            return out;
        }
        Set<String> dense = new HashSet<>();
        double eps;
        while (true) {
            // rhs: the weights the non-dense layers must keep, once dense layers keep all of theirs.
            double rhs = 0;
            double divisor = 0;
            double maxRaw = 0;
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long n = size(e.getValue());
                if (n == 0) {
                    continue;
                }
                if (dense.contains(e.getKey())) {
                    rhs -= sparsity * n;
                } else {
                    rhs += (1 - sparsity) * n;
                    divisor += dimensionSum(e.getValue()); // raw_l * n_l, exactly
                    maxRaw = Math.max(maxRaw, raw(e.getValue()));
                }
            }
            eps = divisor == 0 ? 0 : rhs / divisor;
            if (eps * maxRaw <= 1) {
                break;
            }
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                if (size(e.getValue()) != 0 && !dense.contains(e.getKey()) && raw(e.getValue()) == maxRaw) {
                    dense.add(e.getKey());
                }
            }
        }
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            double density = size(e.getValue()) == 0 ? 0 : dense.contains(name) ? 1 : eps * raw(e.getValue());
            out.put(name, density);
        }
        return out;
    }

    /**
     * How many weights each tensor keeps, in {@code shapes}' order: its density times its size,
     * rounded so the total is exactly round((1-s)*N) by largest remainders (Hamilton's method;
     * equal to per-layer rounding whenever that already sums to the target, as for UNIFORM
     * usually). A layer never keeps more than its size, nor fewer than 1 while its density is
     * nonzero; only that floor can lift the total above the target, when s leaves fewer weights
     * than there are layers.
     */
    public static Map<String, Long> keptCounts(Map<String, long[]> shapes, double sparsity, Distribution distribution) {
        Map<String, Double> densities = densities(shapes, sparsity, distribution);
        List<String> names = new ArrayList<>(shapes.keySet());
        int layers = names.size();
        long[] sizes = new long[layers];
        long[] counts = new long[layers];
        long[] least = new long[layers];
        double[] remainders = new double[layers];
        long total = 0;
        for (int l = 0; l < layers; l++) {
            sizes[l] = size(shapes.get(names.get(l)));
            total = Math.addExact(total, sizes[l]);
            double exact = Math.min(sizes[l], densities.get(names.get(l)) * sizes[l]);
            double floor = Math.floor(exact);
            least[l] = exact > 0 ? 1 : 0;
            counts[l] = Math.max(least[l], (long) floor);
            remainders[l] = exact - floor;
        }
        long missing = Math.round((1 - sparsity) * total) - Arrays.stream(counts).sum();
        // Largest remainders gain first, lowest index on ties; when over, smallest remainders
        // give first, highest index on ties (so the lower index keeps more either way).
        Integer[] byRemainder = new Integer[layers];
        Arrays.setAll(byRemainder, l -> l);
        Arrays.sort(byRemainder, Comparator.<Integer>comparingDouble(l -> -remainders[l]).thenComparingInt(l -> l));
        boolean moved = true;
        while (missing > 0 && moved) {
            moved = false;
            for (int i = 0; i < layers && missing > 0; i++) {
                int l = byRemainder[i];
                if (counts[l] < sizes[l]) {
                    counts[l]++;
                    missing--;
                    moved = true;
                }
            }
        }
        moved = true;
        while (missing < 0 && moved) {
            moved = false;
            for (int i = layers - 1; i >= 0 && missing < 0; i--) {
                int l = byRemainder[i];
                if (counts[l] > least[l]) {
                    counts[l]--;
                    missing++;
                    moved = true;
                }
            }
        }
        Map<String, Long> out = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            out.put(names.get(l), counts[l]);
        }
        return out;
    }

    /**
     * RigL's random sparse initialization: in each named tensor, a uniformly random set of
     * exactly {@code kept} positions (a seeded partial Fisher-Yates shuffle). Tensors are drawn
     * in the weights' order, so the mask depends on the seed only, not on the set's iteration
     * order.
     */
    public static Mask randomMask(Weights weights, Set<String> tensors, Map<String, Long> kept, long seed) {
        for (String name : tensors) {
            weights.get(name); // fails naming the tensor if absent
        }
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, boolean[]> bits = new LinkedHashMap<>();
        for (String name : weights.tensors().keySet()) {
            if (!tensors.contains(name)) {
                continue;
            }
            int n = weights.get(name).size();
            Long count = kept.get(name);
            if (count == null || count < 0 || count > n) {
                throw new IllegalArgumentException("kept count for " + name + " must be in [0, " + n + "], got " + count);
            }
            bits.put(name, randomSubset(n, count.intValue(), random));
        }
        return new Mask(bits);
    }

    /** {@code k} of {@code n} positions set, uniformly; draws whichever of k and n - k is smaller. */
    private static boolean[] randomSubset(int n, int k, SplittableRandom random) {
        boolean minority = k <= n - k;
        int draws = minority ? k : n - k;
        boolean[] bits = new boolean[n];
        if (!minority) {
            Arrays.fill(bits, true);
        }
        int[] positions = new int[n];
        Arrays.setAll(positions, i -> i);
        for (int i = 0; i < draws; i++) {
            int j = random.nextInt(i, n);
            int chosen = positions[j];
            positions[j] = positions[i];
            positions[i] = chosen;
            bits[chosen] = minority;
        }
        return bits;
    }

    private static void requireSparsity(double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
        }
    }

    private static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static double dimensionSum(long[] shape) {
        long sum = 0;
        for (long d : shape) {
            sum += d;
        }
        return sum;
    }

    /** ERK's unnormalized density sum(shape)/prod(shape): large layers (and large kernels) get less. */
    private static double raw(long[] shape) {
        return dimensionSum(shape) / size(shape);
    }
}
