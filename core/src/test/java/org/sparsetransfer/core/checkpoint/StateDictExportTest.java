package org.sparsetransfer.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.checkpoint.pytorch.PyTorchFiles;
import org.sparsetransfer.core.checkpoint.pytorch.TorchSaveWriter;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.MobileNetV1;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.SmallCnn;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;

/**
 * Export and the published layouts without PyTorch (PyTorchReferenceTest checks both against it):
 * every layout round-trips to the same weights and mask, MobileNetV1 has Distiller's keys, the
 * small CNN exports under its own names, and an export's architecture is recognized from its
 * tensors.
 */
class StateDictExportTest {
    @TempDir
    Path dir;

    private record Model(Weights weights, Mask mask) {}

    private static Model sparse(Architecture architecture, int classes, double sparsity) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes, 3, Device.cpu())) {
                Weights w = net.weights();
                Mask dense = Mask.dense(w, net.prunableTensors(new PrunablePolicy(true, false)));
                return new Model(w, new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(w, dense, sparsity));
            }
        });
    }

    @Test
    void mobileNetHasDistillersKeysAndEveryLayoutImportsToTheSameCheckpoint() throws Exception {
        MobileNetV1 mobilenet = new MobileNetV1(224);
        Map<String, String> keys = mobilenet.referenceKeys(1000);
        List<String> values = List.copyOf(keys.values());
        assertEquals(List.of("model.0.0.weight", "model.0.1.weight", "model.0.1.bias", "model.0.1.running_mean", "model.0.1.running_var",
                "model.1.0.weight"), values.subList(0, 6));
        assertTrue(values.containsAll(List.of("model.1.3.weight", "model.1.4.running_var", "model.13.0.weight", "model.13.4.bias",
                "fc.weight", "fc.bias")), values.toString());
        assertEquals(2 + 27 * 5, keys.size(), "27 convolutions with a BatchNorm each (4 tensors), and the head");

        Model m = sparse(mobilenet, 1000, 0.7);
        for (SyntheticCheckpoints.Layout layout : SyntheticCheckpoints.Layout.values()) {
            Path file = dir.resolve(layout + ".pth");
            try (OutputStream out = Files.newOutputStream(file)) {
                TorchSaveWriter.write(SyntheticCheckpoints.inLayout(mobilenet, m.weights(), m.mask(), layout), out);
            }
            StateDictImport.Imported imported = StateDictImport.read(mobilenet, null, file, layout.toString());
            assertEquals(m.mask().apply(m.weights()), imported.weights(), layout.toString());
            assertEquals(m.mask(), imported.mask(), layout.toString());
            assertEquals(0.7, imported.mask().sparsity(), 1e-4, layout.toString());
        }
        Path safetensors = dir.resolve("m.safetensors");
        PyTorchFiles.writeStateDict(StateDictExport.toReference(mobilenet, m.weights(), m.mask()), safetensors);
        assertEquals(m.mask(), StateDictImport.read(mobilenet, 1000, safetensors, "safetensors").mask());
    }

    @Test
    void theSmallCnnExportsUnderItsOwnNamesAndEveryModelIsRecognizedByItsTensors() throws Exception {
        SmallCnn cnn = new SmallCnn();
        Model m = sparse(cnn, 10, 0.5);
        Map<String, TorchTensor> exported = StateDictExport.toReference(cnn, m.weights(), m.mask());
        assertEquals(m.weights().tensors().keySet(), exported.keySet(), "the project's own parameter names");
        Path file = dir.resolve("cnn.pth");
        PyTorchFiles.writeStateDict(exported, file);
        StateDictImport.Imported back = StateDictImport.read(cnn, 10, file, "cnn.pth");
        assertEquals(m.mask().apply(m.weights()), back.weights());
        assertEquals(m.mask(), back.mask());
        assertEquals("small_cnn", StateDictExport.architectureOf(m.weights(), 224).name());
        for (Architecture known : Architecture.KNOWN) {
            Weights w = TorchThreads.exclusive(() -> {
                try (Network net = Network.classifier(known, 5, 0, Device.cpu())) {
                    return net.weights();
                }
            });
            assertEquals(known.name(), StateDictExport.architectureOf(w, 224).name());
        }
    }
}
