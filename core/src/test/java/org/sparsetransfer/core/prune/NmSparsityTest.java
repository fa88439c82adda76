package org.sparsetransfer.core.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;

class NmSparsityTest {
    private final Weights weights = new Weights(ordered(
            "conv", Synthetic.gaussian(1, 8, 4, 3, 3),
            "conv8", Synthetic.gaussian(2, 8, 8, 3, 3),
            "fc", Synthetic.gaussian(3, 10, 16),
            "depthwise", Synthetic.gaussian(4, 8, 1, 3, 3),
            "odd", Synthetic.gaussian(5, 8, 3, 3, 3),
            "bias", Synthetic.gaussian(6, 10)));

    @Test
    void everyGroupOfEveryEligibleTensorKeepsExactlyN() {
        Mask dense = Mask.dense(weights, weights.tensors().keySet());
        for (int m : new int[] {4, 8}) {
            for (double s : m == 4 ? new double[] {0.5, 0.75} : new double[] {0.5, 0.75, 0.875}) {
                Mask mask = NmSparsity.prune(weights, dense, s, m);
                assertTrue(NmSparsity.holds(mask, weights, s, m), m + " " + s);
                int keep = (int) Math.round((1 - s) * m);
                for (String name : mask.tensorNames()) {
                    if (NmSparsity.exclusion(weights.get(name).shape(), m) != null) {
                        continue;
                    }
                    boolean[] bits = mask.bits(name);
                    for (int start = 0; start < bits.length; start += m) {
                        int kept = 0;
                        for (int i = start; i < start + m; i++) {
                            kept += bits[i] ? 1 : 0;
                        }
                        assertEquals(keep, kept, name + " group at " + start + ", M = " + m + ", s = " + s);
                    }
                }
            }
        }
    }

    @Test
    void keptWeightsAreEachGroupsLargestWithPrunedOnesLast() {
        Mask current = randomMask(11, 0.3);
        for (int m : new int[] {4, 8}) {
            for (double s : new double[] {0.5, 0.75}) {
                Mask mask = NmSparsity.prune(weights, current, s, m);
                int keep = (int) Math.round((1 - s) * m);
                for (String name : List.of("conv", "conv8", "fc")) {
                    if (NmSparsity.exclusion(weights.get(name).shape(), m) != null) {
                        continue;
                    }
                    float[] w = weights.get(name).values();
                    boolean[] before = current.bits(name);
                    boolean[] bits = mask.bits(name);
                    for (int start = 0; start < w.length; start += m) {
                        final int from = start;
                        // Brute force: sort the group by score (|w|, or -1 if pruned) descending, index ascending.
                        int[] expected = IntStream.range(from, from + m).boxed()
                                .sorted(Comparator.<Integer>comparingDouble(i -> before[i] ? -Math.abs(w[i]) : 1.0)
                                        .thenComparingInt(i -> i))
                                .limit(keep).mapToInt(Integer::intValue).sorted().toArray();
                        int[] actual = IntStream.range(from, from + m).filter(i -> bits[i]).toArray();
                        assertArrayEquals(expected, actual, name + " group at " + start);
                    }
                }
            }
        }
    }

    @Test
    void excludedTensorsKeepTheirCurrentBits() {
        Mask current = randomMask(12, 0.4);
        Mask mask = NmSparsity.prune(weights, current, 0.5, 4);
        for (String name : List.of("depthwise", "odd", "bias")) {
            assertArrayEquals(current.bits(name), mask.bits(name), name);
        }
        assertEquals(current.tensorNames(), mask.tensorNames());
        // conv8's input of 72 is a multiple of 4 and 8, conv's 36 of 4 only.
        assertEquals("input size 36 is not a multiple of 8", NmSparsity.exclusion(weights.get("conv").shape(), 8));
    }

