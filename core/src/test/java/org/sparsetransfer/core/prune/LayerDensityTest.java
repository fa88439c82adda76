package org.sparsetransfer.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.LayerDensity.Distribution;

class LayerDensityTest {
    private static final double[] SPARSITIES = {0.0, 0.3, 0.5, 0.8, 0.9, 0.95, 0.99};
    private final Map<String, long[]> resnet = shapes(
            "conv1", new long[] {16, 3, 3, 3},
            "conv2", new long[] {32, 16, 3, 3},
            "conv3", new long[] {64, 32, 3, 3},
            "fc", new long[] {10, 64});

    @Test
    void totalsAreExactForBothDistributions() {
        long n = resnet.values().stream().mapToLong(LayerDensityTest::size).sum();
        for (Distribution d : Distribution.values()) {
            for (double s : SPARSITIES) {
                Map<String, Long> kept = LayerDensity.keptCounts(resnet, s, d);
                assertEquals(List.copyOf(resnet.keySet()), List.copyOf(kept.keySet()));
                assertEquals(Math.round((1 - s) * n), kept.values().stream().mapToLong(Long::longValue).sum(), d + " " + s);
                kept.forEach((name, k) -> assertTrue(k >= 1 && k <= size(resnet.get(name)), name + " keeps " + k));
            }
        }
    }

    @Test
    void uniformKeepsTheSameFractionOfEveryLayer() {
        for (double s : SPARSITIES) {
            Map<String, Long> kept = LayerDensity.keptCounts(resnet, s, Distribution.UNIFORM);
            for (String name : resnet.keySet()) {
                double exact = (1 - s) * size(resnet.get(name));
                assertTrue(Math.abs(kept.get(name) - exact) < 1, name + " at " + s + ": " + kept.get(name) + " vs " + exact);
                assertEquals(1 - s, LayerDensity.densities(resnet, s, Distribution.UNIFORM).get(name), 1e-15);
            }
        }
        assertEquals(Map.of("conv1", 43L, "conv2", 461L, "conv3", 1843L, "fc", 64L),
                LayerDensity.keptCounts(resnet, 0.9, Distribution.UNIFORM));
    }

    @Test
    void erkDensitiesFollowTheFormulaAndShrinkWithLayerSize() {
        for (double s : new double[] {0.8, 0.9, 0.95, 0.99}) {
            Map<String, Double> density = LayerDensity.densities(resnet, s, Distribution.ERK);
            Map<String, Long> kept = LayerDensity.keptCounts(resnet, s, Distribution.ERK);
            assertTrue(density.get("conv1") > density.get("conv2") && density.get("conv2") > density.get("conv3"), density.toString());
            Double eps = null;
            for (String name : resnet.keySet()) {
                long[] shape = resnet.get(name);
                double d = density.get(name);
                assertTrue(d > 0 && d <= 1, name + " " + d);
                // Rounding to whole counts moves a layer by less than one weight either way.
                assertTrue(Math.abs(kept.get(name) - d * size(shape)) < 1, name + " at " + s);
                if (d < 1) {
                    double ratio = d / raw(shape);
                    if (eps == null) {
                        eps = ratio;
                    }
                    assertEquals(eps, ratio, 1e-12 * eps, name + " at " + s);
                }
            }
        }
    }

    @Test
    void aSmallHighCapacityLayerGoesDenseAndTheRestStillMeetTheTarget() {
        // At 90% the classifier's (10 + 64) / 640 would give it density 1.09: it goes dense.
        Map<String, Double> density = LayerDensity.densities(resnet, 0.9, Distribution.ERK);
        Map<String, Long> kept = LayerDensity.keptCounts(resnet, 0.9, Distribution.ERK);
        assertEquals(1.0, density.get("fc"));
        assertEquals(640L, kept.get("fc"));
        assertEquals(Math.round(0.1 * 24112), kept.values().stream().mapToLong(Long::longValue).sum());
        double keptReal = density.entrySet().stream().mapToDouble(e -> e.getValue() * size(resnet.get(e.getKey()))).sum();
        assertEquals(0.1 * 24112, keptReal, 1e-6);

        // A tiny layer is dense at any sparsity; more layers go dense as the target relaxes.
        Map<String, long[]> withTiny = new LinkedHashMap<>(resnet);
        withTiny.put("tiny", new long[] {2, 2});
        for (double s : new double[] {0.5, 0.8, 0.95}) {
            Map<String, Long> k = LayerDensity.keptCounts(withTiny, s, Distribution.ERK);
            assertEquals(4L, k.get("tiny"), "at " + s);
            assertEquals(Math.round((1 - s) * (24112 + 4)), k.values().stream().mapToLong(Long::longValue).sum());
        }
        Map<String, Double> loose = LayerDensity.densities(resnet, 0.3, Distribution.ERK);
        assertEquals(1.0, loose.get("conv1"));
        assertEquals(1.0, loose.get("fc"));
    }

    @Test
    void zeroSparsityKeepsEverythingAndOutOfRangeIsRefused() {
        for (Distribution d : Distribution.values()) {
            LayerDensity.keptCounts(resnet, 0.0, d).forEach((name, k) -> assertEquals(size(resnet.get(name)), k));
            for (double bad : new double[] {1.0, -0.1, 1.5, Double.NaN}) {
                assertThrows(IllegalArgumentException.class, () -> LayerDensity.keptCounts(resnet, bad, d));
            }
        }
    }

    @Test
    void randomMaskKeepsExactCountsAndIsSeeded() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        resnet.forEach((name, shape) -> tensors.put(name, Synthetic.gaussian(name.hashCode(), shape)));
        tensors.put("bias", Synthetic.gaussian(9, 10));
        Weights weights = new Weights(tensors);
        Set<String> prunable = resnet.keySet();
        for (double s : new double[] {0.2, 0.9}) { // both sides of half, where it draws the pruned ones instead
            Map<String, Long> kept = LayerDensity.keptCounts(resnet, s, Distribution.ERK);
            Mask mask = LayerDensity.randomMask(weights, prunable, kept, 42);
            assertEquals(List.copyOf(prunable), List.copyOf(mask.tensorNames()));
            for (String name : prunable) {
                long ones = 0;
                for (boolean b : mask.bits(name)) {
                    ones += b ? 1 : 0;
                }
                assertEquals(kept.get(name), ones, name);
            }
            assertEquals(mask, LayerDensity.randomMask(weights, prunable, kept, 42));
            assertNotEquals(mask, LayerDensity.randomMask(weights, prunable, kept, 43));
        }
        assertThrows(IllegalArgumentException.class,
                () -> LayerDensity.randomMask(weights, prunable, Map.of("conv1", 1L), 1));
        assertThrows(IllegalArgumentException.class,
                () -> LayerDensity.randomMask(weights, Set.of("fc"), Map.of("fc", 641L), 1));
    }

    private static double raw(long[] shape) {
        long sum = 0;
        for (long d : shape) {
            sum += d;
        }
        return (double) sum / size(shape);
    }

    private static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static Map<String, long[]> shapes(Object... nameThenShape) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (int i = 0; i < nameThenShape.length; i += 2) {
            out.put((String) nameThenShape[i], (long[]) nameThenShape[i + 1]);
        }
        return out;
    }
}
