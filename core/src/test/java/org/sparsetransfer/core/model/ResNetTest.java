package org.sparsetransfer.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.train.Evaluator;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

class ResNetTest {
    @Test
    void parameterCountsMatchTorchvision() throws Exception {
        TorchThreads.exclusive(() -> {
            try (Network r18 = Network.classifier(ResNet.resnet18(224), 1000, 0, Device.cpu());
                    Network r50 = Network.classifier(ResNet.resnet50(224), 1000, 0, Device.cpu())) {
                assertEquals(11_689_512L, r18.learnableParameters());
                assertEquals(25_557_032L, r50.learnableParameters());
            }
            try (Network r18 = Network.classifier(ResNet.resnet18(32), 10, 0, Device.cpu())) {
                assertEquals(11_689_512L - 990 * 513, r18.learnableParameters(), "a 10-class head");
            }
            return null;
        });
    }

    @Test
    void everyParameterHasItsTorchvisionKeyAndShape() throws Exception {
        Map<String, String> keys = ResNet.resnet50(224).referenceKeys(1000);
        // torchvision's state_dict without the BatchNorm step counters (num_batches_tracked): 53 convs + fc, 53 BNs x 4
        assertEquals(53 + 2 + 53 * 4, keys.size());
        assertEquals(keys.size(), Set.copyOf(keys.values()).size(), "keys are distinct");
        for (String key : new String[] {"conv1.weight", "bn1.running_var", "layer1.0.downsample.0.weight",
                "layer1.0.downsample.1.running_mean", "layer3.5.conv3.weight", "layer4.2.bn3.bias", "fc.weight", "fc.bias"}) {
            assertTrue(keys.containsValue(key), key);
        }
        Map<String, String> r18 = ResNet.resnet18(224).referenceKeys(1000);
        assertEquals(20 + 1 + 1 + 20 * 4, r18.size());
        assertTrue(r18.containsValue("layer2.0.downsample.0.weight") && !r18.containsValue("layer1.0.downsample.0.weight"));
        TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(ResNet.resnet18(224), 1000, 0, Device.cpu())) {
                assertEquals(r18.keySet(), net.parameters().keySet());
                String conv = name(r18, "layer2.0.conv1.weight");
                assertEquals(new Shape(128, 64, 3, 3), net.parameters().get(conv).getArray().getShape());
                assertEquals(new Shape(1000, 512), net.parameters().get(name(r18, "fc.weight")).getArray().getShape());
                // The default policy prunes every conv but the stem, and not the head.
                Set<String> prunable = net.prunableTensors(PrunablePolicy.DEFAULT);
                assertEquals(19, prunable.size());
                assertFalse(prunable.contains(name(r18, "conv1.weight")) || prunable.contains(name(r18, "fc.weight")));
                assertTrue(prunable.contains(name(r18, "layer3.0.downsample.0.weight")));
            }
            return null;
        });
    }

    @Test
    void resnet18On32PixelImagesLearnsWithAFixedHalfMask() throws Exception {
        TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(ResNet.resnet18(32), 2, 0, Device.cpu());
                    TrainingData data = stripes(net, 128, 1);
                    TrainingData test = stripes(net, 64, 2)) {
                Set<String> prunable = net.prunableTensors(PrunablePolicy.DEFAULT);
                Mask half = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(net.weights(), Mask.dense(net.weights(), prunable), 0.5);
                net.setMask(half);
                double before = Evaluator.evaluate(net, test).top1();
                // At a peak rate of 0.02 every one of 13 init/data seeds reaches held-out accuracy 1.0 (at 0.05 one
                // seed in 11 stalled at 0.70). Chance is 0.5; 0.8 is far from both.
                new TrainingLoop(new TrainingLoop.Settings(16, 0.9f, 5e-4f, 0), TrainingLoop.Progress.SILENT)
                        .run(net, data, TrainingSchedule.fixedMask(80, TrainingSchedule.LearningRate.linear(0.02f, 0f)), null);
                double after = Evaluator.evaluate(net, test).top1();
                assertTrue(after >= 0.8 && after > before + 0.2, "test accuracy " + before + " -> " + after);
                assertEquals(half, net.mask());
                Weights w = net.weights();
                for (String tensor : half.tensorNames()) {
                    float[] v = w.get(tensor).values();
                    boolean[] kept = half.bits(tensor);
                    for (int i = 0; i < v.length; i++) {
                        assertTrue(kept[i] || v[i] == 0f, tensor + "[" + i + "] pruned but " + v[i]);
                    }
                }
            }
            return null;
        });
    }

    private static String name(Map<String, String> keys, String torchKey) {
        return keys.entrySet().stream().filter(e -> e.getValue().equals(torchKey)).findFirst().orElseThrow().getKey();
    }

    /** RGB 32x32 noise with horizontal (class 0) or vertical (class 1) stripes. */
    private static TrainingData stripes(Network net, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n * 3 * 32 * 32];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(2);
            int phase = random.nextInt(4);
            for (int c = 0; c < 3; c++) {
                for (int r = 0; r < 32; r++) {
                    for (int col = 0; col < 32; col++) {
                        int line = y[i] == 0 ? r : col;
                        x[((i * 3 + c) * 32 + r) * 32 + col] = ((line + phase) % 4 < 2 ? 1f : -1f) + (float) random.nextDouble(-0.5, 0.5);
                    }
                }
            }
        }
        NDArray inputs = net.manager().create(x, new Shape(n, 3, 32, 32));
        return TrainingData.of(inputs, y, 2);
    }
}
