package org.sparsetransfer.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;

/** Safetensors files written by DJL's encoder (an independent writer) the way torchvision's state_dict is saved: its keys, its shapes, float32. */
class StateDictImportTest {
    private static final ResNet R18 = ResNet.resnet18(32);

    @TempDir
    Path dir;

    @Test
    void aSparseTorchvisionStateDictKeepsItsValuesAndItsZerosBecomeTheMask() throws Exception {
        Weights original = randomWeights(10);
        Map<String, String> keys = R18.referenceKeys(10);
        String pruned = name(keys, "layer2.1.conv2.weight");
        Path file = write(keys, original, (name, values) -> {
            if (name.equals(pruned)) { // a sparse model: every other weight of one conv is zero
                for (int i = 0; i < values.length; i += 2) {
                    values[i] = 0f;
                }
            }
            return values;
        }, true);

        StateDictImport.Imported imported = StateDictImport.read(R18, 10, file, "r18");

        for (String name : keys.keySet()) {
            float[] expected = original.get(name).values().clone();
            if (name.equals(pruned)) {
                for (int i = 0; i < expected.length; i += 2) {
                    expected[i] = 0f;
                }
            }
            assertArrayEquals(expected, imported.weights().get(name).values(), name);
        }
        boolean[] bits = imported.mask().bits(pruned);
        assertEquals(bits.length / 2, bits.length - java.util.stream.IntStream.range(0, bits.length).filter(i -> bits[i]).count());
        assertEquals(20, imported.mask().tensorNames().size(), "every conv of the backbone is masked, the first one too");
        assertEquals(10, imported.numClasses());
        assertEquals((double) (bits.length / 2) / imported.mask().size(), imported.mask().sparsity(), 1e-9);
        // The imported weights load into the network and survive the checkpoint codec with their mask.
        byte[] payload = CheckpointCodec.encode(imported.weights(), imported.mask());
        CheckpointCodec.Decoded decoded = CheckpointCodec.decode(payload, CheckpointCodec.checksum(payload), "imported");
        assertEquals(imported.mask(), decoded.mask());
    }

    @Test
    void wrongHeadMissingKeysAndForeignFilesAreNamed() throws Exception {
        Weights weights = randomWeights(10);
        Map<String, String> keys = R18.referenceKeys(10);
        Path file = write(keys, weights, (name, values) -> values, true);
        InvalidInputException head = assertThrows(InvalidInputException.class,
                () -> StateDictImport.read(R18, 1000, file, "r18"));
        assertTrue(head.getMessage().contains("its head has 10 classes, not the 1000 given"), head.getMessage());

        Path noBn = write(keys, weights, (name, values) -> values, false);
        InvalidInputException missing = assertThrows(InvalidInputException.class,
                () -> StateDictImport.read(R18, 10, noBn, "r18"));
        assertTrue(missing.getMessage().contains("does not fit resnet18 (torchvision keys): 40 keys missing: [bn1.running_mean"),
                missing.getMessage());

        Path text = dir.resolve("notes.safetensors");
        Files.writeString(text, "not tensors");
        assertThrows(InvalidInputException.class, () -> StateDictImport.read(R18, 10, text, "notes"));
        assertThrows(InvalidInputException.class,
                () -> StateDictImport.read(R18, 10, org.sparsetransfer.core.io.FileSource.local(), dir.resolve("absent").toString()));
    }

    private static String name(Map<String, String> keys, String torchKey) {
        return keys.entrySet().stream().filter(e -> e.getValue().equals(torchKey)).findFirst().orElseThrow().getKey();
    }

    private static Weights randomWeights(int classes) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(R18, classes, 7, Device.cpu())) {
                Weights w = net.weights();
                SplittableRandom random = new SplittableRandom(3);
                Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
                // Running statistics are 0/1 after initialization: make every tensor distinct.
                w.tensors().forEach((n, t) -> {
                    float[] v = t.values().clone();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += (float) random.nextDouble(0.01, 0.1);
                    }
                    tensors.put(n, new Tensor(t.shape(), v));
                });
                return new Weights(tensors);
            }
        });
    }

    /** Saves {@code weights} under torchvision keys, plus num_batches_tracked, as PyTorch's save_file does. */
    private Path write(Map<String, String> keys, Weights weights, BiFunction<String, float[], float[]> edit, boolean runningStats)
            throws Exception {
        Path file = Files.createTempFile(dir, "resnet18", ".safetensors");
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDList list = new NDList();
            for (Map.Entry<String, String> e : keys.entrySet()) {
                if (!runningStats && e.getValue().contains("running_")) {
                    continue;
                }
                Tensor t = weights.get(e.getKey());
                NDArray a = manager.create(edit.apply(e.getKey(), t.values().clone()), new Shape(t.shape()));
                a.setName(e.getValue());
                list.add(a);
            }
            NDArray steps = manager.create(new long[] {100});
            steps.setName("bn1.num_batches_tracked");
            list.add(steps);
            try (OutputStream out = Files.newOutputStream(file)) {
                list.encode(out, NDList.Encoding.SAFETENSORS);
            }
        }
        return file;
    }
}
