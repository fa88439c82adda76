package org.sparsetransfer.core.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;

class RigLUpdateTest {
    private final Weights weights = new Weights(ordered(
            "conv", Synthetic.gaussian(1, 8, 4, 3, 3),
            "fc", Synthetic.gaussian(2, 10, 16)));
    private final Weights gradients = new Weights(ordered(
            "conv", Synthetic.gaussian(3, 8, 4, 3, 3),
            "fc", Synthetic.gaussian(4, 10, 16)));
    private final Mask mask = LayerDensity.randomMask(weights, weights.tensors().keySet(),
            Map.of("conv", 58L, "fc", 32L), 7);

    @Test
    void activeCountPerTensorIsUnchanged() {
        for (double fraction : new double[] {0.1, 0.3, 0.5, 1.0}) {
            RigLUpdate.Update update = RigLUpdate.update(weights, gradients, mask, fraction);
            for (String name : mask.tensorNames()) {
                assertEquals(active(mask.bits(name)).size(), active(update.mask().bits(name)).size(), name + " at " + fraction);
            }
        }
    }

    @Test
    void dropsTheSmallestActiveWeightsAndGrowsTheLargestGradients() {
        double fraction = 0.3;
        RigLUpdate.Update update = RigLUpdate.update(weights, gradients, mask, fraction);
        for (String name : mask.tensorNames()) {
            float[] w = weights.get(name).values();
            float[] g = gradients.get(name).values();
            boolean[] before = mask.bits(name);
            Set<Integer> was = active(before);
            int k = (int) Math.floor(fraction * was.size());
            // Brute force: the k smallest |w| among the active (higher index first on ties) ...
            Set<Integer> dropped = was.stream()
                    .sorted(Comparator.<Integer>comparingDouble(i -> Math.abs(w[i])).thenComparing(Comparator.reverseOrder()))
                    .limit(k).collect(Collectors.toSet());
            Set<Integer> survivors = new HashSet<>(was);
            survivors.removeAll(dropped);
            // ... then the k largest |g| among everything else, dropped ones included.
            Set<Integer> grown = IntStream.range(0, w.length).boxed().filter(i -> !survivors.contains(i))
                    .sorted(Comparator.<Integer>comparingDouble(i -> -Math.abs(g[i])).thenComparingInt(i -> i))
                    .limit(k).collect(Collectors.toSet());
            Set<Integer> expected = new HashSet<>(survivors);
            expected.addAll(grown);
            assertEquals(expected, active(update.mask().bits(name)), name);

            // Every survivor outweighs every dropped weight; every grown one outranks every candidate left out.
            double largestDropped = dropped.stream().mapToDouble(i -> Math.abs(w[i])).max().orElse(-1);
            assertTrue(survivors.stream().allMatch(i -> Math.abs(w[i]) >= largestDropped), name);
            double smallestGrown = grown.stream().mapToDouble(i -> Math.abs(g[i])).min().orElse(Double.MAX_VALUE);
            assertTrue(IntStream.range(0, w.length).filter(i -> !survivors.contains(i) && !grown.contains(i))
                    .allMatch(i -> Math.abs(g[i]) <= smallestGrown), name);

            Set<Integer> fresh = active(update.grown().bits(name));
            Set<Integer> newlyActive = new HashSet<>(grown);
            newlyActive.removeAll(was);
            assertEquals(newlyActive, fresh, name);
        }
    }

    @Test
    void grownMaskIsDisjointFromThePreviousOneAndInsideTheNewOne() {
        RigLUpdate.Update update = RigLUpdate.update(weights, gradients, mask, 0.5);
        assertEquals(mask.tensorNames(), update.grown().tensorNames());
        long grownCount = 0;
        for (String name : mask.tensorNames()) {
            boolean[] before = mask.bits(name);
            boolean[] after = update.mask().bits(name);
            boolean[] grown = update.grown().bits(name);
            for (int i = 0; i < before.length; i++) {
                assertFalse(grown[i] && before[i], name + " " + i);
                assertTrue(!grown[i] || after[i], name + " " + i);
                assertEquals(after[i] && !before[i], grown[i], name + " " + i);
                grownCount += grown[i] ? 1 : 0;
            }
        }
        assertTrue(grownCount > 0);
    }