    @Test
    void exclusionsNameTheReason() {
        assertEquals("not a matrix", NmSparsity.exclusion(new long[] {10}, 4));
        assertEquals("depthwise convolution", NmSparsity.exclusion(new long[] {8, 1, 3, 3}, 4));
        assertEquals("input size 27 is not a multiple of 4", NmSparsity.exclusion(new long[] {8, 3, 3, 3}, 4));
        assertNull(NmSparsity.exclusion(new long[] {8, 4, 3, 3}, 4));
        assertNull(NmSparsity.exclusion(new long[] {10, 16}, 8));
        // Sizes that overflow an int are computed in long.
        assertNull(NmSparsity.exclusion(new long[] {2, 1L << 20, 1L << 12}, 4));
    }

    @Test
    void requireTargetRefusesSparsitiesThePatternCannotMeet() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> NmSparsity.requireTarget(0.6, 4, "pruning.nm"));
        assertTrue(e.getMessage().contains("0.6"), e.getMessage());
        assertTrue(e.getMessage().contains("pruning.nm"), e.getMessage());
        assertTrue(e.getMessage().contains("0.25, 0.5, 0.75 for M = 4"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> NmSparsity.requireTarget(0.0, 4, "x"));
        assertThrows(InvalidInputException.class, () -> NmSparsity.requireTarget(1.0, 4, "x"));
        assertThrows(InvalidInputException.class, () -> NmSparsity.requireTarget(Double.NaN, 4, "x"));
        assertThrows(InvalidInputException.class, () -> NmSparsity.requireTarget(0.5, 1, "x"));
        NmSparsity.requireTarget(0.5, 4, "x");
        NmSparsity.requireTarget(0.75, 4, "x");
        NmSparsity.requireTarget(0.875, 8, "x");
        NmSparsity.requireTarget(1.0 / 3, 3, "x");
        assertEquals(2, NmSparsity.keptPerGroup(0.5, 4));
        assertEquals(1, NmSparsity.keptPerGroup(0.875, 8));
    }

    @Test
    void tiesKeepTheLowerIndexDeterministically() {
        float[] ones = new float[16 * 2];
        Arrays.fill(ones, 1f);
        for (int i = 1; i < ones.length; i += 2) {
            ones[i] = -1f; // same magnitude, other sign
        }
        Weights tied = new Weights(Map.of("fc", new Tensor(new long[] {2, 16}, ones)));
        Mask dense = Mask.dense(tied, tied.tensors().keySet());
        Mask mask = NmSparsity.prune(tied, dense, 0.5, 4);
        boolean[] bits = mask.bits("fc");
        for (int i = 0; i < bits.length; i++) {
            assertEquals(i % 4 < 2, bits[i], "index " + i);
        }
        assertEquals(mask, NmSparsity.prune(tied, dense, 0.5, 4));
    }

    @Test
    void holdsRejectsABrokenGroup() {
        Mask mask = NmSparsity.prune(weights, Mask.dense(weights, weights.tensors().keySet()), 0.5, 4);
        Map<String, boolean[]> bits = new LinkedHashMap<>();
        for (String name : mask.tensorNames()) {
            bits.put(name, mask.bits(name));
        }
        boolean[] fc = bits.get("fc");
        int flip = fc[0] ? IntStream.range(0, 4).filter(i -> !fc[i]).findFirst().getAsInt() : 0;
        fc[flip] = true; // three of four kept
        assertFalse(NmSparsity.holds(new Mask(bits), weights, 0.5, 4));
        // Excluded tensors are not checked.
        assertTrue(NmSparsity.holds(mask, weights, 0.5, 4));
    }

    private Mask randomMask(long seed, double pruned) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, boolean[]> bits = new LinkedHashMap<>();
        weights.tensors().forEach((name, t) -> {
            boolean[] b = new boolean[t.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = random.nextDouble() >= pruned;
            }
            bits.put(name, b);
        });
        return new Mask(bits);
    }

    private static Map<String, Tensor> ordered(Object... nameThenTensor) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < nameThenTensor.length; i += 2) {
            out.put((String) nameThenTensor[i], (Tensor) nameThenTensor[i + 1]);
        }
        return out;
    }
}