    @Test
    void aJustDroppedWeightMayBeRegrownAndIsNotReportedAsGrown() {
        // Four active weights; the smallest (index 0) has by far the largest gradient.
        float[] w = {0.01f, 1f, 2f, 3f, 0f, 0f, 0f, 0f};
        float[] g = {9f, 0f, 0f, 0f, 1f, 0.5f, 0.2f, 0.1f};
        Weights ws = new Weights(Map.of("t", new Tensor(new long[] {2, 4}, w)));
        Weights gs = new Weights(Map.of("t", new Tensor(new long[] {2, 4}, g)));
        Mask m = new Mask(Map.of("t", new boolean[] {true, true, true, true, false, false, false, false}));
        RigLUpdate.Update update = RigLUpdate.update(ws, gs, m, 0.5);
        // Drops 0 and 1, regrows 0 (just dropped) and 4.
        assertArrayEquals(new boolean[] {true, false, true, true, true, false, false, false}, update.mask().bits("t"));
        assertArrayEquals(new boolean[] {false, false, false, false, true, false, false, false}, update.grown().bits("t"));
    }

    @Test
    void swapCountRoundsDownAsTheReferenceCodeTruncates() {
        // Ten active, fraction 0.25: floor(2.5) = 2 swaps. Gradients favour the inactive ones, so none regrows.
        float[] w = new float[20];
        float[] g = new float[20];
        boolean[] bits = new boolean[20];
        for (int i = 0; i < 10; i++) {
            bits[i] = true;
            w[i] = i + 1;
            g[10 + i] = 10 - i;
        }
        Weights ws = new Weights(Map.of("t", new Tensor(new long[] {4, 5}, w)));
        Weights gs = new Weights(Map.of("t", new Tensor(new long[] {4, 5}, g)));
        RigLUpdate.Update update = RigLUpdate.update(ws, gs, new Mask(Map.of("t", bits)), 0.25);
        assertEquals(Set.of(2, 3, 4, 5, 6, 7, 8, 9, 10, 11), active(update.mask().bits("t")));
        assertEquals(Set.of(10, 11), active(update.grown().bits("t")));
    }

    @Test
    void tiesDropTheHigherIndexAndGrowTheLowerIndex() {
        float[] w = new float[8];
        Arrays.fill(w, 0, 4, 1f);
        float[] g = new float[8];
        Arrays.fill(g, 1f);
        Weights ws = new Weights(Map.of("t", new Tensor(new long[] {2, 4}, w)));
        Weights gs = new Weights(Map.of("t", new Tensor(new long[] {2, 4}, g)));
        Mask m = new Mask(Map.of("t", new boolean[] {true, true, true, true, false, false, false, false}));
        RigLUpdate.Update update = RigLUpdate.update(ws, gs, m, 0.5);
        // Drops 3 and 2; all gradients tie, so the lowest candidates (2 and 3) come straight back.
        assertEquals(m, update.mask());
        assertEquals(Set.of(), active(update.grown().bits("t")));
        assertEquals(update.mask(), RigLUpdate.update(ws, gs, m, 0.5).mask());
    }

    @Test
    void fractionZeroChangesNothing() {
        RigLUpdate.Update update = RigLUpdate.update(weights, gradients, mask, 0.0);
        assertEquals(mask, update.mask());
        assertEquals(0, mask.size() - update.grown().prunedCount());
        assertThrows(IllegalArgumentException.class, () -> RigLUpdate.update(weights, gradients, mask, -0.1));
        assertThrows(IllegalArgumentException.class, () -> RigLUpdate.update(weights, gradients, mask, 1.1));
    }

    @Test
    void dropFractionDecaysByCosine() {
        assertEquals(0.3, RigLUpdate.dropFraction(0.3, 0, 1000), 1e-15);
        assertEquals(0.15, RigLUpdate.dropFraction(0.3, 500, 1000), 1e-15);
        assertEquals(0.15 * (1 + Math.cos(Math.PI / 4)), RigLUpdate.dropFraction(0.3, 250, 1000), 1e-15);
        assertEquals(0.0, RigLUpdate.dropFraction(0.3, 1000, 1000));
        assertEquals(0.0, RigLUpdate.dropFraction(0.3, 5000, 1000));
        assertTrue(RigLUpdate.dropFraction(0.3, 999, 1000) > 0);
    }

    private static Set<Integer> active(boolean[] bits) {
        return IntStream.range(0, bits.length).filter(i -> bits[i]).boxed().collect(Collectors.toSet());
    }

    private static Map<String, Tensor> ordered(Object... nameThenTensor) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < nameThenTensor.length; i += 2) {
            out.put((String) nameThenTensor[i], (Tensor) nameThenTensor[i + 1]);
        }
        return out;
    }
}
